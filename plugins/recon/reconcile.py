"""What reconcile_daily needs besides dbt (which sources published data for a date), and the latest as-of date
processed, which every reader of the latest-state marts asks for."""
from __future__ import annotations

import logging
from datetime import date

import pymysql

from recon import db
from recon.settings import load_settings
from recon.sources import all_sources

log = logging.getLogger(__name__)
_NO_TABLE = {1049, 1146}  # unknown database, table does not exist: nothing processed yet


def source_status(day: date) -> dict[str, str]:
    """published / no_file / not_run, per source, for the log and the run's XCom."""
    s = load_settings()
    status: dict[str, str] = {}
    with db.transaction() as cur:
        for name in sorted(all_sources()):
            cur.execute(f"SELECT step, status FROM {s.raw_db}.ingest_runs WHERE source = %s AND business_date = %s "
                        "ORDER BY run_id DESC", (name, day))
            steps = cur.fetchall()
            if any(step == "publish" for step, _ in steps):
                status[name] = "published"
            elif any(st == "no_file" for _, st in steps):
                status[name] = "no_file"
            else:
                status[name] = "not_run"
    for name, st in status.items():
        (log.info if st == "published" else log.warning)("%s for %s: %s", name, day, st)
    return status


def latest_processed_as_of_date() -> date | None:
    """max(as_of_date) of rpt_reconciliation_runs; None before the first reconcile run."""
    marts = load_settings().marts_db
    conn = db.connect(autocommit=True, database="")
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
