"""What the DAG builders share: schedule, the business date of a run, assets."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from airflow.sdk import Asset, CronDataIntervalTimetable

DEFAULT_ARGS = {"owner": "recon", "retries": 2, "retry_delay": timedelta(seconds=30)}


def daily_timetable(cron: str) -> CronDataIntervalTimetable:
    """Daily data intervals [D, D+1): a run's logical date is the business date, so days can be backfilled."""
    return CronDataIntervalTimetable(cron, timezone="UTC")


def start_datetime(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def business_date(context: dict[str, Any]) -> date:
    """The run's logical date. Scheduled runs and backfills have logical date = data interval start = D; a
    manual run (`airflow dags test DAG D`, the UI's trigger with a logical date) names D directly."""
    return context["logical_date"].date()


def staging_asset(source_name: str) -> Asset:
    """Emitted when a source's staging rows for a date are published."""
    return Asset(name=f"recon_staging_{source_name}", uri=f"recon://staging/{source_name}")
