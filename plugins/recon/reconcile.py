"""What reconcile_daily needs besides dbt (which sources published data for a date, kept per as-of date in
`<ns>_raw.source_arrivals` for the rpt_source_arrivals mart), and the latest as-of date processed, which every
reader of the latest-state marts asks for."""
from __future__ import annotations

import logging
from dataclasses import astuple, dataclass
from datetime import date, datetime, timezone
from typing import Any

import pymysql

from recon import arrival, connections, db
from recon.settings import Settings, load_settings
from recon.sources import Source, all_sources

log = logging.getLogger(__name__)
_NO_TABLE = {1049, 1146}  # unknown database, table does not exist: nothing processed yet

# A source's status for an as-of date, as check_sources of reconcile_daily found it
PUBLISHED = "published"  # the ingest published the date's rows
MISSING = "missing"  # no file by the source's expected time: its ingest run failed at wait_for_file
WAITING = "waiting"  # its ingest run is waiting for the file, the expected time is still ahead
NO_FILE = "no_file"  # an ingest ran without waiting and found no file (steps run by hand)
NOT_RUN = "not_run"  # no ingest run published the date (not started, still running, or failed after the wait)

SOURCE_ARRIVALS_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.source_arrivals (
  as_of_date DATE NOT NULL,
  source VARCHAR(48) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  role VARCHAR(16) NOT NULL,
  status VARCHAR(16) NOT NULL,
  arrival VARCHAR(16) NULL,
  expected_by DATETIME NULL,
  first_received_at DATETIME(6) NULL,
  files INT NOT NULL,
  rows_published BIGINT NOT NULL,
  detail TEXT NULL,
  checked_at DATETIME(6) NOT NULL,
  PRIMARY KEY (as_of_date, source)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""


def create_source_arrivals_table(cur: Any, settings: Settings) -> None:
    cur.execute(SOURCE_ARRIVALS_DDL.format(raw=settings.raw_db))


@dataclass(frozen=True)
class SourceArrival:
    """One row of source_arrivals: a source's state for an as-of date."""
    as_of_date: date
    source: str
    kind: str
    role: str
    status: str
    arrival: str | None  # on_time / late: when the wait step found the date's first file (file sources)
    expected_by: datetime | None  # UTC, naive (DATETIME); None for database sources
    first_received_at: datetime | None  # the first file_manifest row for the date (UTC)
    files: int  # file_manifest rows loaded for the date (for the ledger: its extractions with new versions)
    rows_published: int  # rows of src_<table> with this business date
    detail: str | None  # why it is missing or awaited (the wait step's message)
    checked_at: datetime


def _status(steps: list[tuple[str, str, str | None]]) -> tuple[str, str | None, str | None]:
    """(status, arrival, detail) from the source's ingest_runs rows for the date, newest first."""
    waits = [(status, detail) for step, status, detail in steps if step == "wait"]
    arrived = [status for status, _ in reversed(waits) if status in (arrival.ON_TIME, arrival.LATE)]
    first_arrival = arrived[0] if arrived else None
    if any(step == "publish" for step, _, _ in steps):
        return PUBLISHED, first_arrival, None
    if waits and waits[0][0] in (arrival.MISSING, arrival.WAITING):
        return (MISSING if waits[0][0] == arrival.MISSING else WAITING), first_arrival, waits[0][1]
    if any(step == "discover" and status == "no_file" for step, status, _ in steps):
        return NO_FILE, first_arrival, None
    return NOT_RUN, first_arrival, None


def _arrival(cur: Any, s: Settings, source: Source, day: date, checked_at: datetime) -> SourceArrival:
    cur.execute(f"SELECT step, status, detail FROM {s.raw_db}.ingest_runs WHERE source = %s AND business_date = %s "
                "ORDER BY run_id DESC", (source.name, day))
    status, first_arrival, detail = _status(list(cur.fetchall()))
    # a file source counts its loaded files (an empty one too); the ledger counts the extractions that brought
    # new versions, so re-running a day (an extraction that finds only what staging has) changes nothing
    counted = "status = 'loaded'" if source.kind == "file" else "status = 'loaded' AND rows_published > 0"
    cur.execute(f"SELECT MIN(received_at), COALESCE(SUM({counted}), 0) FROM {s.raw_db}.file_manifest "
                "WHERE source = %s AND business_date = %s", (source.name, day))
    first_received, files = cur.fetchone()
    # as of D: rows of date D that runs for dates <= D published (a later ledger extraction may add a late version
    # of a D entry; re-running D after it must still give D's answer)
    cur.execute(f"SELECT COUNT(*) FROM {s.raw_db}.src_{source.table} p JOIN {s.raw_db}.file_manifest m "
                "ON m.file_id = p._file_id WHERE p.business_date = %s AND m.business_date <= %s", (day, day))
    rows = cur.fetchone()[0]
    deadline = source.expected_by.deadline(day).replace(tzinfo=None) if source.expected_by else None
    return SourceArrival(day, source.name, source.kind, source.role, status, first_arrival, deadline,
                         first_received, int(files), int(rows), detail, checked_at)


def source_arrivals(day: date) -> list[SourceArrival]:
    """Every declared source's state for `day`, read from ingest_runs, file_manifest and the src_ tables."""
    s = load_settings()
    checked_at = datetime.now(timezone.utc).replace(tzinfo=None)  # DATETIME columns hold UTC
    with db.transaction(connections.TRANSFORMER) as cur:
        return [_arrival(cur, s, source, day, checked_at) for _, source in sorted(all_sources().items())]


def save_source_arrivals(day: date, rows: list[SourceArrival]) -> None:
    """Replace the date's rows: a re-run of reconcile_daily records what it found this time."""
    s = load_settings()  # the table is made by the setup (recon stack up): the transformer may not run DDL
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(f"DELETE FROM {s.raw_db}.source_arrivals WHERE as_of_date = %s", (day,))
        cur.executemany(f"INSERT INTO {s.raw_db}.source_arrivals (as_of_date, source, kind, role, status, arrival, "
                        "expected_by, first_received_at, files, rows_published, detail, checked_at) VALUES "
                        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", [astuple(row) for row in rows])


def source_status(day: date) -> dict[str, str]:
    """published / missing / waiting / no_file / not_run per source for `day`: recorded in source_arrivals (dbt
    builds rpt_source_arrivals from it), logged, and returned for the run's XCom."""
    rows = source_arrivals(day)
    save_source_arrivals(day, rows)
    for row in rows:
        if row.status == PUBLISHED:
            log.info("%s for %s: published (%d rows)", row.source, day, row.rows_published)
        else:
            log.warning("%s for %s: %s%s", row.source, day, row.status, f": {row.detail}" if row.detail else "")
    return {row.source: row.status for row in rows}


def latest_processed_as_of_date() -> date | None:
    """max(as_of_date) of rpt_reconciliation_runs; None before the first reconcile run."""
    marts = load_settings().marts_db
    conn = db.connect(connections.TRANSFORMER, autocommit=True, database="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT MAX(as_of_date) FROM {marts}.rpt_reconciliation_runs")
            row = cur.fetchone()
    except (pymysql.err.ProgrammingError, pymysql.err.OperationalError) as exc:
        if exc.args and exc.args[0] in _NO_TABLE:
            return None
        raise
    finally:
        conn.close()
    return row[0] if row else None
