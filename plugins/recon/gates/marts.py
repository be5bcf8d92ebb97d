"""The gate on the marts for as-of date D: every posted ledger entry appears exactly once, the status vocabulary
holds, and per currency the ledger total equals the sum over statuses (conservation)."""
from __future__ import annotations

from datetime import date

from recon import db
from recon.gates.gx_runner import GateResult, GxSession
from recon.settings import Settings, load_settings

STATUSES = ["matched", "amount_mismatch", "currency_mismatch", "pending_processor", "missing_in_processor",
            "missing_in_ledger", "duplicate_in_ledger", "duplicate_in_processor"]
PAYOUT_STATUSES = ["funded", "pending_bank", "missing_in_bank", "payout_amount_mismatch", "not_applicable"]


def state_as_of_sql(s: Settings, as_of: date) -> str:
    """The transaction mart as it stood at `as_of`, rebuilt from the change log."""
    d = as_of.isoformat()
    hist = f"{s.marts_db}.fct_transaction_reconciliation_history"
    return (f"SELECT h.* FROM {hist} h JOIN (SELECT recon_key, MAX(as_of_date) AS as_of FROM {hist} "
            f"WHERE as_of_date <= '{d}' GROUP BY recon_key) last ON last.recon_key = h.recon_key "
            "AND last.as_of = h.as_of_date WHERE h.is_removed = 0")


def posted_ledger_as_of_sql(s: Settings, as_of: date) -> str:
    """Posted ledger entries visible at `as_of`: latest version with updated_at's date <= as_of."""
    d = as_of.isoformat()
    src = f"{s.raw_db}.src_ledger_entries"
    return (f"SELECT v.entry_id, v.currency, v.amount_minor FROM {src} v JOIN (SELECT entry_id, MAX(updated_at) AS u "
            f"FROM {src} WHERE DATE(updated_at) <= '{d}' AND business_date <= '{d}' GROUP BY entry_id) l "
            "ON l.entry_id = v.entry_id AND l.u = v.updated_at WHERE v.status = 'posted'")


def mart_expectations(s: Settings, as_of: date) -> list[dict]:
    ledger = posted_ledger_as_of_sql(s, as_of)
    return [
        {"type": "expect_column_values_to_not_be_null", "column": "recon_key"},
        {"type": "expect_column_values_to_be_unique", "column": "recon_key"},
        {"type": "expect_column_values_to_be_unique", "column": "ledger_entry_id"},
        {"type": "expect_column_values_to_be_in_set", "column": "status", "value_set": STATUSES},
        {"type": "expect_column_values_to_be_in_set", "column": "payout_status", "value_set": PAYOUT_STATUSES},
        {"type": "unexpected_rows", "description": "every posted ledger entry appears in the mart",
         "unexpected_rows_query": f"SELECT e.entry_id FROM ({ledger}) e LEFT JOIN {{batch}} b "
                                  "ON b.ledger_entry_id = e.entry_id WHERE b.recon_key IS NULL"},
        {"type": "unexpected_rows", "description": "no mart row for an entry that is not a visible posted entry",
         "unexpected_rows_query": f"SELECT b.ledger_entry_id FROM {{batch}} b LEFT JOIN ({ledger}) e "
                                  "ON e.entry_id = b.ledger_entry_id WHERE b.ledger_entry_id IS NOT NULL "
                                  "AND e.entry_id IS NULL"},
        {"type": "unexpected_rows", "description": "per currency, the ledger total equals the sum over statuses",
         "unexpected_rows_query": (
             f"SELECT l.currency, l.total AS ledger_total, m.total AS mart_total FROM (SELECT currency, SUM(amount_minor) AS total FROM ({ledger}) x "
             "GROUP BY currency) l LEFT JOIN (SELECT currency, SUM(ledger_amount_minor) AS total FROM {batch} bt "
             "WHERE ledger_entry_id IS NOT NULL GROUP BY currency) m ON m.currency = l.currency "
             "WHERE m.total IS NULL OR m.total <> l.total")},
        {"type": "unexpected_rows", "description": "the daily report's per-currency ledger totals equal the mart's",
         "unexpected_rows_query": (
             "SELECT r.currency, r.total AS report_total, m.total AS mart_total FROM (SELECT currency, SUM(ledger_amount_minor) AS total "
             f"FROM {s.marts_db}.rpt_daily_reconciliation WHERE as_of_date = '{as_of.isoformat()}' GROUP BY currency) r "
             "LEFT JOIN (SELECT currency, SUM(COALESCE(ledger_amount_minor, 0)) AS total FROM {batch} bt "
             "GROUP BY currency) m ON m.currency = r.currency WHERE m.total IS NULL OR m.total <> r.total")},
    ]


def gate_marts(as_of: date) -> GateResult:
    s = load_settings()
    session = GxSession(db.sqlalchemy_url())
    return session.validate(f"marts as of {as_of}", state_as_of_sql(s, as_of), mart_expectations(s, as_of))
