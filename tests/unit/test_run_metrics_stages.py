"""Run figures (recon.ops), without services: how a stage's row is built, how task events of a stage (a dbt task
group, retries, reschedules) fold into one row, which tasks the listener times, and the plugin's registration."""
from __future__ import annotations

import importlib.util
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest

from conftest import REPO
from recon.ops import airflow_run, listener, stages, tables
from recon.ops.tasks import TaskEvent, TaskRow, apply_event, stage_of, summarize
from recon.settings import Settings

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 8, 7, 0, 0)
DAY = date(2026, 1, 7)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _event(task_id: str, state: str, at: float, try_number: int = 1, size: int = 1, error: str | None = None
           ) -> TaskEvent:
    return TaskEvent(dag_id="reconcile_daily", run_id="scheduled__x", task_id=task_id, try_number=try_number,
                     state=state, at=_at(at), stage_size=size, business_date=DAY, error=error)


def _fold(events: list[TaskEvent]) -> dict[str, TaskRow]:
    rows: dict[str, TaskRow] = {}
    for event in events:
        rows[event.task_id] = apply_event(rows.get(event.task_id), event)
    return rows


# --- stages that record themselves --------------------------------------------------------------------------------

def test_a_stage_outside_airflow_has_no_run_id_and_is_timed_from_the_call() -> None:
    figures = stages.StageFigures(files=3, rows_landed=5, files_quarantined=1)
    row = stages.build_row("land", "ingest_stripe", DAY, "stripe", None, _at(0), _at(1.25), figures, None)
    assert (row.dag_id, row.run_id, row.stage, row.status, row.seconds) == ("ingest_stripe", None, "land", "success",
                                                                           1.25)
    assert row.try_number is None and row.figures.rows_landed == 5


def test_inside_airflow_the_row_is_the_task_run_and_starts_with_the_task() -> None:
    run = airflow_run.AirflowRun(dag_id="ingest_stripe", run_id="manual__2026-01-05", task_id="audit", try_number=2,
                                 started_at=_at(-2))
    row = stages.build_row("audit", "ignored_outside_airflow", DAY, "stripe", run, _at(0), _at(3),
                           stages.StageFigures(), None)
    assert (row.dag_id, row.run_id, row.try_number, row.started_at, row.seconds) == (
        "ingest_stripe", "manual__2026-01-05", 2, _at(-2), 5.0)


def test_an_error_or_a_failed_outcome_makes_the_stage_failed() -> None:
    errored = stages.build_row("publish", "ingest_stripe", DAY, "stripe", None, _at(0), _at(1),
                               stages.StageFigures(detail="partial"), RuntimeError("lost the connection"))
    assert errored.status == "failed"
    assert errored.figures.detail == "RuntimeError: lost the connection; partial"
    gate = stages.build_row("gate_marts", "reconcile_daily", DAY, None, None, _at(0), _at(1),
                            stages.StageFigures(failed=True, expectations_evaluated=20, expectations_failed=2), None)
    assert gate.status == "failed" and gate.figures.expectations_failed == 2


def test_the_upsert_writes_every_column_it_names() -> None:
    row = stages.build_row("discover", "ingest_ledger", DAY, "ledger", None, _at(0), _at(1),
                           stages.StageFigures(files=1, detail="x" * 10_000), None)
    sql, params = stages.upsert_sql("rtest_raw"), stages.row_params(row)
    assert sql.count("%s") == len(params)
    assert "ON DUPLICATE KEY UPDATE" in sql and "dag_id = VALUES(dag_id)" not in sql  # the key is never updated
    assert len(params[-1]) == 8000  # detail is cut to what the column shows sensibly


def test_stage_context_records_also_when_the_block_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded: list[stages.StageRow] = []
    monkeypatch.setattr(stages, "record", recorded.append)
    with pytest.raises(ValueError):
        with stages.stage("land", dag_id="ingest_stripe", business_date=DAY, source="stripe", load_id="L1") as f:
            f.files = 2
            raise ValueError("bad")
    assert recorded[0].status == "failed" and recorded[0].figures.files == 2 and recorded[0].figures.load_id == "L1"
    assert "ValueError: bad" in recorded[0].figures.detail


def test_outside_a_task_there_is_no_current_run() -> None:
    assert airflow_run.current_run() is None
    ti = SimpleNamespace(dag_id="ingest_adyen", run_id="r1", task_id="land", try_number=1,
                         start_date=datetime(2026, 1, 8, 8, 0, tzinfo=airflow_run.timezone.utc))
    run = airflow_run.run_from_context({"ti": ti, "run_id": "r1"})
    assert run is not None and run.started_at == datetime(2026, 1, 8, 8, 0)  # naive UTC, as stored


# --- stages timed from task events -------------------------------------------------------------------------------

def test_stage_is_the_top_level_task_group() -> None:
    assert stage_of("dbt.fct_transaction_reconciliation_run") == "dbt"
    assert stage_of("dbt.marts.rpt_x.build") == "dbt"
    assert stage_of("check_sources") == "check_sources"


def test_a_task_group_is_one_stage_from_its_first_start_to_its_last_end() -> None:
    events = [_event("dbt.a", "running", 0, size=3), _event("dbt.b", "running", 1, size=3),
              _event("dbt.a", "success", 4, size=3), _event("dbt.b", "success", 6, size=3)]
    partial = summarize(_fold(events).values(), 3)
    assert (partial.status, partial.tasks, partial.finished_at) == ("running", 2, None)  # dbt.c has not run yet
    done = summarize(_fold([*events, _event("dbt.c", "running", 6.5, size=3),
                            _event("dbt.c", "success", 9, size=3)]).values(), 3)
    assert (done.status, done.tasks, done.started_at, done.finished_at, done.seconds) == ("success", 3, _at(0),
                                                                                          _at(9), 9.0)


def test_a_failed_task_fails_its_stage_with_its_error() -> None:
    rows = _fold([_event("dbt.a", "running", 0, size=2), _event("dbt.a", "failed", 2, size=2, error="model broke")])
    summary = summarize(rows.values(), 2)
    assert summary.status == "failed" and summary.detail == "dbt.a: model broke"


def test_a_retry_starts_the_task_again_and_a_late_event_of_an_old_try_is_ignored() -> None:
    rows = _fold([_event("check_sources", "running", 0), _event("check_sources", "up_for_retry", 1, error="db"),
                  _event("check_sources", "running", 31, try_number=2)])
    assert summarize(rows.values(), 1).status == "running"
    rows = _fold([*[_event("check_sources", s, t, n) for s, t, n in
                    (("running", 0, 1), ("up_for_retry", 1, 1), ("running", 31, 2), ("success", 33, 2))],
                  _event("check_sources", "failed", 40, try_number=1)])
    row = rows["check_sources"]
    assert (row.try_number, row.state, row.started_at, row.finished_at) == (2, "success", _at(31), _at(33))


def test_a_rescheduled_sensor_keeps_its_first_start() -> None:
    rows = _fold([_event("wait_for_turn", "running", 0), _event("wait_for_turn", "running", 30),
                  _event("wait_for_turn", "success", 61)])
    summary = summarize(rows.values(), 1)
    assert (summary.status, summary.seconds) == ("success", 61.0)


def test_a_stage_whose_tasks_all_skipped_is_skipped() -> None:
    rows = _fold([_event("wait_for_turn", "running", 0), _event("wait_for_turn", "skipped", 1)])
    assert summarize(rows.values(), 1).status == "skipped"


# --- which tasks the listener times ------------------------------------------------------------------------------

def _ti(task_id: str, dag_id: str = "reconcile_daily", tags: tuple[str, ...] = ("recon", "reconcile"),
        task_ids: tuple[str, ...] = ("check_sources", "dbt.a_run", "dbt.b_run", "gate_marts"), state: str = "running"
        ) -> SimpleNamespace:
    dag = SimpleNamespace(tags=list(tags), task_ids=list(task_ids))
    return SimpleNamespace(task=SimpleNamespace(dag=dag), dag_id=dag_id, run_id="manual__x", task_id=task_id,
                           try_number=1, map_index=-1, start_date=_at(0), end_date=_at(2), state=state,
                           get_template_context=lambda: {"logical_date": datetime(2026, 1, 7)})


def test_the_listener_times_recon_tasks_that_do_not_record_themselves() -> None:
    event = listener.event_for(_ti("dbt.a_run"), "success")
    assert event is not None
    assert (event.stage, event.stage_size, event.at, event.business_date) == ("dbt", 2, _at(2), DAY)
    assert listener.event_for(_ti("check_sources"), "running").at == _at(0)
    assert listener.event_for(_ti("gate_marts"), "running") is None  # records itself, with its figures
    assert listener.event_for(_ti("check_sources", tags=("other",)), "running") is None  # not a recon DAG
    assert listener.event_for(SimpleNamespace(task_id="x"), "running") is None  # no DAG at hand (api-server)


def test_a_failure_with_retries_left_is_recorded_as_up_for_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded: list[TaskEvent] = []
    monkeypatch.setattr(listener, "_record", recorded.append)
    listener.on_task_instance_failed(None, _ti("check_sources", state="up_for_retry"), RuntimeError("db down"))
    listener.on_task_instance_failed(None, _ti("check_sources", state="failed"), RuntimeError("db down"))
    assert [(e.state, e.error) for e in recorded] == [("up_for_retry", "db down"), ("failed", "db down")]


def test_a_listener_problem_never_reaches_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(event: TaskEvent) -> None:
        raise OSError("warehouse unreachable")

    monkeypatch.setattr(listener, "_record", broken)
    listener.on_task_instance_success(None, _ti("summary"))  # logs a warning, raises nothing


def test_the_view_reads_the_raw_table_from_the_marts() -> None:
    sql = tables.view_sql(Settings(namespace="rtest", bucket="b"))
    assert sql == "CREATE OR REPLACE VIEW rtest_marts.rpt_pipeline_runs AS SELECT * FROM rtest_raw.pipeline_runs"
    dbt_model = (REPO / "dbt_project" / "models" / "marts" / f"{tables.VIEW}.sql").read_text()
    assert "select * from {{ source('recon_ops', 'pipeline_runs') }}" in dbt_model  # the same view, built by dbt


def test_the_plugin_registers_the_listener_the_docs_app_and_the_ui_links() -> None:
    spec = importlib.util.spec_from_file_location("recon_ops_plugin", REPO / "plugins" / "recon_ops_plugin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugin = module.ReconOpsPlugin
    assert plugin.listeners == [listener]
    assert [app["url_prefix"] for app in plugin.fastapi_apps] == ["/recon-data-docs"]
    views = {view["destination"]: view["href"] for view in plugin.external_views}
    assert views == {"nav": "recon-data-docs/site/index.html",
                     "dag_run": "recon-data-docs/runs/{DAG_ID}/{RUN_ID}"}


def test_tasks_run_with_the_listener() -> None:
    """The task runner's listener manager (what calls the hooks around every task) loads it from the plugins folder."""
    from airflow.sdk.listener import get_listener_manager

    assert listener in get_listener_manager().pm.get_plugins()
