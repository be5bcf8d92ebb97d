"""Compare the marts with the generator's ground truth (used by `recon demo` and the tests).

Transactions (truth/transactions.csv vs fct_transaction_reconciliation as of D): per item (ledger entry, or
processor line with no entry) the status, payout status, payout reference and is_fully_reconciled.
Payouts (truth/payouts.csv vs fct_payout_reconciliation as of D): per payout (processor, reference, currency) or
unexplained bank credit (bank source, bank reference) the status and the expected and bank amounts.
"""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from recon import connections, db
from recon.gates.marts import state_as_of_sql
from recon.settings import load_settings

Key = tuple[str, ...]


def _transaction_key(ledger_entry_id: str | None, processor_line_id: str | None) -> Key:
    return ("L", ledger_entry_id) if ledger_entry_id else ("P", processor_line_id or "")


def _payout_key(processor: str | None, payout_reference: str | None, currency: str, bank_source: str | None,
                bank_reference: str | None) -> Key:
    if payout_reference:
        return ("PO", processor or "", payout_reference, currency)
    return ("BC", bank_source or "", bank_reference or "")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _rows_for(path: Path, as_of: date) -> list[dict[str, str]]:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: regenerate the data with `recon generate`")
    with open(path, newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["as_of_date"] == as_of.isoformat()]


def load_truth(data_dir: Path, as_of: date) -> dict[Key, tuple[str, ...]]:
    return {
        _transaction_key(row["ledger_entry_id"], row["processor_line_id"]): (
            row["expected_status"], row["expected_payout_status"], row["payout_reference"],
            row["expected_is_fully_reconciled"])
        for row in _rows_for(data_dir / "truth" / "transactions.csv", as_of)
    }


def load_payout_truth(data_dir: Path, as_of: date) -> dict[Key, tuple[str, ...]]:
    return {
        _payout_key(row["processor"], row["payout_reference"] if row["kind"] == "payout" else "", row["currency"],
                    row["bank_source"], row["bank_reference"]): (
            row["expected_status"], row["expected_amount_minor"], row["bank_amount_minor"], row["bank_reference"])
        for row in _rows_for(data_dir / "truth" / "payouts.csv", as_of)
    }


def mart_state(as_of: date) -> dict[Key, tuple[str, ...]]:
    s = load_settings()
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute("SELECT ledger_entry_id, processor_line_id, status, payout_status, payout_reference, "
                    f"is_fully_reconciled FROM ({state_as_of_sql(s, as_of)}) state")
        return {_transaction_key(l, p): (st, ps, _text(ref), _text(full))
                for l, p, st, ps, ref, full in cur.fetchall()}


def payout_mart_state(as_of: date) -> dict[Key, tuple[str, ...]]:
    s = load_settings()
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute("SELECT processor, payout_reference, currency, bank_source, bank_reference, status, "
                    "expected_amount_minor, bank_amount_minor FROM "
                    f"({state_as_of_sql(s, as_of, 'fct_payout_reconciliation')}) state")
        return {_payout_key(pr, ref, cur_, bs, br): (st, _text(exp), _text(bank), _text(br))
                for pr, ref, cur_, bs, br, st, exp, bank in cur.fetchall()}


@dataclass
class Comparison:
    as_of: date
    expected_rows: int
    actual_rows: int
    differences: list[str] = field(default_factory=list)
    status_counts: Counter = field(default_factory=Counter)
    expected_payout_rows: int = 0
    actual_payout_rows: int = 0
    payout_status_counts: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.differences


def _diff(kind: str, expected: dict[Key, tuple[str, ...]], actual: dict[Key, tuple[str, ...]]) -> list[str]:
    out = []
    for key in sorted(set(expected) | set(actual), key=str):
        exp, act = expected.get(key), actual.get(key)
        if exp != act:
            out.append(f"{kind} {':'.join(key)} expected {exp} got {act}")
    return out


def compare(data_dir: Path, as_of: date) -> Comparison:
    expected, actual = load_truth(data_dir, as_of), mart_state(as_of)
    expected_payouts, actual_payouts = load_payout_truth(data_dir, as_of), payout_mart_state(as_of)
    return Comparison(
        as_of, len(expected), len(actual),
        differences=_diff("transaction", expected, actual) + _diff("payout", expected_payouts, actual_payouts),
        status_counts=Counter(v[0] for v in expected.values()),
        expected_payout_rows=len(expected_payouts), actual_payout_rows=len(actual_payouts),
        payout_status_counts=Counter(v[0] for v in expected_payouts.values()),
    )
