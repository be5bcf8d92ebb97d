"""The payout leg and Adyen in dbt, on the private MariaDB, with hand-written source rows: Adyen signs, fees and FX
(gross JPY settled in USD), payouts per net currency, bank credits found by each processor's reference pattern in
BAI2 and camt.053 lines (case-insensitive, in references or free text), the value-date window, a short payout, an
unexplained credit, pending camt entries ignored, grace periods, and the transaction rows' payout status and
is_fully_reconciled."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from recon import db, dbt
from recon.settings import load_settings
from recon.stack.config import admin_login

pytestmark = pytest.mark.integration

D1, D2 = date(2026, 1, 8), date(2026, 1, 11)

# (entry_id, processor, type, reference, amount, currency); all occurred 2026-01-05 10:00
LEDGER = [
    ("le_a1", "adyen", "capture", "1111111111111111", 10000, "EUR"),
    ("le_a2", "adyen", "capture", "2222222222222222", 5000, "JPY"),
    ("le_a3", "adyen", "refund", "3333333333333333", 2000, "EUR"),
    ("le_a4", "adyen", "chargeback", "4444444444444444", 700, "EUR"),
    ("le_s1", "stripe", "capture", "ch_S1", 1000, "USD"),
    ("le_s2", "stripe", "capture", "ch_S2", 2000, "USD"),
    ("le_s3", "stripe", "capture", "ch_S3", 1500, "KWD"),
]
# Adyen batch 1001, file of 2026-01-05:
# (type, psp, modification ref, gross ccy, gross debit, gross credit, net ccy, net debit, net credit, commission)
ADYEN = [
    ("Settled", "1111111111111111", None, "EUR", None, 10000, "EUR", None, 9800, 200),
    ("Settled", "2222222222222222", None, "JPY", None, 5000, "USD", None, 3400, 0),  # FX: JPY gross, USD net
    ("Refunded", "1111111111111111", "3333333333333333", "EUR", 2000, None, "EUR", 2000, None, 0),
    ("Chargeback", "1111111111111111", "4444444444444444", "EUR", 700, None, "EUR", 700, None, 0),
    ("Fee", None, None, None, None, None, "EUR", 50, None, 0),
    ("MerchantPayout", None, None, "EUR", None, None, "EUR", 7050, None, 0),  # 9800 - 2000 - 700 - 50
    ("MerchantPayout", None, None, "USD", None, None, "USD", 3400, None, 0),
]
# Stripe, file of 2026-01-05: (line id, payout, currency, gross, fee, net, category, source id)
STRIPE = [
    ("txn_s1", "po_S1", "USD", 1000, 59, 941, "charge", "ch_S1"),
    ("txn_p1", "po_S1", "USD", -941, 0, -941, "payout", "po_S1"),
    ("txn_s2", "po_S2", "USD", 2000, 100, 1900, "charge", "ch_S2"),
    ("txn_s3", "po_S3", "KWD", 1500, 45, 1455, "charge", "ch_S3"),
]
# BAI2 details: (statement business date, currency, direction, amount, bank ref, customer ref, text, value date)
BAI2 = [
    ("2026-01-06", "USD", "credit", 3390, "B1", None, "ADYEN N.V. Batch1001 settlement", None),  # short by 10
    ("2026-01-07", "USD", "credit", 941, "B2", "PO_S1", "STRIPE TRANSFER", None),  # wrong case: the pattern...
    ("2026-01-07", "USD", "credit", 941, "B3", None, "STRIPE TRANSFER po_S1 X", None),  # ...this one is it
    ("2026-01-07", "USD", "debit", 25, "B4", None, "SERVICE CHARGE", None),
    ("2026-01-09", "KWD", "credit", 1455, "B5", None, "STRIPE po_S3", "2026-01-11"),  # outside the window
]
# camt entries: (statement business date, currency, direction, amount, status, AcctSvcrRef, Ustrd, value date)
CAMT = [
    ("2026-01-06", "EUR", "credit", 7050, "PDNG", "E0", "ADYEN payout batch 1001", "2026-01-06"),  # not booked
    ("2026-01-06", "EUR", "credit", 7050, "BOOK", "E1", "ADYEN payout batch 1001", "2026-01-06"),
    ("2026-01-06", "EUR", "credit", 12345, "BOOK", "E2", "INTEREST Q4", "2026-01-06"),
]


def _rows(sql: str, *params) -> list[tuple]:
    s = load_settings()
    with db.transaction(login=admin_login()) as cur:
        cur.execute(sql.format(raw=s.raw_db, marts=s.marts_db), params)
        return list(cur.fetchall())


def _build(day: date, tmp: Path) -> None:
    dbt.run_dbt(["build", "--vars", f"{{as_of_date: '{day.isoformat()}'}}", "--target-path", str(tmp / "target"),
                 "--log-path", str(tmp / "logs")], capture=True)


@pytest.fixture()
def seeded(clean_namespace) -> None:
    raw = load_settings().raw_db
    with db.transaction() as cur:
        cur.executemany(
            f"INSERT INTO {raw}.src_ledger_entries (entry_id, entry_type, processor, processor_reference, amount_minor, "
            "currency, status, occurred_at, updated_at, business_date, _file_id, _row_number, _load_id, _published_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, 'posted', '2026-01-05 10:00', '2026-01-05 10:00', '2026-01-05', 1, %s, "
            "'test', UTC_TIMESTAMP())",
            [(e, t, p, ref, amt, c, n) for n, (e, p, t, ref, amt, c) in enumerate(LEDGER, start=2)])
        cur.executemany(
            f"INSERT INTO {raw}.src_adyen_settlement_lines (company_account, merchant_account, psp_reference, "
            "creation_date_local, time_zone, created_utc, type, modification_reference, gross_currency, "
            "gross_debit_minor, gross_credit_minor, net_currency, net_debit_minor, net_credit_minor, commission_minor, "
            "batch_number, business_date, _file_id, _row_number, _load_id, _published_at) VALUES ('RECON_COMPANY', "
            "'RECON_MERCHANT', %s, '2026-01-05 11:00:00', 'CET', '2026-01-05 10:00:00', %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, 1001, '2026-01-05', 2, %s, 'test', UTC_TIMESTAMP())",
            [(psp, t, mod, gc, gd, gcr, nc, nd, ncr, com, n)
             for n, (t, psp, mod, gc, gd, gcr, nc, nd, ncr, com) in enumerate(ADYEN, start=2)])
        cur.executemany(
            f"INSERT INTO {raw}.src_stripe_payout_lines (business_date, balance_transaction_id, automatic_payout_id, "
            "created_utc, currency, gross_minor, fee_minor, net_minor, reporting_category, source_id, _file_id, "
            "_row_number, _load_id, _published_at) VALUES ('2026-01-05', %s, %s, '2026-01-05 10:00', %s, %s, %s, %s, "
            "%s, %s, 3, %s, 'test', UTC_TIMESTAMP())",
            [(*row, n) for n, row in enumerate(STRIPE, start=2)])
        cur.executemany(
            f"INSERT INTO {raw}.src_bank_us_statement_lines (sender_id, group_as_of_date, account_section, "
            "account_number, currency, type_code, direction, amount_minor, bank_reference, customer_reference, text, "
            "value_date, account_summary_total_minor, business_date, _file_id, _row_number, _load_id, _published_at) "
            "VALUES ('BANK', %s, 1, CONCAT('ACCT-', %s), %s, IF(%s = 'credit', '195', '495'), %s, %s, %s, %s, %s, %s, "
            "0, %s, 4, %s, 'test', UTC_TIMESTAMP())",
            [(bd, c, c, d, d, amt, ref, cref, text, vd, bd, n)
             for n, (bd, c, d, amt, ref, cref, text, vd) in enumerate(BAI2, start=2)])
        cur.executemany(
            f"INSERT INTO {raw}.src_bank_eu_statement_lines (message_id, statement_id, statement_sequence, account_id, "
            "entry_sequence, bank_reference, currency, amount_minor, direction, is_reversal, entry_status, "
            "booking_date, value_date, remittance_text, business_date, _file_id, _row_number, _load_id, "
            "_published_at) VALUES ('MSG', 'STMT', 1, 'NL00BANK0123456789', %s, %s, %s, %s, %s, 0, %s, %s, %s, %s, "
            "%s, 5, %s, 'test', UTC_TIMESTAMP())",
            [(n, ref, c, amt, d, st, vd, vd, text, bd, n)
             for n, (bd, c, d, amt, st, ref, text, vd) in enumerate(CAMT, start=2)])


def _payouts() -> dict[str, tuple]:
    return {(ref or bank_ref) + (f"/{cur}" if ref else ""): (status, expected, bank, bank_ref)
            for ref, cur, status, expected, bank, bank_ref in _rows(
                "SELECT payout_reference, currency, status, expected_amount_minor, bank_amount_minor, bank_reference "
                "FROM {marts}.fct_payout_reconciliation")}


def _transactions() -> dict[str, tuple]:
    return {le: (status, payout_status, payout_ref, full) for le, status, payout_status, payout_ref, full in _rows(
        "SELECT ledger_entry_id, status, payout_status, payout_reference, is_fully_reconciled "
        "FROM {marts}.fct_transaction_reconciliation")}


def test_payout_leg_and_three_way_status(seeded, tmp_path: Path) -> None:
    _build(D1, tmp_path)  # models and every dbt test
    assert _payouts() == {
        "RECON_MERCHANT:1001/EUR": ("funded", 7050, 7050, "E1"),
        "RECON_MERCHANT:1001/USD": ("amount_mismatch", 3400, 3390, "B1"),  # a short payout
        "po_S1/USD": ("funded", 941, 941, "B3"),  # B2's "PO_S1" is another id: Stripe ids are case-sensitive
        "po_S2/USD": ("pending_bank", 1900, None, None),  # 3 days after its payout date: still in grace
        "po_S3/KWD": ("pending_bank", 1455, None, None),
        "B2": ("unexplained_bank_credit", None, 941, "B2"),
        "E2": ("unexplained_bank_credit", None, 12345, "E2"),
    }
    assert _transactions() == {
        "le_a1": ("matched", "funded", "RECON_MERCHANT:1001", 1),
        "le_a2": ("matched", "payout_amount_mismatch", "RECON_MERCHANT:1001", 0),  # JPY gross vs the JPY ledger
        "le_a3": ("matched", "funded", "RECON_MERCHANT:1001", 1),
        "le_a4": ("matched", "funded", "RECON_MERCHANT:1001", 1),
        "le_s1": ("matched", "funded", "po_S1", 1),
        "le_s2": ("matched", "pending_bank", "po_S2", 0),
        "le_s3": ("matched", "pending_bank", "po_S3", 0),
    }
    fees = dict(_rows("SELECT ledger_entry_id, fee_minor FROM {marts}.fct_transaction_reconciliation"))
    assert fees["le_a1"] == 200 and fees["le_s1"] == 59

    report = {(leg, src, cur, st): (n, full) for leg, src, cur, st, n, full in _rows(
        "SELECT leg, source, currency, status, item_count, fully_reconciled_count FROM {marts}.rpt_daily_reconciliation "
        "WHERE as_of_date = %s", D1)}
    assert report[("transaction", "adyen", "EUR", "matched")] == (3, 3)
    assert report[("payout", "adyen", "USD", "amount_mismatch")] == (1, 0)
    assert report[("payout", "bank_eu", "EUR", "unexplained_bank_credit")] == (1, 0)

    _build(D2, tmp_path)  # 6 days after the payouts: past the bank grace; B5's value date is past the window
    payouts = _payouts()
    assert payouts["po_S2/USD"][0] == payouts["po_S3/KWD"][0] == "missing_in_bank"
    assert payouts["B5"] == ("unexplained_bank_credit", None, 1455, "B5")
    assert _transactions()["le_s2"] == ("matched", "missing_in_bank", "po_S2", 0)
    # the earlier date stays queryable from the change log
    as_of_d1 = dict(_rows(
        "SELECT h.payout_reference, h.status FROM {marts}.fct_payout_reconciliation_history h JOIN (SELECT recon_key, "
        "MAX(as_of_date) AS d FROM {marts}.fct_payout_reconciliation_history WHERE as_of_date <= %s GROUP BY "
        "recon_key) l ON l.recon_key = h.recon_key AND l.d = h.as_of_date WHERE h.is_removed = 0 "
        "AND h.payout_reference = 'po_S2'", D1))
    assert as_of_d1 == {"po_S2": "pending_bank"}


def test_mart_gate_passes_then_catches_a_payout_that_does_not_add_up(seeded, tmp_path: Path) -> None:
    from recon.gates.marts import gate_marts

    _build(D1, tmp_path)
    result = gate_marts(D1)
    assert result.success, result.summary()
    # a payout whose recorded expected amount no longer equals the sum of its lines' net
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"UPDATE {load_settings().marts_db}.fct_payout_reconciliation_history "
                    "SET expected_amount_minor = expected_amount_minor + 1 WHERE payout_reference = 'po_S2'")
    result = gate_marts(D1)
    assert not result.success
    assert any("expected amount equals the sum of its lines" in failure for failure in result.failures)
