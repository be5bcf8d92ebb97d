"""The reconciliation summary, read back from the marts (what `make demo` prints and `recon summary` shows):
both legs of rpt_daily_reconciliation for one as-of date."""
from __future__ import annotations

from datetime import date

from recon import db
from recon.settings import load_settings

# (leg, source, currency, status, items, amount, fully reconciled): amount is the ledger amount on the transaction
# leg and the expected payout amount (the bank amount for unexplained credits) on the payout leg
Row = tuple[str, str, str, str, int, int, int]


def summary_rows(as_of: date | None = None) -> tuple[date | None, list[Row]]:
    s = load_settings()
    with db.transaction() as cur:
        if as_of is None:
            cur.execute(f"SELECT MAX(as_of_date) FROM {s.marts_db}.rpt_daily_reconciliation")
            as_of = cur.fetchone()[0]
            if as_of is None:
                return None, []
        cur.execute(
            "SELECT leg, source, currency, status, SUM(item_count), "
            "SUM(CASE WHEN leg = 'transaction' THEN ledger_amount_minor "
            "WHEN status = 'unexplained_bank_credit' THEN bank_amount_minor ELSE expected_amount_minor END), "
            f"SUM(fully_reconciled_count) FROM {s.marts_db}.rpt_daily_reconciliation WHERE as_of_date = %s "
            "GROUP BY leg, source, currency, status ORDER BY leg DESC, source, currency, status", (as_of,))
        return as_of, [(leg, src, cur_, st, int(n), int(a or 0), int(f or 0))
                       for leg, src, cur_, st, n, a, f in cur.fetchall()]


def _totals(rows: list[Row], leg: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row_leg, _source, _currency, status, items, _amount, _full in rows:
        if row_leg == leg:
            counts[status] = counts.get(status, 0) + items
    return counts


def status_counts(as_of: date | None = None, leg: str = "transaction") -> dict[str, int]:
    return _totals(summary_rows(as_of)[1], leg)


def format_summary(as_of: date | None, rows: list[Row]) -> str:
    if as_of is None:
        return "no reconciliation has run yet: `recon run --date YYYY-MM-DD` first"
    marts = load_settings().marts_db
    lines = [f"Reconciliation as of {as_of} (from {marts}.rpt_daily_reconciliation)"]
    for leg, title, amount_title in (("transaction", "Transactions: ledger <-> processor", "ledger amount (minor)"),
                                     ("payout", "Payouts: processor payout <-> bank credit", "amount (minor)")):
        lines += ["", title, f"{'source':<10} {'currency':<8} {'status':<24} {'items':>8} {amount_title:>22}"]
        for row_leg, source, currency, status, items, amount, _full in rows:
            if row_leg == leg:
                lines.append(f"{source or '-':<10} {currency or '-':<8} {status:<24} {items:>8} {amount:>22}")
        lines.append("totals by status: " + ", ".join(f"{k} {v}" for k, v in sorted(_totals(rows, leg).items())))
    items = sum(r[4] for r in rows if r[0] == "transaction")
    full = sum(r[6] for r in rows if r[0] == "transaction")
    if items:
        lines += ["", f"fully reconciled (matched to the processor AND funded by the bank): {full} of {items} "
                      f"transaction items ({100 * full / items:.1f}%)"]
    return "\n".join(lines)


def print_summary(as_of: date | None = None) -> int:
    day, rows = summary_rows(as_of)
    print(format_summary(day, rows))
    return 0 if day is not None else 1
