"""Airflow listener, registered by plugins/recon_ops_plugin.py: records the run figures of every task of a recon DAG
(tag `recon`) whose code does not record itself (recon.ops.stages.SELF_RECORDED): reconcile_daily's check_sources,
the dbt task group, dbt_cross_model_tests, summary, alert_breaks, and any other task or sensor added later.

Airflow calls these hooks in the task's own process, before (running) and after (success, failed, skipped) it runs.
They never fail a task: Airflow logs a hook's exception, and this module turns its own problems into one warning.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from airflow.listeners import hookimpl

from recon.ops.airflow_run import utc_naive, utcnow
from recon.ops.stages import SELF_RECORDED
from recon.ops.tasks import FAILED, RUNNING, SKIPPED, SUCCESS, UP_FOR_RETRY, TaskEvent, record_event, stage_of

log = logging.getLogger(__name__)
RECON_TAG = "recon"
DEADLOCK_RETRIES = 3


def _business_date(task_instance: Any) -> date | None:
    """The run's logical date, or for an asset-triggered reconcile run the date its first task chose."""
    try:
        from recon.orchestration.common import run_business_date

        return run_business_date(task_instance.get_template_context())
    except Exception:  # noqa: BLE001 - not known yet (e.g. before wait_for_turn chose it): filled in later
        return None


def event_for(task_instance: Any, state: str, error: Any = None) -> TaskEvent | None:
    """The event to record, or None when the task is not one of ours to time."""
    task = getattr(task_instance, "task", None)
    dag = getattr(task, "dag", None)
    if dag is None or RECON_TAG not in (getattr(dag, "tags", None) or ()):
        return None
    task_id = str(task_instance.task_id)
    stage = stage_of(task_id)
    if stage in SELF_RECORDED:
        return None
    map_index = getattr(task_instance, "map_index", -1)
    if map_index is not None and map_index >= 0:
        task_id = f"{task_id}[{map_index}]"
    at = utc_naive(getattr(task_instance, "start_date", None)) if state == RUNNING else \
        utc_naive(getattr(task_instance, "end_date", None))
    return TaskEvent(dag_id=str(task_instance.dag_id), run_id=str(task_instance.run_id), task_id=task_id,
                     try_number=int(getattr(task_instance, "try_number", 1) or 1), state=state, at=at or utcnow(),
                     stage_size=sum(1 for t in dag.task_ids if stage_of(t) == stage) or 1,
                     business_date=_business_date(task_instance), error=str(error)[:2000] if error else None)


def _record(event: TaskEvent) -> None:
    import pymysql

    from recon import connections, db
    from recon.settings import load_settings

    raw_db = load_settings().raw_db
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        conn = db.connect(connections.run_log_connection(event.dag_id))
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                record_event(cur, raw_db, event)
            conn.commit()
            return
        except pymysql.err.OperationalError as exc:
            conn.rollback()
            if exc.args[0] != 1213 or attempt == DEADLOCK_RETRIES:  # 1213: deadlock, try again
                raise
        finally:
            conn.close()


def _handle(task_instance: Any, state: str, error: Any = None) -> None:
    try:
        event = event_for(task_instance, state, error)
        if event is not None:
            _record(event)
    except Exception as exc:  # noqa: BLE001 - run figures never fail or hold up a task
        log.warning("run figures of task %s not recorded in pipeline_runs: %s",
                    getattr(task_instance, "task_id", "?"), exc)


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    _handle(task_instance, RUNNING)


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    _handle(task_instance, SUCCESS)


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    state = getattr(task_instance, "state", None)  # set before the hook: failed, or up_for_retry with retries left
    _handle(task_instance, UP_FOR_RETRY if getattr(state, "value", state) == UP_FOR_RETRY else FAILED, error)


@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    _handle(task_instance, SKIPPED)
