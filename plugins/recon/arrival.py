"""When a file source's file for a business date is expected, whether it has come, and what to say when it has
not. Pure functions (no Airflow, no database): the source YAML loader, the ingest DAG's wait step, its trigger and
the tests share them.

`expected_by: "D+1 06:00"` in a source YAML reads "the file for business date D is in `inbound/` by 06:00 UTC on
the day after D". The day offset (1 to 7) is for partners that deliver a day's file more than a day later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

DEFAULT_EXPECTED_BY = "D+1 06:00"
DEFAULT_POKE_INTERVAL_SECONDS = 300
POKE_INTERVAL_RANGE = (10, 3600)  # seconds: often enough to notice a file, rarely enough to spare S3

# The wait step's statuses in <ns>_raw.ingest_runs (step 'wait')
ON_TIME = "on_time"  # a file is under inbound/, put there no later than the expected time
LATE = "late"  # a file is under inbound/, put there after the expected time (the run goes on)
RECEIVED = "received"  # inbound/ is empty but an earlier run already received the date's files (a re-run)
WAITING = "waiting"  # no file yet, expected time still ahead: the task defers until one comes or it passes
MISSING = "missing"  # the expected time passed with no file: the task fails, reconcile reports the source missing

_SPEC = re.compile(r"^D\+([1-7]) ([01][0-9]|2[0-3]):([0-5][0-9])(?: UTC)?$")


@dataclass(frozen=True)
class ExpectedBy:
    days_after: int  # the calendar day after the business date (1 = the next day)
    at: time  # UTC

    @property
    def text(self) -> str:
        return f"D+{self.days_after} {self.at:%H:%M}"

    def deadline(self, business_date: date) -> datetime:
        """The moment (UTC) the file for `business_date` should be in the landing bucket."""
        day = business_date + timedelta(days=self.days_after)
        return datetime.combine(day, self.at, tzinfo=timezone.utc)


def parse_expected_by(value: Any) -> ExpectedBy:
    """'D+N HH:MM' (UTC, N from 1 to 7; a trailing ' UTC' is allowed). Raises ValueError saying what is accepted."""
    if not isinstance(value, str):  # YAML reads an unquoted 16:00 as the number 960 (base 60)
        raise ValueError(f"must be a quoted string like \"{DEFAULT_EXPECTED_BY}\", got {value!r}")
    match = _SPEC.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not 'D+N HH:MM' (UTC, N from 1 to 7), e.g. \"{DEFAULT_EXPECTED_BY}\" for "
                         "06:00 UTC the day after the business date")
    return ExpectedBy(int(match.group(1)), time(int(match.group(2)), int(match.group(3))))


def list_arrivals(client: Any, bucket: str, prefix: str) -> list[tuple[str, datetime]]:
    """(key, last modified) of every object under `prefix`, oldest first. `client` is a boto3 S3 client."""
    found: list[tuple[str, datetime]] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend((obj["Key"], obj["LastModified"]) for obj in page.get("Contents", []))
    return sorted(found, key=lambda item: (item[1], item[0]))


def arrival_status(first_modified: datetime, deadline: datetime) -> str:
    """on_time or late, from when the first file of the day was put in the bucket."""
    return ON_TIME if first_modified <= deadline else LATE


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def missing_message(source: str, business_date: date, expected: ExpectedBy, bucket: str, prefix: str,
                    yaml_path: str | None = None, deadline: datetime | None = None) -> str:
    """Why the wait step failed, and what to do: the task log and ingest_runs.detail carry it word for word.
    `deadline`: the one the wait used, when it differs from what `expected` gives now (the YAML was edited)."""
    where = f"s3://{bucket}/{prefix}"
    declared = f"expected_by \"{expected.text}\"" + (f" in {yaml_path}" if yaml_path else "")
    return (f"{source}: no file for business date {business_date} by its expected time "
            f"{_utc(deadline or expected.deadline(business_date))} ({declared}); nothing under {where}. "
            f"reconcile_daily reports {source} as missing for {business_date} and its items stay pending. "
            f"To fix: drop the file under {where}, then clear wait_for_file of ingest_{source} for {business_date} "
            f"(with its downstream tasks) and re-run reconcile_daily for {business_date}, or do both at once with "
            f"`recon run --date {business_date} --source {source}`. Dates reconciled since then show the file once "
            "re-run; the next daily run sees it anyway.")
