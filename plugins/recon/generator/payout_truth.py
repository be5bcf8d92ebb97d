"""The expected `fct_payout_reconciliation` per as-of date: the spec's payout-leg rules applied to the files.

It reads only what the settlement files state about payouts (amounts, dates) and what the statements state about
bank lines (references, text, value dates, status), searches the lines for each processor's pattern like the
pipeline does, and never looks at how the lines were planned; the labels only fill the `anomaly` column.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Mapping, Sequence

from .anomalies import NONE
from .model import BankLine, Payout


@dataclass(frozen=True)
class PayoutRules:
    """A processor's payout options (its source YAML): pattern, value-date window, bank grace, tolerance."""

    pattern: re.Pattern[str]
    token_pattern: re.Pattern[str] | None = None  # the part of the match naming the payout (None: all of it)
    value_date_window_days: int = 5
    bank_grace_days: int = 3
    amount_tolerance_minor: int = 0


RULES: dict[str, PayoutRules] = {
    "stripe": PayoutRules(re.compile(r"po_[A-Za-z0-9]+")),
    "adyen": PayoutRules(re.compile(r"(?i)batch\s*[0-9]+"), token_pattern=re.compile(r"[0-9]+$")),
}

PAYOUT_RECON_STATUSES: tuple[str, ...] = (
    "funded", "amount_mismatch", "pending_bank", "missing_in_bank", "unexplained_bank_credit",
)

PAYOUT_TRUTH_COLUMNS: tuple[str, ...] = (
    "as_of_date", "kind", "processor", "payout_reference", "currency", "payout_date", "expected_amount_minor",
    "reported_amount_minor", "bank_source", "bank_reference", "bank_amount_minor", "value_date", "expected_status",
    "anomaly",
)

def payout_token(line: BankLine, pattern: re.Pattern[str], token_pattern: re.Pattern[str] | None = None) -> str | None:
    """First match of `pattern` in the line's reference fields then its text; then, with a token pattern, the
    first match of that inside it (`po_1AbC` -> `po_1AbC`; `BATCH 1234` with `[0-9]+$` -> `1234`)."""
    for field in (line.bank_reference, line.reference, line.text):
        match = pattern.search(field)
        if match:
            if token_pattern is None:
                return match.group(0)
            token = token_pattern.search(match.group(0))
            return token.group(0) if token else None
    return None


@dataclass(frozen=True)
class PayoutTruthRow:
    as_of_date: date
    kind: str  # payout | bank_credit
    processor: str
    payout_reference: str
    currency: str
    payout_date: date | None
    expected_amount_minor: int | None
    reported_amount_minor: int | None
    bank_source: str
    bank_reference: str
    bank_amount_minor: int | None
    value_date: date | None
    expected_status: str
    anomaly: str

    def as_csv(self) -> dict[str, str]:
        values = {column: getattr(self, column) for column in PAYOUT_TRUTH_COLUMNS}
        return {k: "" if v is None else (v.isoformat() if isinstance(v, date) else str(v)) for k, v in values.items()}


def _status(payout: Payout, credit: BankLine | None, as_of: date, rules: PayoutRules) -> str:
    if payout.reported_minor is not None and payout.reported_minor != payout.expected_minor:
        return "amount_mismatch"  # the processor's own payout line disagrees with its lines: a break at once
    if credit is None:
        return "pending_bank" if (as_of - payout.business_date).days <= rules.bank_grace_days else "missing_in_bank"
    amount_ok = abs(credit.amount_minor - payout.expected_minor) <= rules.amount_tolerance_minor
    return "funded" if amount_ok else "amount_mismatch"


def compute_payout_truth(payouts: Sequence[Payout], bank_lines: Sequence[BankLine], as_of_dates: Iterable[date],
                         payout_anomaly: Mapping[tuple[str, str, str], str],
                         rules: Mapping[str, PayoutRules] = RULES) -> list[PayoutTruthRow]:
    """Per as-of date: one row per visible payout, one per visible booked credit that pays none."""
    credits = [line for line in bank_lines if line.can_pay_a_payout]
    # Which credits carry which token, per processor and currency: computed once, not per as-of date.
    by_token: dict[tuple[str, str, str], list[BankLine]] = defaultdict(list)
    for line in credits:
        for processor, processor_rules in rules.items():
            token = payout_token(line, processor_rules.pattern, processor_rules.token_pattern)
            if token is not None:
                by_token[(processor, line.currency, token)].append(line)

    rows: list[PayoutTruthRow] = []
    for as_of in sorted(as_of_dates):
        used: set[int] = set()
        for payout in sorted(payouts, key=lambda p: p.key):
            if payout.business_date > as_of:
                continue
            processor_rules = rules[payout.processor]
            last_value_date = payout.business_date + timedelta(days=processor_rules.value_date_window_days)
            candidates = [
                line for line in by_token.get((payout.processor, payout.currency, payout.token), [])
                if line.statement_date <= as_of and payout.business_date <= line.effective_value_date <= last_value_date
            ]
            # Several qualify: the exact amount first, then the earliest value date, then the smallest reference.
            credit = min(candidates, default=None, key=lambda line: (
                line.amount_minor != payout.expected_minor, line.effective_value_date, line.bank_reference))
            if credit is not None:
                used.add(id(credit))
            rows.append(PayoutTruthRow(
                as_of, "payout", payout.processor, payout.reference, payout.currency, payout.business_date,
                payout.expected_minor, payout.reported_minor, credit.source if credit else "",
                credit.bank_reference if credit else "", credit.amount_minor if credit else None,
                credit.effective_value_date if credit else None, _status(payout, credit, as_of, processor_rules),
                payout_anomaly.get(payout.key, NONE),
            ))
        for line in credits:
            if line.statement_date <= as_of and id(line) not in used:
                rows.append(PayoutTruthRow(
                    as_of, "bank_credit", "", "", line.currency, None, None, None, line.source, line.bank_reference,
                    line.amount_minor, line.effective_value_date, "unexplained_bank_credit", line.anomaly,
                ))
    rows.sort(key=lambda r: (r.as_of_date, r.kind != "payout", r.processor, r.payout_reference, r.currency,
                             r.bank_source, r.bank_reference))
    return rows


def payout_status_lookup(rows: Iterable[PayoutTruthRow]) -> dict[tuple[date, str, str, str], str]:
    """(as_of, processor, payout_reference, currency) -> the payout's status, for the transaction rows."""
    return {(row.as_of_date, row.processor, row.payout_reference, row.currency): row.expected_status
            for row in rows if row.kind == "payout"}


def summarize_payouts(rows: Sequence[PayoutTruthRow], as_of_dates: Iterable[date]) -> dict[str, dict]:
    """Per as-of date: payout rows, counts per status (zeros included), expected payout total per currency."""
    rows_by_date: dict[date, list[PayoutTruthRow]] = defaultdict(list)
    for row in rows:
        rows_by_date[row.as_of_date].append(row)
    summary: dict[str, dict] = {}
    for as_of in sorted(as_of_dates):
        day_rows = rows_by_date.get(as_of, [])
        statuses = Counter(row.expected_status for row in day_rows)
        expected: Counter[str] = Counter()
        for row in day_rows:
            if row.kind == "payout":
                expected[row.currency] += row.expected_amount_minor or 0
        summary[as_of.isoformat()] = {
            "rows": len(day_rows),
            "status_counts": {status: statuses.get(status, 0) for status in PAYOUT_RECON_STATUSES},
            "expected_total_minor": dict(sorted(expected.items())),
        }
    return summary
