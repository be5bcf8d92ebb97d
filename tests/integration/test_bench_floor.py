"""The benchmark's raw floor answers the same question as the pipeline: one generated day (every anomaly the big-day
writer makes) goes through the real DAGs (dag.test, as `recon run`) and, separately, through the floor's LOAD DATA
and hand-written SQL; the counts per status of both legs must be equal. No timing is asserted."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from recon import runner, seed
from recon.bench import floor
from recon.bench.datagen import BigDataWriter

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 2)


def test_the_floor_counts_the_statuses_the_marts_show(clean_namespace, tmp_path: Path) -> None:
    files = BigDataWriter(tmp_path, seed=3, bank_lag_days=0).write_day(DAY, 3000)
    seed.seed_ledger(tmp_path, DAY)
    seed.seed_files(tmp_path, DAY)
    assert runner.run_days(DAY, DAY) == 0

    result = floor.run_floor(DAY, files.ledger_csv, [files.files["stripe"]], [files.files["adyen"]],
                             [files.bank_tsv], progress=lambda line: None)
    marts = floor.mart_counts(DAY)
    print(f"\nfloor {result.transaction_status} {result.payout_status} {result.payout_leg_status}\nmarts {marts}")
    assert floor.compare(result, marts) == []
    # the day is varied enough for the comparison to mean something
    assert {"matched", "amount_mismatch", "currency_mismatch", "duplicate_in_ledger", "duplicate_in_processor",
            "missing_in_ledger", "pending_processor"} <= set(result.transaction_status)
    # seed 3: one payout's bank credit is missing and an interest credit pays no payout
    assert {"funded", "pending_bank", "not_applicable"} <= set(result.payout_status)
    assert {"funded", "pending_bank", "unexplained_bank_credit"} <= set(result.payout_leg_status)
    assert sum(result.transaction_status.values()) >= 3000
    assert result.rows_loaded == sum(files.rows.values())
