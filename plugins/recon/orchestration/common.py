"""What the DAG builders share: schedule, the business date of a run, assets."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping

from airflow.sdk import Asset, CronDataIntervalTimetable

TASK_RETRIES = 2  # a task that failed (a lost connection, an unreachable endpoint, a killed worker) runs twice more
RETRY_DELAY_ENV = "RECON_RETRY_DELAY_SECONDS"  # default 30; the crash tests shorten it


def retry_delay() -> timedelta:
    """How long Airflow waits before a failed task's next try: long enough for a restarted database or S3
    endpoint to come back."""
    seconds = float(os.environ.get(RETRY_DELAY_ENV, "30"))
    if seconds < 0:
        raise ValueError(f"{RETRY_DELAY_ENV} must be >= 0, not {seconds}")
    return timedelta(seconds=seconds)


def default_args() -> dict[str, Any]:
    """Read when a DAG is built (parsed), so the retry delay follows the environment of the parsing process."""
    return {"owner": "recon", "retries": TASK_RETRIES, "retry_delay": retry_delay()}


DEFAULT_ARGS = default_args()  # as of import (reconcile_daily's builder uses it)


def daily_timetable(cron: str) -> CronDataIntervalTimetable:
    """Daily data intervals [D, D+1): a run's logical date is the business date, so days can be backfilled."""
    return CronDataIntervalTimetable(cron, timezone="UTC")


def start_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def business_date(context: dict[str, Any]) -> date:
    """The run's logical date. Scheduled runs and backfills have logical date = data interval start = D; a
    manual run (`airflow dags test DAG D`, the UI's trigger with a logical date) names D directly."""
    return context["logical_date"].date()


TURN_TASK_ID = "wait_for_turn"  # reconcile_daily's setup task: takes the reconcile lock, returns the run's date


def run_business_date(context: Mapping[str, Any]) -> date:
    """The date a reconcile_daily task works on: the logical date, or for an asset-triggered run (no logical date
    in Airflow 3) the date its setup task chose (recon.orchestration.run_date) and returned as XCom."""
    logical = context.get("logical_date")
    if logical is not None:
        return logical.date()
    chosen = context["ti"].xcom_pull(task_ids=TURN_TASK_ID)
    if not chosen:
        raise RuntimeError(f"this run has no logical date and {TURN_TASK_ID} chose no business date")
    return date.fromisoformat(str(chosen))


def staging_asset(source_name: str) -> Asset:
    """Emitted when a source's staging rows for a date are published."""
    return Asset(name=f"recon_staging_{source_name}", uri=f"recon://staging/{source_name}")
