"""The reconciliation summary, read back from the marts (what `make demo` prints and `recon summary` shows)."""
from __future__ import annotations

from datetime import date

from recon import db
from recon.settings import load_settings


def summary_rows(as_of: date | None = None) -> tuple[date | None, list[tuple]]:
    s = load_settings()
    with db.transaction() as cur:
        if as_of is None:
            cur.execute(f"SELECT MAX(as_of_date) FROM {s.marts_db}.rpt_daily_reconciliation")
            as_of = cur.fetchone()[0]
            if as_of is None:
                return None, []
        cur.execute(
            f"SELECT processor, currency, status, SUM(item_count), SUM(ledger_amount_minor) "
            f"FROM {s.marts_db}.rpt_daily_reconciliation WHERE as_of_date = %s "
            "GROUP BY processor, currency, status ORDER BY processor, currency, status", (as_of,))
        return as_of, list(cur.fetchall())


def _totals(rows: list[tuple]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _processor, _currency, status, items, _amount in rows:
        counts[status] = counts.get(status, 0) + int(items)
    return counts


def status_counts(as_of: date | None = None) -> dict[str, int]:
    return _totals(summary_rows(as_of)[1])


def format_summary(as_of: date | None, rows: list[tuple]) -> str:
    if as_of is None:
        return "no reconciliation has run yet: `recon run --date YYYY-MM-DD` first"
    lines = [f"Transaction reconciliation as of {as_of} (from {load_settings().marts_db}.rpt_daily_reconciliation)",
             f"{'processor':<10} {'currency':<8} {'status':<24} {'items':>8} {'ledger amount (minor)':>22}"]
    for processor, currency, status, items, amount in rows:
        lines.append(f"{processor or '-':<10} {currency or '-':<8} {status:<24} {int(items):>8} "
                     f"{int(amount or 0):>22}")
    lines.append("totals by status: " + ", ".join(f"{k} {v}" for k, v in sorted(_totals(rows).items())))
    return "\n".join(lines)


def print_summary(as_of: date | None = None) -> int:
    day, rows = summary_rows(as_of)
    print(format_summary(day, rows))
    return 0 if day is not None else 1
