"""What reconcile_daily needs besides dbt: which sources published data for a date."""
from __future__ import annotations

import logging
from datetime import date

from recon import db
from recon.settings import load_settings
from recon.sources import all_sources

log = logging.getLogger(__name__)


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
