"""The reconciliation summary, read back from the marts (what `make demo` prints and `recon summary` shows):
both legs of rpt_daily_reconciliation and the breaks of rpt_break_aging for one as-of date."""
from __future__ import annotations

from datetime import date, datetime

import pymysql

from recon import connections, db
from recon.reconcile import latest_processed_as_of_date
from recon.settings import load_settings

# (leg, source, currency, status, items, amount, fully reconciled): amount is the ledger amount on the transaction
# leg and the expected payout amount (the bank amount for unexplained credits) on the payout leg
Row = tuple[str, str, str, str, int, int, int]


def summary_rows(as_of: date | None = None) -> tuple[date | None, list[Row]]:
    s = load_settings()
    if as_of is None:
        as_of = latest_processed_as_of_date()
        if as_of is None:
            return None, []
    with db.transaction(connections.TRANSFORMER) as cur:
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


# (lifecycle, priority, age bucket, breaks)
BreakRow = tuple[str, str, str, int]
UNRESOLVED = ("open", "reopened")
AGE_BUCKETS = ("0-1", "2-3", "4-7", "8-30", ">30")


def break_rows(as_of: date) -> list[BreakRow]:
    s = load_settings()
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(
            f"SELECT lifecycle, priority, age_bucket, SUM(break_count) FROM {s.marts_db}.rpt_break_aging "
            "WHERE as_of_date = %s GROUP BY lifecycle, priority, age_bucket", (as_of,))
        return [(lc, pr, bucket, int(n)) for lc, pr, bucket, n in cur.fetchall()]


def format_breaks(as_of: date, rows: list[BreakRow]) -> str:
    def count(**match: str | tuple[str, ...]) -> int:
        total = 0
        for lifecycle, priority, bucket, n in rows:
            values = {"lifecycle": lifecycle, "priority": priority, "bucket": bucket}
            if all(values[k] in (v if isinstance(v, tuple) else (v,)) for k, v in match.items()):
                total += n
        return total

    unresolved = count(lifecycle=UNRESOLVED)
    lines = [f"Breaks as of {as_of} (rpt_break_aging; details: recon breaks list)",
             f"unresolved {unresolved} (reopened {count(lifecycle='reopened')}): "
             + ", ".join(f"{p} {count(lifecycle=UNRESOLVED, priority=p)}" for p in ("P1", "P2", "P3")),
             "unresolved by age (days): "
             + ", ".join(f"{b} {count(lifecycle=UNRESOLVED, bucket=b)}" for b in AGE_BUCKETS),
             f"closed: auto_resolved {count(lifecycle='auto_resolved')}, resolved by a person "
             f"{count(lifecycle='resolved')}"]
    return "\n".join(lines)


# (source, role, status, expected_by UTC)
ArrivalRow = tuple[str, str, str, datetime | None]


def arrival_rows(as_of: date) -> list[ArrivalRow]:
    """rpt_source_arrivals for the date; empty for a date reconciled before that mart existed."""
    s = load_settings()
    try:
        with db.transaction(connections.TRANSFORMER) as cur:
            cur.execute("SELECT source, role, status, expected_by FROM "
                        f"{s.marts_db}.rpt_source_arrivals WHERE as_of_date = %s ORDER BY source", (as_of,))
            return [(src, role, st, exp) for src, role, st, exp in cur.fetchall()]
    except pymysql.err.ProgrammingError as exc:
        if exc.args and exc.args[0] == 1146:  # no such table yet
            return []
        raise


def format_arrivals(as_of: date, rows: list[ArrivalRow]) -> str:
    """One line per source whose data for the date is not in: its items are pending, not matched."""
    if not rows:
        return ""
    published = sum(1 for row in rows if row[2] == "published")
    lines = [f"Sources for {as_of} (rpt_source_arrivals): {published} of {len(rows)} published"]
    for source, role, status, expected_by in rows:
        due = f"{expected_by:%Y-%m-%d %H:%M} UTC" if expected_by else "-"
        if status == "missing":
            lines.append(f"MISSING {source} ({role}): no file by {due}; its items stay pending. Drop the file, "
                         f"re-run ingest_{source} and reconcile_daily for {as_of} (docs/operations.md)")
        elif status == "waiting":
            lines.append(f"waiting {source} ({role}): file expected by {due}; reconciled without it for now")
        elif status == "no_file":
            lines.append(f"no file {source} ({role}): its ingest found nothing for {as_of}")
        elif status == "not_run":
            lines.append(f"not run {source} ({role}): ingest_{source} has not published {as_of}")
    return "\n".join(lines)


def print_summary(as_of: date | None = None) -> int:
    day, rows = summary_rows(as_of)
    print(format_summary(day, rows))
    if day is not None and rows:
        arrivals = format_arrivals(day, arrival_rows(day))
        if arrivals:
            print()
            print(arrivals)
        print()
        print(format_breaks(day, break_rows(day)))
    elif as_of is not None:
        print(f"(no reconciliation was run for as-of date {as_of}: pick a processed date, e.g. the latest)")
    return 0 if day is not None and rows else 1
