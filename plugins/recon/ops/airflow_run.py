"""Which Airflow task instance is running this code: the identity a stage's row is recorded under. Outside Airflow
(the CLI, tests calling the steps directly) there is none, and the row is recorded without a run id."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping


@dataclass(frozen=True)
class AirflowRun:
    dag_id: str
    run_id: str
    task_id: str
    try_number: int | None
    started_at: datetime | None  # the task instance's start, naive UTC


def utc_naive(value: datetime | None) -> datetime | None:
    """UTC without tzinfo: what the warehouse stores (its sessions run in UTC, DATETIME has no zone)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def run_from_context(context: Mapping[str, Any]) -> AirflowRun | None:
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None)
    run_id = context.get("run_id") or getattr(ti, "run_id", None)
    if ti is None or not dag_id or not run_id:
        return None
    return AirflowRun(dag_id=str(dag_id), run_id=str(run_id), task_id=str(getattr(ti, "task_id", "")),
                      try_number=getattr(ti, "try_number", None),
                      started_at=utc_naive(getattr(ti, "start_date", None)))


def current_run() -> AirflowRun | None:
    """The running task instance, or None outside an Airflow task."""
    try:
        from airflow.sdk import get_current_context

        context = get_current_context()
    except Exception:  # noqa: BLE001 - no Airflow, or no task running (RuntimeError): not an Airflow run
        return None
    return run_from_context(context)
