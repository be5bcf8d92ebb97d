"""Compare the marts with the generator's ground truth (used by `recon demo` and the tests)."""
from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from recon import db
from recon.gates.marts import state_as_of_sql
from recon.settings import load_settings

Key = tuple[str, str]  # ("L", ledger_entry_id) or ("P", processor_line_id)


def _key(ledger_entry_id: str | None, processor_line_id: str | None) -> Key:
    return ("L", ledger_entry_id) if ledger_entry_id else ("P", processor_line_id or "")


def load_truth(data_dir: Path, as_of: date) -> dict[Key, tuple[str, str]]:
    expected: dict[Key, tuple[str, str]] = {}
    with open(data_dir / "truth" / "transactions.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["as_of_date"] == as_of.isoformat():
                expected[_key(row["ledger_entry_id"], row["processor_line_id"])] = (
                    row["expected_status"], row["expected_payout_status"])
    return expected


def mart_state(as_of: date) -> dict[Key, tuple[str, str]]:
    s = load_settings()
    with db.transaction() as cur:
        cur.execute(f"SELECT ledger_entry_id, processor_line_id, status, payout_status FROM "
                    f"({state_as_of_sql(s, as_of)}) state")
        return {_key(l, p): (st, ps) for l, p, st, ps in cur.fetchall()}


@dataclass
class Comparison:
    as_of: date
    expected_rows: int
    actual_rows: int
    differences: list[str] = field(default_factory=list)
    status_counts: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.differences


def compare(data_dir: Path, as_of: date) -> Comparison:
    expected, actual = load_truth(data_dir, as_of), mart_state(as_of)
    result = Comparison(as_of, len(expected), len(actual), status_counts=Counter(s for s, _ in expected.values()))
    for key in sorted(set(expected) | set(actual), key=str):
        exp, act = expected.get(key), actual.get(key)
        if exp != act:
            result.differences.append(f"{key[0]}:{key[1]} expected {exp} got {act}")
    return result
