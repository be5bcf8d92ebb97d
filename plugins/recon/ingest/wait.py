"""The ingest DAG's first step for a file source: is the business date's file there, and if not, until when to
wait for it. Each outcome is recorded in `<ns>_raw.ingest_runs` (step `wait`), so reconcile_daily can tell a
source that is missing for a date from one whose ingest has not run. Airflow-free: the sensor
(recon.orchestration.arrival_sensor) decides to defer or fail from what these return."""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from recon import arrival, db, paths, s3
from recon.ingest import manifest
from recon.settings import load_settings
from recon.sources import Source, get_source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str  # one of the recon.arrival statuses
    source: str
    business_date: date
    deadline: datetime
    bucket: str
    prefix: str
    keys: list[str] = field(default_factory=list)
    first_modified: datetime | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The task's XCom: JSON-able."""
        return {"status": self.status, "deadline": self.deadline.isoformat(), "keys": self.keys,
                "first_modified": self.first_modified.isoformat() if self.first_modified else None,
                "message": self.message}


def file_source(source_name: str) -> Source:
    source = get_source(source_name)
    if source.kind != "file" or source.expected_by is None:
        raise ValueError(f"{source_name} is a {source.kind} source: only file sources wait for a file")
    return source


def location(source: Source, business_date: date) -> tuple[str, str]:
    """(bucket, prefix) where the date's files are dropped."""
    return load_settings().bucket, s3.date_prefix(source.s3_prefix, business_date)


def _earlier_delivery(source: str, business_date: date) -> int:
    """Files an earlier run already received for the date (they are archived out of inbound/ by now)."""
    s = load_settings()
    with db.transaction() as cur:
        return len(manifest.rows_for_date(cur, s, source, business_date))


def _yaml_path(source: Source) -> str | None:
    """The YAML that sets expected_by, relative to the repository when it is in it (shorter in messages)."""
    if source.path is None:
        return None
    try:
        return str(source.path.resolve().relative_to(paths.repo_dir().resolve()))
    except ValueError:
        return str(source.path)


def judge(source: Source, business_date: date, found: list[tuple[str, datetime]], now: datetime,
          earlier_files: int = 0, deadline: datetime | None = None) -> Outcome:
    """What one look at the bucket means: files (on time or late), an earlier delivery (a re-run), still time to
    wait, or missing. `deadline`: the one a deferred wait polled until (default: the YAML's for the date)."""
    assert source.expected_by is not None
    deadline = deadline or source.expected_by.deadline(business_date)
    bucket, prefix = location(source, business_date)

    def outcome(status: str, message: str = "") -> Outcome:
        return Outcome(status=status, source=source.name, business_date=business_date, deadline=deadline,
                       bucket=bucket, prefix=prefix, keys=[key for key, _ in found],
                       first_modified=found[0][1] if found else None, message=message)

    if found:
        return outcome(arrival.arrival_status(found[0][1], deadline))
    if earlier_files:
        return outcome(arrival.RECEIVED, f"{earlier_files} file(s) received by an earlier run (see file_manifest)")
    if now < deadline:
        return outcome(arrival.WAITING)
    return outcome(arrival.MISSING, arrival.missing_message(source.name, business_date, source.expected_by, bucket,
                                                            prefix, _yaml_path(source), deadline))


def record(outcome: Outcome, started: float) -> None:
    detail = f"expected by {outcome.deadline:%Y-%m-%d %H:%M} UTC"
    if outcome.message:
        detail = outcome.message
    elif outcome.first_modified:
        detail += f"; first file put {outcome.first_modified:%Y-%m-%d %H:%M:%S} UTC"
    load_id = f"{outcome.source}-{outcome.business_date:%Y%m%d}-wait-{uuid.uuid4().hex[:8]}"
    with db.transaction() as cur:
        manifest.record_run(cur, load_settings(), source=outcome.source, business_date=outcome.business_date,
                            load_id=load_id, step="wait", status=outcome.status, files=len(outcome.keys),
                            detail=detail[:4000], seconds=round(time.monotonic() - started, 3))
    (log.error if outcome.status == arrival.MISSING else log.info)("%s for %s: %s (%s)", outcome.source,
                                                                    outcome.business_date, outcome.status, detail)


def check(source_name: str, business_date: date, now: datetime | None = None) -> Outcome:
    """One look, when the task starts: a run whose file is there (every backfill and re-run) never defers."""
    started = time.monotonic()
    source = file_source(source_name)
    bucket, prefix = location(source, business_date)
    found = arrival.list_arrivals(s3.client(), bucket, prefix)
    earlier = 0 if found else _earlier_delivery(source.name, business_date)
    outcome = judge(source, business_date, found, now or datetime.now(timezone.utc), earlier)
    record(outcome, started)
    return outcome


def after_trigger(source_name: str, business_date: date, event: dict[str, Any]) -> Outcome:
    """The trigger's event (recon.orchestration.arrival_trigger): the file came, or the expected time passed."""
    started = time.monotonic()
    source = file_source(source_name)
    found = [(key, datetime.fromisoformat(modified)) for key, modified in event.get("objects", [])]
    # judged against the deadline the trigger polled until, even if the YAML changed since
    outcome = judge(source, business_date, found, datetime.fromisoformat(event["checked_at"]),
                    deadline=datetime.fromisoformat(event["deadline"]))
    if outcome.status == arrival.WAITING:  # the trigger only fires with a file or at the deadline
        raise RuntimeError(f"trigger event {event!r} for {source_name} {business_date} has no file and is before "
                           "its deadline")
    record(outcome, started)
    return outcome
