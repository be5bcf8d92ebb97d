"""End to end: 5 consecutive days of generated data for all five sources (ledger, Stripe, Adyen, BAI2 bank_us,
camt.053 bank_eu) go through the real DAGs (dag.test: ingest for every source, then reconcile_daily with dbt
through cosmos and the GX mart gate), and every row of fct_transaction_reconciliation and
fct_payout_reconciliation equals the generator's ground truth, for every as-of date and every anomaly class. The
five days are run once for the e2e session (fixture five_days in tests/conftest.py); the breaks are checked in
test_reconciliation_days_breaks.py, and re-running days 1-3 on a running Airflow (backfills, a cleared day) leaves
every mart unchanged in test_running_airflow.py."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from recon import db, generator, summary, truth
from recon.settings import load_settings
from recon.stack.config import admin_login

from e2e_data import DAYS

pytestmark = pytest.mark.e2e


def _anomalies(data_dir: Path, name: str) -> set[str]:
    with open(data_dir / "truth" / name, newline="") as handle:
        return {row["anomaly"] for row in csv.DictReader(handle)}


def test_every_mart_row_matches_the_ground_truth_for_every_as_of_date(five_days: Path) -> None:
    statuses: set[str] = set()
    payout_statuses: set[str] = set()
    for day in DAYS:
        comparison = truth.compare(five_days, day)
        assert comparison.expected_rows > 0 and comparison.expected_payout_rows > 0
        assert comparison.ok, f"as of {day}: " + "\n".join(comparison.differences[:30])
        statuses |= set(comparison.status_counts)
        payout_statuses |= set(comparison.payout_status_counts)
    assert statuses == {"matched", "amount_mismatch", "currency_mismatch", "pending_processor", "missing_in_processor",
                        "missing_in_ledger", "duplicate_in_ledger", "duplicate_in_processor"}
    assert payout_statuses == {"funded", "pending_bank", "missing_in_bank", "amount_mismatch",
                               "unexplained_bank_credit"}
    # every anomaly class the generator knows was in the data that just matched
    covered = _anomalies(five_days, "transactions.csv") | _anomalies(five_days, "payouts.csv")
    assert set(generator.ANOMALY_CLASSES) <= covered


def test_daily_report_counts_equal_the_ground_truth(five_days: Path) -> None:
    comparison = truth.compare(five_days, DAYS[-1])
    assert summary.status_counts(DAYS[-1]) == dict(comparison.status_counts)
    assert summary.status_counts(DAYS[-1], leg="payout") == dict(comparison.payout_status_counts)


def test_fct_shows_the_latest_as_of_date(five_days: Path) -> None:
    marts = load_settings().marts_db
    with db.transaction(login=admin_login()) as cur:
        for mart in ("fct_transaction_reconciliation", "fct_payout_reconciliation"):
            cur.execute(f"SELECT DISTINCT as_of_date FROM {marts}.{mart}")
            assert [r[0] for r in cur.fetchall()] == [DAYS[-1]]
