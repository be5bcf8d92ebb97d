"""Stages timed from Airflow's task events (recon.ops.listener): check_sources, the dbt task group, the cross-model
tests, summary, alert_breaks, sensors... every task of a recon DAG whose code does not record itself.

Each task's latest attempt is kept in `pipeline_run_tasks`; the stage's row in `pipeline_runs` is derived from the
tasks of the stage (a task group, e.g. `dbt`, is one stage: its first task's start to its last task's end).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Iterable

RUNNING, SUCCESS, FAILED, UP_FOR_RETRY, SKIPPED = "running", "success", "failed", "up_for_retry", "skipped"


@dataclass(frozen=True)
class TaskEvent:
    dag_id: str
    run_id: str
    task_id: str
    try_number: int
    state: str  # running, success, failed, up_for_retry, skipped
    at: datetime  # naive UTC: the task's start for `running`, its end otherwise
    stage_size: int  # how many tasks the DAG has in this stage (1, or the task group's)
    business_date: date | None = None
    error: str | None = None

    @property
    def stage(self) -> str:
        return stage_of(self.task_id)


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    try_number: int
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = None


@dataclass(frozen=True)
class StageSummary:
    status: str
    tasks: int
    try_number: int
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None
    detail: str | None


def stage_of(task_id: str) -> str:
    """A task's stage: its top-level task group (`dbt.fct_x_run` -> `dbt`), else the task itself."""
    return task_id.split(".", 1)[0]


def apply_event(row: TaskRow | None, event: TaskEvent) -> TaskRow:
    """A task's row after an event. A later try (retry, cleared task) starts the row again; a sensor that
    reschedules or a deferred task resuming reports `running` again in the same try and keeps its first start."""
    if row is None or event.try_number > row.try_number:
        row = TaskRow(task_id=event.task_id, try_number=event.try_number, state=RUNNING, started_at=None,
                      finished_at=None)
    elif event.try_number < row.try_number:
        return row  # a late event of an older try changes nothing
    if event.state == RUNNING:
        started = event.at if row.started_at is None else min(row.started_at, event.at)
        return replace(row, state=RUNNING, started_at=started, finished_at=None, error=None)
    return replace(row, state=event.state, finished_at=event.at, error=event.error,
                   started_at=row.started_at if row.started_at is not None else event.at)


def summarize(rows: Iterable[TaskRow], stage_size: int) -> StageSummary:
    """The stage's row from its tasks' rows: failed if a task failed; running while a task runs, waits for a retry
    or has not started yet; skipped if every task skipped itself; else success."""
    rows = list(rows)
    states = [r.state for r in rows]
    if FAILED in states:
        status = FAILED
    elif any(s in (RUNNING, UP_FOR_RETRY) for s in states) or len(rows) < stage_size:
        status = RUNNING
    elif rows and all(s == SKIPPED for s in states):
        status = SKIPPED
    else:
        status = SUCCESS
    starts = [r.started_at for r in rows if r.started_at is not None]
    ends = [r.finished_at for r in rows if r.finished_at is not None]
    started = min(starts) if starts else None
    finished = max(ends) if ends and status != RUNNING else None
    seconds = round((finished - started).total_seconds(), 3) if started and finished else None
    errors = [f"{r.task_id}: {r.error}" for r in rows if r.state == FAILED and r.error]
    detail = "; ".join(errors)[:8000] if errors else (f"{len(rows)} of {stage_size} tasks" if stage_size > 1 else None)
    return StageSummary(status=status, tasks=len(rows), try_number=max((r.try_number for r in rows), default=0),
                        started_at=started, finished_at=finished, seconds=seconds, detail=detail)


_TASK_COLUMNS = "task_id, try_number, state, started_at, finished_at, error"


def record_event(cur: Any, raw_db: str, event: TaskEvent) -> StageSummary:
    """Apply the event in the caller's transaction (READ COMMITTED). The stage's row is locked first (an
    upsert takes an exclusive lock even when the row exists), so two tasks of a group finishing together update
    it one after the other, each reading every task's latest committed state."""
    cur.execute(f"INSERT INTO {raw_db}.pipeline_runs (dag_id, run_id, stage, status, tasks) VALUES (%s, %s, %s, %s, 0) "
                "ON DUPLICATE KEY UPDATE stage = stage", (event.dag_id, event.run_id, event.stage, RUNNING))
    cur.execute(f"SELECT business_date FROM {raw_db}.pipeline_runs WHERE dag_id = %s AND run_id = %s AND stage = %s",
                (event.dag_id, event.run_id, event.stage))
    known_date = cur.fetchone()[0]
    cur.execute(f"SELECT {_TASK_COLUMNS} FROM {raw_db}.pipeline_run_tasks WHERE dag_id = %s AND run_id = %s "
                "AND stage = %s", (event.dag_id, event.run_id, event.stage))
    tasks = {r[0]: TaskRow(*r) for r in cur.fetchall()}
    row = apply_event(tasks.get(event.task_id), event)
    tasks[event.task_id] = row
    cur.execute(f"REPLACE INTO {raw_db}.pipeline_run_tasks (dag_id, run_id, stage, {_TASK_COLUMNS}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (event.dag_id, event.run_id, event.stage, row.task_id, row.try_number, row.state, row.started_at,
                 row.finished_at, row.error[:8000] if row.error else None))
    summary = summarize(tasks.values(), event.stage_size)
    cur.execute(f"UPDATE {raw_db}.pipeline_runs SET business_date = %s, status = %s, try_number = %s, tasks = %s, "
                "started_at = %s, finished_at = %s, seconds = %s, detail = %s "
                "WHERE dag_id = %s AND run_id = %s AND stage = %s",
                (event.business_date or known_date, summary.status, summary.try_number, summary.tasks,
                 summary.started_at, summary.finished_at, summary.seconds, summary.detail,
                 event.dag_id, event.run_id, event.stage))
    return summary
