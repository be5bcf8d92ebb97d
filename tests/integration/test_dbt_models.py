"""The dbt project on the private MariaDB, with hand-written source rows covering every status: the statuses of
contract 2.1, the change log (grows only with changes, idempotent re-runs, removals), the marts showing the latest
as-of date after an earlier one is re-run (also after a corrected file), and `dbt parse` without vars."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from recon import db, dbt
from recon.settings import load_settings
from recon.stack.config import admin_login

pytestmark = pytest.mark.integration

D1, D2, D3 = date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 10)

LEDGER_COLUMNS = ("entry_id", "entry_type", "processor", "processor_reference", "amount_minor", "currency", "status",
                  "occurred_at", "updated_at")
# (entry_id, type, reference, amount, currency, status, occurred_at, updated_at); processor is always stripe
LEDGER = [
    ("le_01", "capture", "ch_A", 1000, "USD", "posted", "2026-01-05 10:00", "2026-01-05 10:00"),  # matched
    ("le_02", "capture", "ch_B", 2000, "USD", "posted", "2026-01-05 10:00", "2026-01-05 10:00"),  # amount_mismatch
    ("le_03", "capture", "ch_C", 3000, "USD", "posted", "2026-01-05 10:00", "2026-01-05 10:00"),  # currency_mismatch
    ("le_04", "capture", "ch_D", 500, "USD", "posted", "2026-01-05 10:00", "2026-01-05 10:00"),  # pending_processor
    ("le_05", "capture", "ch_E", 600, "USD", "posted", "2026-01-01 10:00", "2026-01-01 10:00"),  # missing_in_proc.
    ("le_06", "capture", "ch_F", 700, "USD", "posted", "2026-01-05 10:00", "2026-01-05 10:00"),  # duplicate_in_l.
    ("le_07", "capture", "ch_F", 700, "USD", "posted", "2026-01-05 10:05", "2026-01-05 10:05"),  # duplicate_in_l.
    ("le_08", "capture", "ch_G", 800, "USD", "posted", "2026-01-05 10:00", "2026-01-05 10:00"),  # duplicate_in_p.
    ("le_09", "refund", "re_I", 300, "USD", "posted", "2026-01-05 11:00", "2026-01-05 11:00"),  # matched (-gross)
    ("le_10", "chargeback", "dp_J", 400, "USD", "posted", "2026-01-05 12:00", "2026-01-05 12:00"),  # matched
    ("le_11", "chargeback_reversal", "dp_J", 400, "USD", "posted", "2026-01-06 12:00", "2026-01-06 12:00"),
    ("le_12", "capture", "ch_K", 900, "USD", "posted", "2026-01-05 13:00", "2026-01-05 13:00"),  # voided on D2
    ("le_12", "capture", "ch_K", 900, "USD", "voided", "2026-01-05 13:00", "2026-01-07 09:00"),
    ("le_13", "capture", "ch_L", 1100, "USD", "posted", "2026-01-05 14:00", "2026-01-05 14:00"),  # line late (D2)
    ("le_14", "capture", "ch_M", 1300, "USD", "posted", "2026-01-07 14:00", "2026-01-07 14:00"),  # appears on D2
    ("le_15", "capture", "ch_N", 1200, "USD", "posted", "2026-01-05 15:00", "2026-01-05 15:00"),  # amended on D2
    ("le_15", "capture", "ch_N", 1250, "USD", "posted", "2026-01-05 15:00", "2026-01-07 08:00"),
    ("le_16", "capture", "ch_a", 1000, "USD", "posted", "2026-01-05 10:00", "2026-01-05 10:00"),  # ids are case-sens.
    ("le_17", "capture", "ch_P", 100, "JPY", "posted", "2026-01-05 10:00", "2026-01-05 10:00"),  # matched
]
# (business_date, line id, payout, currency, gross, fee, net, category, source_id)
STRIPE = [
    ("2026-01-05", "txn_01", "po_1", "USD", 1000, 59, 941, "charge", "ch_A"),
    ("2026-01-05", "txn_02", "po_1", "USD", 2001, 88, 1913, "charge", "ch_B"),
    ("2026-01-05", "txn_06", "po_1", "USD", 700, 50, 650, "charge", "ch_F"),
    ("2026-01-05", "txn_08", "po_1", "USD", 800, 53, 747, "charge", "ch_G"),
    ("2026-01-05", "txn_09", "po_1", "USD", -300, 0, -300, "refund", "re_I"),
    ("2026-01-05", "txn_10", "po_1", "USD", -400, 1500, -1900, "dispute", "dp_J"),
    ("2026-01-05", "txn_15", "po_1", "USD", 1250, 66, 1184, "charge", "ch_N"),
    ("2026-01-05", "txn_fee1", "po_1", "USD", -5, 0, -5, "fee", None),
    ("2026-01-05", "txn_po1", "po_1", "USD", -3230, 0, -3230, "payout", "po_1"),  # agrees with its lines
    ("2026-01-05", "txn_03", "po_2", "EUR", 3000, 117, 2883, "charge", "ch_C"),
    ("2026-01-05", "txn_po2", "po_2", "EUR", -2800, 0, -2800, "payout", "po_2"),  # 2883 expected
    ("2026-01-05", "txn_17", "po_5", "JPY", 100, 33, 67, "charge", "ch_P"),
    ("2026-01-05", "txn_po5", "po_5", "JPY", -67, 0, -67, "payout", "po_5"),
    ("2026-01-06", "txn_08b", "po_3", "USD", 800, 53, 747, "charge", "ch_G"),  # second line of ch_G
    ("2026-01-06", "txn_11", "po_3", "USD", 400, 0, 400, "dispute_reversal", "dp_J"),
    ("2026-01-06", "txn_H", "po_3", "USD", 550, 46, 504, "charge", "ch_H"),  # no ledger entry
    ("2026-01-06", "txn_adj", "po_3", "USD", -100, 0, -100, "other_adjustment", "adj_1"),  # not an item
    ("2026-01-07", "txn_13", "po_4", "USD", 1100, 62, 1038, "charge", "ch_L"),
    ("2026-01-07", "txn_po4", "po_4", "USD", -1038, 0, -1038, "payout", "po_4"),
]

EXPECTED_D1 = {  # (ledger_entry_id or processor_line_id) -> (status, payout_status)
    "le_01": ("matched", "pending_bank"),
    "le_02": ("amount_mismatch", "pending_bank"),
    "le_03": ("currency_mismatch", "payout_amount_mismatch"),
    "le_04": ("pending_processor", "not_applicable"),
    "le_05": ("missing_in_processor", "not_applicable"),
    "le_06": ("duplicate_in_ledger", "pending_bank"),
    "le_07": ("duplicate_in_ledger", "pending_bank"),
    "le_08": ("duplicate_in_processor", "pending_bank"),
    "le_09": ("matched", "pending_bank"),
    "le_10": ("matched", "pending_bank"),
    "le_11": ("matched", "pending_bank"),
    "le_12": ("pending_processor", "not_applicable"),
    "le_13": ("pending_processor", "not_applicable"),
    "le_15": ("amount_mismatch", "pending_bank"),
    "le_16": ("pending_processor", "not_applicable"),
    "le_17": ("matched", "pending_bank"),
    "txn_H": ("missing_in_ledger", "pending_bank"),
}
CHANGES_D2 = {"le_13": ("matched", "pending_bank"), "le_14": ("pending_processor", "not_applicable"),
              "le_15": ("matched", "pending_bank")}  # and le_12 is gone (voided)


def _run(*args: str, tmp: Path) -> None:
    dbt.run_dbt([*args, "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")], capture=True)


def _build(day: date, tmp: Path) -> None:
    _run("build", "--vars", f"{{as_of_date: '{day.isoformat()}'}}", tmp=tmp)


def _rows(sql: str, *params) -> list[tuple]:
    s = load_settings()
    with db.transaction(login=admin_login()) as cur:
        cur.execute(sql.format(raw=s.raw_db, marts=s.marts_db), params)
        return list(cur.fetchall())


def _state(sql_table: str = "{marts}.fct_transaction_reconciliation") -> dict[str, tuple[str, str]]:
    return {le or line: (status, payout) for le, line, status, payout in
            _rows(f"SELECT ledger_entry_id, processor_line_id, status, payout_status FROM {sql_table}")}


def _history() -> list[tuple]:
    return _rows("SELECT as_of_date, recon_key, row_hash, is_removed FROM {marts}.fct_transaction_reconciliation_history "
                 "ORDER BY as_of_date, recon_key")


def _fct() -> list[tuple]:
    return _rows("SELECT as_of_date, recon_key, row_hash FROM {marts}.fct_transaction_reconciliation ORDER BY 2")


@pytest.fixture()
def seeded(clean_namespace) -> None:
    with db.transaction() as cur:
        raw = load_settings().raw_db
        cur.executemany(
            f"INSERT INTO {raw}.src_ledger_entries (entry_id, entry_type, processor, processor_reference, account_id, "
            "merchant_id, amount_minor, currency, status, occurred_at, updated_at, business_date, _file_id, "
            "_row_number, _load_id, _published_at) VALUES (%s, %s, 'stripe', %s, 'acc', 'mer', %s, %s, %s, %s, %s, "
            "DATE(%s), 1, %s, 'test', UTC_TIMESTAMP())",
            [(e, t, ref, amt, cur_, st, occ, upd, occ, n) for n, (e, t, ref, amt, cur_, st, occ, upd) in
             enumerate(LEDGER, start=2)])
        cur.executemany(
            f"INSERT INTO {raw}.src_stripe_payout_lines (business_date, balance_transaction_id, automatic_payout_id, "
            "created_utc, currency, gross_minor, fee_minor, net_minor, reporting_category, source_id, description, "
            "_file_id, _row_number, _load_id, _published_at) VALUES (%s, %s, %s, CONCAT(%s, ' 10:00'), %s, %s, %s, "
            "%s, %s, %s, 'x', 2, %s, 'test', UTC_TIMESTAMP())",
            [(bd, line, po, bd, c, g, f, n, cat, src, i) for i, (bd, line, po, c, g, f, n, cat, src) in
             enumerate(STRIPE, start=2)])


def test_statuses_history_and_latest_as_of_date(seeded, tmp_path: Path) -> None:
    _build(D1, tmp_path)  # dbt build: models and every dbt test (conservation, lossless history) must pass
    assert _state() == EXPECTED_D1
    assert _rows("SELECT DISTINCT as_of_date FROM {marts}.fct_transaction_reconciliation") == [(D1,)]
    assert len(_history()) == len(EXPECTED_D1)

    _build(D2, tmp_path)
    expected_d2 = {**EXPECTED_D1, **CHANGES_D2}
    del expected_d2["le_12"]
    assert _state() == expected_d2
    d2_rows = _rows("SELECT ledger_entry_id, status, is_removed FROM {marts}.fct_transaction_reconciliation_history "
                    "WHERE as_of_date = %s ORDER BY 1", D2)
    assert d2_rows == [("le_12", "pending_processor", 1), ("le_13", "matched", 0), ("le_14", "pending_processor", 0),
                       ("le_15", "matched", 0)]  # only the changes, and the removal of the voided entry

    history, fct = _history(), _fct()
    _build(D1, tmp_path)  # re-running the earlier date: nothing changes, the marts still show D2
    assert _history() == history and _fct() == fct
    assert {row[0] for row in fct} == {D2}
    # the earlier date stays queryable from the change log
    state_d1 = _state("(SELECT h.* FROM {marts}.fct_transaction_reconciliation_history h JOIN (SELECT recon_key, "
                      "MAX(as_of_date) AS d FROM {marts}.fct_transaction_reconciliation_history WHERE as_of_date <= "
                      "'2026-01-06' GROUP BY recon_key) l ON l.recon_key = h.recon_key AND l.d = h.as_of_date "
                      "WHERE h.is_removed = 0) s")
    assert state_d1 == EXPECTED_D1

    # A corrected 2026-01-05 file (ch_B now right, the JPY line gone) and D1 re-run: D1's answer changes, D2's
    # (what the marts show) does not until D2 itself is re-run.
    raw = load_settings().raw_db
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"UPDATE {raw}.src_stripe_payout_lines SET gross_minor = 2000, net_minor = 1912 "
                    "WHERE balance_transaction_id = 'txn_02'")
        cur.execute(f"UPDATE {raw}.src_stripe_payout_lines SET gross_minor = -3229, net_minor = -3229 "
                    "WHERE balance_transaction_id = 'txn_po1'")
        cur.execute(f"DELETE FROM {raw}.src_stripe_payout_lines WHERE balance_transaction_id IN ('txn_17', 'txn_po5')")
    _build(D1, tmp_path)
    assert _fct() == fct
    history = _history()
    _build(D1, tmp_path)
    assert _history() == history  # idempotent
    _build(D2, tmp_path)
    state = _state()
    assert state["le_02"] == ("matched", "pending_bank") and state["le_17"] == ("pending_processor", "not_applicable")

    _build(D3, tmp_path)  # payouts past the bank grace period, entries past the processor grace period
    state = _state()
    assert state["le_01"] == ("matched", "missing_in_bank")
    assert state["le_13"] == ("matched", "pending_bank")  # its payout is of 2026-01-07
    assert state["le_04"] == ("missing_in_processor", "not_applicable")
    assert state["le_14"] == ("pending_processor", "not_applicable")
    counts = dict(_rows("SELECT status, SUM(item_count) FROM {marts}.rpt_daily_reconciliation WHERE as_of_date = %s "
                        "AND leg = 'transaction' GROUP BY status", D3))
    assert sum(counts.values()) == len(state)
    assert _rows("SELECT as_of_date FROM {marts}.rpt_reconciliation_runs ORDER BY 1") == [(D1,), (D2,), (D3,)]


def test_parse_needs_no_vars_and_runs_need_the_as_of_date(tmp_path: Path) -> None:
    _run("parse", tmp=tmp_path)  # cosmos renders the DAG from this manifest
    assert (tmp_path / "target" / "manifest.json").exists()
    with pytest.raises(RuntimeError, match="as_of_date"):
        _run("compile", "--select", "stg_ledger__entries", tmp=tmp_path)
