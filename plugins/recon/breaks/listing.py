"""`recon breaks list`: the breaks of fct_reconciliation_breaks, filtered, as a table, CSV or JSON."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any, Sequence

from recon import connections, db
from recon.currencies import EXPONENTS
from recon.settings import Settings, load_settings

COLUMNS = ("break_id", "leg", "reason", "side", "priority", "lifecycle", "age_days", "age_bucket", "amount_minor",
           "currency", "processor", "reference", "ledger_entry_id", "business_date", "first_seen_as_of",
           "opened_as_of", "last_seen_as_of", "closed_as_of", "times_opened", "resolution_id", "resolution_reason",
           "resolved_by", "resolved_at", "as_of_date")
# status filter -> lifecycles; "unresolved" (open or reopened) is what needs work
STATUSES: dict[str, tuple[str, ...]] = {
    "unresolved": ("open", "reopened"),
    "open": ("open",),
    "reopened": ("reopened",),
    "resolved": ("resolved",),
    "auto_resolved": ("auto_resolved",),
    "closed": ("resolved", "auto_resolved"),
    "all": ("open", "reopened", "resolved", "auto_resolved"),
}
TABLE_COLUMNS = (("break_id", 32), ("leg", 11), ("reason", 23), ("pri", 3), ("lifecycle", 13), ("age", 4),
                 ("amount", 16), ("processor", 9), ("reference", 24), ("opened", 10))


@dataclass(frozen=True)
class BreakFilter:
    status: str = "unresolved"
    leg: str | None = None
    reasons: Sequence[str] = ()
    priority: str | None = None
    currency: str | None = None
    older_than_days: int | None = None   # age_days > this
    min_amount: Decimal | None = None     # major units of each break's own currency (no FX)
    limit: int | None = None


def query(filters: BreakFilter, settings: Settings) -> tuple[str, list[Any]]:
    """Parameterized SQL; biggest and oldest first."""
    lifecycles = STATUSES[filters.status]
    where = [f"lifecycle IN ({', '.join(['%s'] * len(lifecycles))})"]
    params: list[Any] = list(lifecycles)
    if filters.leg:
        where.append("leg = %s")
        params.append(filters.leg)
    if filters.reasons:
        where.append(f"reason IN ({', '.join(['%s'] * len(filters.reasons))})")
        params.extend(filters.reasons)
    if filters.priority:
        where.append("priority = %s")
        params.append(filters.priority)
    if filters.currency:
        where.append("currency = %s")
        params.append(filters.currency.upper())
    if filters.older_than_days is not None:
        where.append("age_days > %s")
        params.append(filters.older_than_days)
    if filters.min_amount is not None:
        clause, values = _min_amount_clause(filters.min_amount)
        where.append(clause)
        params.extend(values)
    sql = (f"SELECT {', '.join(COLUMNS)} FROM {settings.marts_db}.fct_reconciliation_breaks "
           f"WHERE {' AND '.join(where)} ORDER BY priority, age_days DESC, amount_minor DESC, break_id")
    if filters.limit:
        sql += " LIMIT %s"
        params.append(filters.limit)
    return sql, params


def _min_amount_clause(min_amount: Decimal) -> tuple[str, list[Any]]:
    """amount_minor >= the threshold in minor units of each row's currency: one exact integer per exponent (no
    floating point), the currencies of the non-2 exponents listed."""
    by_exponent: dict[int, list[str]] = {}
    for code, exponent in sorted(EXPONENTS.items()):
        if exponent != 2:
            by_exponent.setdefault(exponent, []).append(code)
    cases, params = [], []
    for exponent, codes in sorted(by_exponent.items()):
        cases.append(f"WHEN currency IN ({', '.join(['%s'] * len(codes))}) THEN %s")
        params += [*codes, _minor_ceiling(min_amount, exponent)]
    params.append(_minor_ceiling(min_amount, 2))
    return f"amount_minor >= CASE {' '.join(cases)} ELSE %s END", params


def _minor_ceiling(amount: Decimal, exponent: int) -> int:
    return int(amount.scaleb(exponent).to_integral_value(rounding=ROUND_CEILING))


def major_amount(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-EXPONENTS.get(currency, 2))


def list_breaks(filters: BreakFilter, settings: Settings | None = None) -> list[dict[str, Any]]:
    settings = settings or load_settings()
    sql, params = query(filters, settings)
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(sql, params)
        return [dict(zip(COLUMNS, row)) for row in cur.fetchall()]


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def format_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no breaks match"
    lines = ["  ".join(f"{title:<{width}}" for title, width in TABLE_COLUMNS).rstrip()]
    for r in rows:
        amount = f"{major_amount(r['amount_minor'], r['currency'])} {r['currency']}"
        cells = (r["break_id"], r["leg"], r["reason"], r["priority"], r["lifecycle"], str(r["age_days"]), amount,
                 r["processor"] or "-", (r["reference"] or "-")[:24], str(r["opened_as_of"]))
        lines.append("  ".join(f"{cell:<{width}}" for cell, (_, width) in zip(cells, TABLE_COLUMNS)).rstrip())
    lines.append(f"{len(rows)} break(s) as of {rows[0]['as_of_date']}")
    return "\n".join(lines)


def format_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _plain(v) for k, v in r.items()})
    return out.getvalue()


def format_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], indent=2)


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json}
