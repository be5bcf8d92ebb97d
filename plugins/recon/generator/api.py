"""`generate()`: plan anomalies, build the world, write the files and the ground truth."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

from .anomalies import ITEM_CLASSES, NONE, PAYOUT_CLASSES, plan_slots, resolve_rates
from .banking import build_bank_lines
from .ids import IdFactory
from .model import ProcessorTxn
from .outputs import write_ledger_changes, write_parameters, write_processor_files, write_truth
from .payout_anomalies import plan_payouts
from .payout_truth import compute_payout_truth, payout_status_lookup
from .processors import PROCESSOR_WEIGHTS, LinePlacement
from .scenario import build_scenario
from .statements import write_statements
from .truth import compute_truth

DEFAULT_START = date(2026, 1, 5)


@dataclass(frozen=True)
class GenerationResult:
    out_dir: Path
    start: date
    end: date
    ledger_files: list[Path]
    processor_files: list[Path]
    bank_files: list[Path]
    truth_file: Path
    payout_truth_file: Path
    summary_file: Path
    parameters_file: Path
    items: int  # planned items (each a ledger entry, or a processor-only line for missing_in_ledger)
    ledger_entries: int  # distinct entry_ids
    ledger_rows: int  # rows over all ledger_changes files (inserts + updates)
    processor_lines: int  # lines with a match key (charges, refunds, disputes, reversals)
    processor_file_rows: int  # every row of the processor files (+ fee, adjustment, payout lines)
    payouts: int  # payouts stated by the processor files
    bank_lines: int  # every statement line (16 records / Ntry), credits and debits, booked and pending
    truth_rows: int
    payout_truth_rows: int
    anomaly_counts: dict[str, int] = field(default_factory=dict)  # items per item class, payouts per payout class
    summary: dict[str, dict] = field(default_factory=dict)  # truth/summary.json

    @property
    def last_as_of_status_counts(self) -> dict[str, int]:
        return dict(self.summary[self.end.isoformat()]["status_counts"]) if self.summary else {}

    @property
    def last_as_of_payout_status_counts(self) -> dict[str, int]:
        return dict(self.summary[self.end.isoformat()]["payouts"]["status_counts"]) if self.summary else {}

    @property
    def files(self) -> list[Path]:
        return [*self.ledger_files, *self.processor_files, *self.bank_files, self.truth_file,
                self.payout_truth_file, self.summary_file, self.parameters_file]


def _place(txns: list[ProcessorTxn], placements: Mapping[str, LinePlacement]) -> list[ProcessorTxn]:
    """Lines with their final ids and payouts, as the settlement files state them."""
    return [replace(txn, line_id=placements[txn.line_id].line_id,
                    payout_reference=placements[txn.line_id].payout_reference,
                    net_currency=placements[txn.line_id].net_currency) for txn in txns]


def generate(out_dir: Path, *, days: int, per_day: int, seed: int, start: date = DEFAULT_START,
             rates: Mapping[str, float] | None = None) -> GenerationResult:
    """Write a reproducible data set under out_dir: same arguments => byte-identical files."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    if per_day < 0:
        raise ValueError(f"per_day must be >= 0, got {per_day}")
    resolved = resolve_rates(rates)
    out_dir = Path(out_dir)
    dates = [start + timedelta(days=i) for i in range(days)]

    # One seeded stream for everything, consumed in a fixed order: never the global `random`.
    rng = random.Random(seed)
    ids = IdFactory(rng)
    slots = plan_slots(rng, days=days, per_day=per_day, rates=resolved, processors=PROCESSOR_WEIGHTS)
    scenario = build_scenario(rng, ids, start=start, days=days, slots=slots)

    ledger_files, ledger_rows = write_ledger_changes(out_dir, scenario.ledger, dates)
    settlement = write_processor_files(out_dir, scenario.txns, dates, rng, ids)
    txns = _place(scenario.txns, settlement.placements)
    anomaly_by_line = {settlement.placements[line_id].line_id: anomaly
                       for line_id, anomaly in scenario.anomaly_by_line.items() if line_id in settlement.placements}

    # The bank leg: what each payout's credit does is planned once the payouts are known.
    plans = plan_payouts(rng, settlement.payouts, end=dates[-1], per_day=per_day, days=days, rates=resolved)
    bank_lines = build_bank_lines(rng, ids, settlement.payouts, plans, dates)
    bank_files = write_statements(out_dir, bank_lines, dates)

    payout_anomaly = {key: plan.anomaly for key, plan in plans.items()
                      if plan.anomaly not in (NONE, "unexplained_bank_credit")}  # that one labels the stray credit
    payout_rows = compute_payout_truth(settlement.payouts, bank_lines, dates, payout_anomaly)
    truth = compute_truth(scenario.ledger, txns, dates, scenario.anomaly_by_entry, anomaly_by_line,
                          payout_status_lookup(payout_rows))
    truth_file, payout_truth_file, summary_file, summary = write_truth(out_dir, truth, payout_rows, dates)
    parameters_file = write_parameters(out_dir, {
        "days": days, "per_day": per_day, "seed": seed, "start": start.isoformat(), "rates": resolved,
    })

    planned = Counter(slot.anomaly for slot in slots)  # NONE counts healthy items only
    planned.update(plan.anomaly for plan in plans.values() if plan.anomaly != NONE)
    return GenerationResult(
        out_dir=out_dir, start=start, end=dates[-1], ledger_files=ledger_files, processor_files=settlement.paths,
        bank_files=bank_files, truth_file=truth_file, payout_truth_file=payout_truth_file,
        summary_file=summary_file, parameters_file=parameters_file, items=len(slots),
        ledger_entries=len({v.entry_id for v in scenario.ledger}), ledger_rows=ledger_rows,
        processor_lines=len(txns), processor_file_rows=settlement.rows, payouts=len(settlement.payouts),
        bank_lines=len(bank_lines), truth_rows=len(truth), payout_truth_rows=len(payout_rows),
        anomaly_counts={name: planned.get(name, 0) for name in (NONE, *ITEM_CLASSES, *PAYOUT_CLASSES)},
        summary=summary,
    )

