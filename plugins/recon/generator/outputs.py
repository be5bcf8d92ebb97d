"""Where each generated artefact goes and how it is laid out (see the package docstring for the tree)."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Sequence

from .csvio import write_csv, write_json
from .ids import IdFactory
from .model import LedgerVersion, ProcessorTxn
from .processors import PROCESSOR_WEIGHTS, PROCESSORS
from .truth import TRUTH_COLUMNS, TruthRow, summarize

# Contract 1.2, in this order.
LEDGER_COLUMNS: tuple[str, ...] = (
    "entry_id", "entry_type", "processor", "processor_reference", "account_id", "merchant_id", "amount_minor",
    "currency", "status", "occurred_at", "updated_at",
)


def _dt(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # DATETIME(6), UTC, no zone suffix


def write_ledger_changes(out_dir: Path, ledger: Sequence[LedgerVersion],
                         days: Sequence[date]) -> tuple[list[Path], int]:
    """product/ledger_changes_<day>.csv: the versions inserted or updated that day (upsert by entry_id)."""
    by_day: dict[date, dict[str, LedgerVersion]] = defaultdict(dict)
    for version in sorted(ledger, key=lambda v: (v.updated_at, v.entry_id)):
        by_day[version.updated_at.date()][version.entry_id] = version  # the day's last version wins
    paths, total = [], 0
    for day in days:
        versions = sorted(by_day.get(day, {}).values(), key=lambda v: (v.updated_at, v.entry_id))
        path = out_dir / "product" / f"ledger_changes_{day:%Y-%m-%d}.csv"
        total += write_csv(path, LEDGER_COLUMNS, (
            {
                "entry_id": v.entry_id, "entry_type": v.entry_type, "processor": v.processor,
                "processor_reference": v.processor_reference, "account_id": v.account_id,
                "merchant_id": v.merchant_id, "amount_minor": str(v.amount_minor), "currency": v.currency,
                "status": v.status, "occurred_at": _dt(v.occurred_at), "updated_at": _dt(v.updated_at),
            }
            for v in versions
        ))
        paths.append(path)
    return paths, total


def write_processor_files(out_dir: Path, txns: Iterable[ProcessorTxn], days: Sequence[date], rng: random.Random,
                          ids: IdFactory) -> tuple[list[Path], int]:
    """One settlement file per processor in use and day (header only on a day without lines)."""
    by_key: dict[tuple[str, date], list[ProcessorTxn]] = defaultdict(list)
    for txn in txns:
        by_key[(txn.processor, txn.business_date)].append(txn)
    paths, total = [], 0
    for name in sorted(PROCESSOR_WEIGHTS):
        for day in days:
            path, count = PROCESSORS[name].write_day(out_dir, day, by_key.get((name, day), []), rng, ids)
            paths.append(path)
            total += count
    return paths, total


def write_truth(out_dir: Path, rows: Sequence[TruthRow], days: Sequence[date]) -> tuple[Path, Path, dict]:
    truth_path = out_dir / "truth" / "transactions.csv"
    write_csv(truth_path, TRUTH_COLUMNS, (row.as_csv() for row in rows))
    summary = summarize(rows, days)
    summary_path = out_dir / "truth" / "summary.json"
    write_json(summary_path, summary)
    return truth_path, summary_path, summary


def write_parameters(out_dir: Path, parameters: dict) -> Path:
    path = out_dir / "generation.json"
    write_json(path, parameters)
    return path
