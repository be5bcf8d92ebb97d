"""A processor's file missing for a date, through a real reconcile: generated data for one day (seed 7) with every
partner file dropped but Adyen's, the ingest DAGs run through Airflow (`dag.test`; ingest_adyen fails at
wait_for_file), check_sources as reconcile_daily runs it, then dbt as test_dbt_models.py runs it. Adyen's ledger
entries of the day are pending (none matched), rpt_source_arrivals marks adyen missing, the summary says so; once
the file is dropped and the day re-run, every item agrees with the generator's ground truth."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from recon import db, dbt, generator, runner, s3, seed, truth
from recon.reconcile import source_status
from recon.settings import load_settings
from recon.stack.config import admin_login
from recon.summary import arrival_rows, format_arrivals
from recon.warehouse import mirror_source_settings

pytestmark = pytest.mark.integration
DAY = date(2026, 1, 5)
LATE = "adyen"


def _rows(sql: str, *params: Any) -> list[tuple]:
    s = load_settings()
    with db.transaction(login=admin_login()) as cur:
        cur.execute(sql.format(raw=s.raw_db, marts=s.marts_db), params)
        return list(cur.fetchall())


def _drop_files(data_dir: Path, only: str | None = None, but: str | None = None) -> list[str]:
    """The partners' files of DAY into the landing bucket, as `recon seed` does."""
    client, root, keys = s3.client(), data_dir / "s3", []
    for path in sorted(root.glob(f"inbound/*/{DAY:%Y/%m/%d}/*")):
        source = path.relative_to(root).parts[1]
        if (only and source != only) or (but and source == but):
            continue
        key = path.relative_to(root).as_posix()
        client.upload_file(str(path), load_settings().bucket, key)
        keys.append(key)
    return keys


def _ingest(dags: dict[str, Any], source: str) -> str:
    state, _ = runner.run_dag(dags[f"ingest_{source}"], DAY)
    return state


def _reconcile(tmp: Path) -> dict[str, str]:
    """check_sources (what reconcile_daily's first task calls), then the dbt build of every model and test."""
    mirror_source_settings()
    status = source_status(DAY)
    dbt.run_dbt(["build", "--vars", f"{{as_of_date: '{DAY.isoformat()}'}}", "--target-path", str(tmp / "target"),
                 "--log-path", str(tmp / "logs")], capture=True)
    return status


def _items() -> dict[str, tuple[str, str]]:
    """ledger entry id -> (processor, status) as of DAY (the marts show it: it is the only date)."""
    return {entry: (processor, status) for entry, processor, status in _rows(
        "SELECT ledger_entry_id, processor, status FROM {marts}.fct_transaction_reconciliation "
        "WHERE ledger_entry_id IS NOT NULL")}


def test_a_missing_processor_file_leaves_its_items_pending_until_it_arrives(clean_namespace, tmp_path) -> None:
    data_dir = tmp_path / "generated"
    generator.generate(data_dir, days=1, per_day=60, seed=7, start=DAY)
    seed.seed_ledger(data_dir, DAY)
    assert _drop_files(data_dir, but=LATE)
    dags = runner._dags()
    states = {name: _ingest(dags, name) for name in ("ledger", "stripe", "bank_us", "bank_eu", LATE)}
    assert "failed" in states.pop(LATE) and all("success" in s for s in states.values()), states

    status = _reconcile(tmp_path)
    assert status == {"adyen": "missing", "bank_eu": "published", "bank_us": "published", "ledger": "published",
                      "stripe": "published"}
    arrivals = {row[0]: row[1:] for row in _rows(
        "SELECT source, status, arrival, expected_by, files, rows_published, detail FROM {marts}.rpt_source_arrivals "
        "WHERE as_of_date = %s", DAY)}
    assert arrivals[LATE][:5] == ("missing", None, datetime(2026, 1, 6, 4, 0), 0, 0)
    assert arrivals[LATE][5].startswith("adyen: no file for business date 2026-01-05 by its expected time "
                                        "2026-01-06 04:00 UTC")
    for name in ("stripe", "bank_us", "bank_eu"):  # dropped now, long after their expected time: late, loaded
        assert arrivals[name][:2] == ("published", "late") and arrivals[name][4] > 0, (name, arrivals[name])
    assert arrivals["ledger"][:3] == ("published", None, None) and arrivals["ledger"][4] > 0

    # the late processor's entries: pending, none matched; the other processor's exactly as the truth says
    expected = truth.load_truth(data_dir, DAY)
    items = _items()
    late_items = {e: st for e, (processor, st) in items.items() if processor == LATE}
    assert late_items, "seed 7 has Adyen entries on the day"
    for entry, status_now in late_items.items():
        truth_status = expected[("L", entry)][0]
        assert status_now == ("duplicate_in_ledger" if truth_status == "duplicate_in_ledger"
                              else "pending_processor"), (entry, status_now, truth_status)
    assert "matched" not in late_items.values()
    assert sum(1 for e in late_items if expected[("L", e)][0] == "matched") > 0  # ...though the truth matches them
    actual = truth.mart_state(DAY)
    for key, value in actual.items():  # nothing is matched that the truth does not match
        if value[0] == "matched":
            assert expected[key][0] == "matched", key
    stripe = {("L", e) for e, (p, _) in items.items() if p == "stripe"}
    assert {k: actual[k] for k in stripe} == {k: expected[k] for k in stripe}

    summary = format_arrivals(DAY, arrival_rows(DAY))
    assert "Sources for 2026-01-05 (rpt_source_arrivals): 4 of 5 published" in summary
    assert "MISSING adyen (processor): no file by 2026-01-06 04:00 UTC; its items stay pending" in summary

    # the file arrives; the day is re-run: every item (both legs) is what the truth says, adyen is published
    assert _drop_files(data_dir, only=LATE)
    assert "success" in _ingest(dags, LATE)
    assert _reconcile(tmp_path)[LATE] == "published"
    comparison = truth.compare(data_dir, DAY)
    assert comparison.ok, comparison.differences[:10]
    assert _rows("SELECT status, arrival FROM {marts}.rpt_source_arrivals WHERE as_of_date = %s AND source = %s",
                 DAY, LATE) == [("published", "late")]
    assert {st for p, st in _items().values() if p == LATE} >= {"matched"}
    assert "MISSING" not in format_arrivals(DAY, arrival_rows(DAY))
    assert _rows("SELECT step, status FROM {raw}.ingest_runs WHERE source = %s AND step = 'wait' ORDER BY run_id",
                 LATE) == [("wait", "missing"), ("wait", "late")]
