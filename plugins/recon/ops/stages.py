"""A stage that records itself: the ingest steps (discover, land, audit, publish, archive) and the mart gate write
their own row of `pipeline_runs`, with their figures, when they finish (or fail).

    with stages.stage("land", dag_id="ingest_stripe", business_date=day, source="stripe") as figures:
        ...
        figures.rows_landed = result.rows

Inside Airflow the row is keyed by (dag_id, run_id, stage) of the running task, so a retried or cleared task
replaces its row; started_at is the task instance's start. Outside Airflow the row has no run id (one row per
call) and is timed from the call. Recording never fails the stage: a problem is logged as a warning.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Iterator

from recon.ops.airflow_run import AirflowRun, current_run, utcnow

log = logging.getLogger(__name__)

# The stages that record themselves; the listener times every other task of a recon DAG.
SELF_RECORDED = ("discover", "land", "audit", "publish", "archive", "gate_marts")
FIGURES = ("files", "rows_read", "rows_landed", "rows_published", "files_quarantined", "rows_quarantined",
           "expectations_evaluated", "expectations_failed", "data_docs_url", "load_id", "detail")


@dataclass
class StageFigures:
    """What a stage counted. None = not this stage's figure (so SUM over a run's stages counts each thing once)."""
    files: int | None = None
    rows_read: int | None = None
    rows_landed: int | None = None
    rows_published: int | None = None
    files_quarantined: int | None = None
    rows_quarantined: int | None = None
    expectations_evaluated: int | None = None
    expectations_failed: int | None = None
    data_docs_url: str | None = None
    load_id: str | None = None
    detail: str | None = None
    failed: bool = False  # the stage ran but its outcome is a failure (a failed gate), without an exception


@dataclass
class StageRow:
    dag_id: str
    run_id: str | None
    stage: str
    source: str | None
    business_date: date | None
    status: str
    try_number: int | None
    started_at: datetime
    finished_at: datetime
    seconds: float
    figures: StageFigures


def build_row(stage: str, dag_id: str, business_date: date | None, source: str | None, run: AirflowRun | None,
              started: datetime, finished: datetime, figures: StageFigures, error: BaseException | None) -> StageRow:
    """The row a finished stage records (pure)."""
    if run is not None and run.started_at is not None:
        started = min(started, run.started_at)  # the task's start: its whole run time, like the listener's rows
    if error is not None:
        message = f"{type(error).__name__}: {error}"
        figures.detail = f"{message}; {figures.detail}" if figures.detail else message
    status = "failed" if error is not None or figures.failed else "success"
    return StageRow(dag_id=run.dag_id if run else dag_id, run_id=run.run_id if run else None, stage=stage,
                    source=source, business_date=business_date, status=status,
                    try_number=run.try_number if run else None, started_at=started, finished_at=finished,
                    seconds=round(max((finished - started).total_seconds(), 0.0), 3), figures=figures)


def upsert_sql(raw_db: str) -> str:
    columns = ("dag_id", "run_id", "stage", "source", "business_date", "status", "try_number", "tasks",
               "started_at", "finished_at", "seconds", *FIGURES)
    updates = ", ".join(f"{c} = VALUES({c})" for c in columns if c not in ("dag_id", "run_id", "stage"))
    return (f"INSERT INTO {raw_db}.pipeline_runs ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON DUPLICATE KEY UPDATE {updates}")


def row_params(row: StageRow) -> tuple[Any, ...]:
    values = asdict(row.figures)
    if values["detail"]:
        values["detail"] = values["detail"][:8000]
    return (row.dag_id, row.run_id, row.stage, row.source, row.business_date, row.status, row.try_number, 1,
            row.started_at, row.finished_at, row.seconds, *(values[f] for f in FIGURES))


def record(row: StageRow) -> bool:
    """Write the row (replacing the same run's row of the stage). False, with a warning, if it could not."""
    from recon import connections, db
    from recon.settings import load_settings

    try:
        with db.transaction(connections.run_log_connection(row.dag_id)) as cur:
            cur.execute(upsert_sql(load_settings().raw_db), row_params(row))
    except Exception as exc:  # noqa: BLE001 - the figures are a report on the stage, never a reason to fail it
        log.warning("run figures of %s/%s not recorded in pipeline_runs: %s", row.dag_id, row.stage, exc)
        return False
    return True


@contextmanager
def stage(name: str, *, dag_id: str, business_date: date | None, source: str | None = None,
          load_id: str | None = None) -> Iterator[StageFigures]:
    """Time the block and record its row with the figures it filled in, also when it raises (status failed, the
    error in detail; the exception propagates). `dag_id` is the DAG the stage belongs to outside Airflow."""
    run = current_run()
    started = utcnow()
    figures = StageFigures(load_id=load_id)
    error: BaseException | None = None
    try:
        yield figures
    except BaseException as exc:
        error = exc
        raise
    finally:
        record(build_row(name, dag_id, business_date, source, run, started, utcnow(), figures, error))
