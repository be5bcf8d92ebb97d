"""Idempotency: the e2e session's five days (five_days, run once in date order), then every day re-run twice more
through the same DAGs (every ingest DAG, then reconcile_daily), each time in another order. Not one row of any mart
changes, the latest date processed stays the latest, no file is loaded twice and staging holds the same rows.

Runs before the other e2e modules (alphabetical order), on the session's namespace, which it leaves as it found
it."""
from __future__ import annotations

from pathlib import Path

import pytest

from recon import db, runner
from recon.reconcile import latest_processed_as_of_date
from recon.settings import load_settings
from recon.sources import all_sources
from recon.stack.config import admin_login
from recon.warehouse import src_table

from e2e_data import DAYS
from mart_checksums import mart_checksums

pytestmark = pytest.mark.e2e

ORDERS = ([DAYS[4], DAYS[2], DAYS[0], DAYS[3], DAYS[1]],  # latest first, then jumping back and forth
          [DAYS[1], DAYS[3], DAYS[0], DAYS[4], DAYS[2]])


def _staging_and_files() -> dict[str, object]:
    """Rows per source and business date in staging (src_*; the second count is distinct lineage, so a row loaded
    twice shows), and the files per status, per file source."""
    s = load_settings()
    out: dict[str, object] = {}
    with db.transaction(login=admin_login()) as cur:
        for name, source in sorted(all_sources().items()):
            cur.execute(f"SELECT business_date, COUNT(*), COUNT(DISTINCT _file_id, _row_number) "
                        f"FROM {src_table(s, source)} GROUP BY business_date ORDER BY business_date")
            out[f"src:{name}"] = cur.fetchall()
        # file sources only: each ledger extraction is a manifest row of its own (its new versions, maybe none)
        files = sorted(name for name, source in all_sources().items() if source.kind == "file")
        cur.execute(f"SELECT source, status, COUNT(*) FROM {s.raw_db}.file_manifest "
                    "WHERE status IN ('landed', 'loaded', 'superseded', 'quarantined') "
                    f"AND source IN ({', '.join(['%s'] * len(files))}) GROUP BY source, status ORDER BY source, status",
                    files)
        out["files"] = cur.fetchall()
    return out


def test_rerunning_every_day_twice_in_other_orders_changes_no_mart_row(five_days: Path) -> None:
    first_marts, first_staging = mart_checksums(), _staging_and_files()
    latest = latest_processed_as_of_date()
    assert latest == DAYS[-1]
    for order in ORDERS:
        for day in order:
            assert runner.run_days(day, day) == 0, f"re-running {day} failed"
        assert mart_checksums() == first_marts, f"the marts changed after re-running {order}"
        assert _staging_and_files() == first_staging, f"staging or the loaded files changed after {order}"
        assert latest_processed_as_of_date() == latest
