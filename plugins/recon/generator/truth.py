"""The expected `fct_transaction_reconciliation` per as-of date, derived from the generated data alone.

It applies the contract's rules to what the files contain (visibility, key, precedence), not to the anomaly
labels, so it is an independent reference for the dbt models; the labels only fill the `anomaly` column. A row's
payout status is its first line's payout's status (payout_truth.py) as of the same date.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping, Sequence

from .anomalies import NONE
from .model import LedgerVersion, ProcessorTxn

GRACE_DAYS = 3  # processor grace period (contract 2.1 default)
BANK_GRACE_DAYS = 3  # bank grace period after the payout date (contract 2.2 default), for lines with no payout

STATUSES: tuple[str, ...] = (
    "matched", "amount_mismatch", "currency_mismatch", "pending_processor", "missing_in_processor",
    "missing_in_ledger", "duplicate_in_ledger", "duplicate_in_processor",
)
PAYOUT_STATUSES: tuple[str, ...] = (
    "funded", "payout_amount_mismatch", "pending_bank", "missing_in_bank", "not_applicable",
)
# A payout's status (fct_payout_reconciliation) -> its transactions' payout_status.
TRANSACTION_PAYOUT_STATUS: dict[str, str] = {
    "funded": "funded", "amount_mismatch": "payout_amount_mismatch", "pending_bank": "pending_bank",
    "missing_in_bank": "missing_in_bank",
}

TRUTH_COLUMNS: tuple[str, ...] = (
    "as_of_date", "ledger_entry_id", "processor", "processor_reference", "entry_type", "processor_line_id",
    "currency", "ledger_amount_minor", "processor_amount_minor", "expected_status", "expected_payout_status",
    "anomaly", "payout_reference", "expected_is_fully_reconciled",
)

Key = tuple[str, str, str]
# (as_of, processor, payout_reference, currency) -> that payout's status as of that date.
PayoutStatuses = Mapping[tuple[date, str, str, str], str]


@dataclass(frozen=True)
class TruthRow:
    as_of_date: date
    ledger_entry_id: str
    processor: str
    processor_reference: str
    entry_type: str
    processor_line_id: str
    currency: str
    ledger_amount_minor: int | None
    processor_amount_minor: int | None
    expected_status: str
    expected_payout_status: str
    anomaly: str
    payout_reference: str = ""
    expected_is_fully_reconciled: int = 0

    def as_csv(self) -> dict[str, str]:
        # getattr, not dataclasses.asdict: asdict deep-copies every value and dominated the run time.
        values = {column: getattr(self, column) for column in TRUTH_COLUMNS}
        return {k: "" if v is None else (v.isoformat() if isinstance(v, date) else str(v)) for k, v in values.items()}


def visible_entries(versions_by_entry: Mapping[str, Sequence[LedgerVersion]], as_of: date) -> list[LedgerVersion]:
    """Posted entries as of `as_of`: occurred by then, in their latest version updated by then."""
    visible = []
    for entry_id in sorted(versions_by_entry):
        known = [v for v in versions_by_entry[entry_id] if v.updated_at.date() <= as_of]
        if not known:
            continue
        latest = max(known, key=lambda v: v.updated_at)
        if latest.occurred_at.date() <= as_of and latest.status == "posted":
            visible.append(latest)
    return visible


def _payout_status(lines: Sequence[ProcessorTxn], as_of: date, payouts: PayoutStatuses) -> str:
    """The payout status of the key's first line (lines come sorted: earliest file, then smallest id)."""
    if not lines:
        return "not_applicable"
    first = lines[0]
    status = payouts.get((as_of, first.processor, first.payout_reference, first.net_currency))
    if first.payout_reference and status is not None:
        return TRANSACTION_PAYOUT_STATUS[status]
    # A line that names no payout waits for the bank by its own business date.
    return "pending_bank" if (as_of - first.business_date).days <= BANK_GRACE_DAYS else "missing_in_bank"


def _row(as_of: date, entry_id: str, key: Key, line_id: str, currency: str, ledger_amount: int | None,
         processor_amount: int | None, status: str, payout_status: str, anomaly: str,
         first_line: ProcessorTxn | None) -> TruthRow:
    processor, reference, entry_type = key
    return TruthRow(as_of, entry_id, processor, reference, entry_type, line_id, currency, ledger_amount,
                    processor_amount, status, payout_status, anomaly,
                    first_line.payout_reference if first_line else "",
                    int(status == "matched" and payout_status == "funded"))


def _rows_for_key(key: Key, entries: list[LedgerVersion], lines: list[ProcessorTxn], as_of: date,
                  anomaly_by_entry: Mapping[str, str], anomaly_by_line: Mapping[str, str],
                  payouts: PayoutStatuses) -> list[TruthRow]:
    if not entries:  # every orphan line is its own row
        return [
            _row(as_of, "", key, line.line_id, line.currency, None, line.amount_minor, "missing_in_ledger",
                 _payout_status([line], as_of, payouts), anomaly_by_line.get(line.line_id, NONE), line)
            for line in lines
        ]
    payout_status = _payout_status(lines, as_of, payouts)

    line_id = lines[0].line_id if lines else ""
    processor_amount = sum(line.amount_minor for line in lines) if lines else None
    if len(entries) >= 2:
        status = "duplicate_in_ledger"
    elif len(lines) >= 2:
        status = "duplicate_in_processor"
    elif len(lines) == 1:
        entry, line = entries[0], lines[0]
        if line.currency != entry.currency:
            status = "currency_mismatch"
        elif line.amount_minor != entry.amount_minor:
            status = "amount_mismatch"
        else:
            status = "matched"
    else:
        age = (as_of - entries[0].business_date).days
        status = "pending_processor" if age <= GRACE_DAYS else "missing_in_processor"
    return [
        _row(as_of, entry.entry_id, key, line_id, entry.currency, entry.amount_minor, processor_amount, status,
             payout_status, anomaly_by_entry.get(entry.entry_id, NONE), lines[0] if lines else None)
        for entry in entries
    ]


def compute_truth(ledger: Iterable[LedgerVersion], txns: Iterable[ProcessorTxn], as_of_dates: Iterable[date],
                  anomaly_by_entry: Mapping[str, str], anomaly_by_line: Mapping[str, str],
                  payout_statuses: PayoutStatuses | None = None) -> list[TruthRow]:
    versions_by_entry: dict[str, list[LedgerVersion]] = defaultdict(list)
    for version in ledger:
        versions_by_entry[version.entry_id].append(version)
    # Lines in delivery order, so "the first line" of a key is the earliest file's (then the smallest id).
    all_lines = sorted(txns, key=lambda t: (t.business_date, t.line_id))

    rows: list[TruthRow] = []
    for as_of in sorted(as_of_dates):
        entries_by_key: dict[Key, list[LedgerVersion]] = defaultdict(list)
        for entry in visible_entries(versions_by_entry, as_of):
            entries_by_key[(entry.processor, entry.processor_reference, entry.entry_type)].append(entry)
        lines_by_key: dict[Key, list[ProcessorTxn]] = defaultdict(list)
        for line in all_lines:
            if line.business_date <= as_of:
                lines_by_key[line.key].append(line)
        for key in sorted(set(entries_by_key) | set(lines_by_key)):
            rows.extend(_rows_for_key(key, entries_by_key.get(key, []), lines_by_key.get(key, []), as_of,
                                      anomaly_by_entry, anomaly_by_line, payout_statuses or {}))
    rows.sort(key=lambda r: (r.as_of_date, r.processor, r.processor_reference, r.entry_type, r.ledger_entry_id,
                             r.processor_line_id))
    return rows


def summarize(rows: Sequence[TruthRow], as_of_dates: Iterable[date]) -> dict[str, dict]:
    """Per as-of date: row count, counts per status and payout status (zeros included), fully reconciled rows,
    ledger total per currency."""
    rows_by_date: dict[date, list[TruthRow]] = defaultdict(list)
    for row in rows:
        rows_by_date[row.as_of_date].append(row)
    summary: dict[str, dict] = {}
    for as_of in sorted(as_of_dates):
        day_rows = rows_by_date.get(as_of, [])
        statuses = Counter(row.expected_status for row in day_rows)
        payouts = Counter(row.expected_payout_status for row in day_rows)
        totals: Counter[str] = Counter()
        for row in day_rows:
            if row.ledger_entry_id:
                totals[row.currency] += row.ledger_amount_minor or 0
        summary[as_of.isoformat()] = {
            "rows": len(day_rows),
            "status_counts": {status: statuses.get(status, 0) for status in STATUSES},
            "payout_status_counts": {status: payouts.get(status, 0) for status in PAYOUT_STATUSES},
            "fully_reconciled": sum(row.expected_is_fully_reconciled for row in day_rows),
            "ledger_total_minor": dict(sorted(totals.items())),
        }
    return summary
