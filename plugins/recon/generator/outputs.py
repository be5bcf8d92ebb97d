"""Where each generated artefact goes and how it is laid out (see the package docstring for the tree)."""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Sequence

from .csvio import write_csv, write_json
from .ids import IdFactory
from .model import LedgerVersion, Payout, ProcessorTxn
from .payout_truth import PAYOUT_TRUTH_COLUMNS, PayoutTruthRow, summarize_payouts
from .processors import PROCESSOR_WEIGHTS, PROCESSORS, LinePlacement
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


@dataclass
class ProcessorFiles:
    paths: list[Path] = field(default_factory=list)
    rows: int = 0  # every row of every file (transaction, fee, adjustment and payout lines)
    payouts: list[Payout] = field(default_factory=list)
    placements: dict[str, LinePlacement] = field(default_factory=dict)  # provisional line id -> final


def write_processor_files(out_dir: Path, txns: Iterable[ProcessorTxn], days: Sequence[date], rng: random.Random,
                          ids: IdFactory) -> ProcessorFiles:
    """One settlement file per processor in use and day (header only on a day without lines)."""
    by_key: dict[tuple[str, date], list[ProcessorTxn]] = defaultdict(list)
    for txn in txns:
        by_key[(txn.processor, txn.business_date)].append(txn)
    out = ProcessorFiles()
    for name in sorted(PROCESSOR_WEIGHTS):
        for day_index, day in enumerate(days):
            path, settlement = PROCESSORS[name].write_day(out_dir, day, day_index, by_key.get((name, day), []), rng,
                                                          ids)
            out.paths.append(path)
            out.rows += len(settlement.rows)
            out.payouts.extend(settlement.payouts)
            out.placements.update(settlement.placements)
    return out


def write_truth(out_dir: Path, rows: Sequence[TruthRow], payout_rows: Sequence[PayoutTruthRow],
                days: Sequence[date]) -> tuple[Path, Path, Path, dict]:
    truth_path = out_dir / "truth" / "transactions.csv"
    write_csv(truth_path, TRUTH_COLUMNS, (row.as_csv() for row in rows))
    payouts_path = out_dir / "truth" / "payouts.csv"
    write_csv(payouts_path, PAYOUT_TRUTH_COLUMNS, (row.as_csv() for row in payout_rows))
    summary = summarize(rows, days)
    for as_of, payouts in summarize_payouts(payout_rows, days).items():
        summary[as_of]["payouts"] = payouts
    summary_path = out_dir / "truth" / "summary.json"
    write_json(summary_path, summary)
    return truth_path, payouts_path, summary_path, summary


def write_parameters(out_dir: Path, parameters: dict) -> Path:
    path = out_dir / "generation.json"
    write_json(path, parameters)
    return path
