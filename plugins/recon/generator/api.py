"""`generate()`: plan anomalies, build the world, write the files and the ground truth."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping

from .anomalies import ANOMALY_CLASSES, NONE, plan_slots, resolve_rates
from .ids import IdFactory
from .outputs import write_ledger_changes, write_parameters, write_processor_files, write_truth
from .scenario import build_scenario
from .truth import compute_truth

DEFAULT_START = date(2026, 1, 5)


@dataclass(frozen=True)
class GenerationResult:
    out_dir: Path
    start: date
    end: date
    ledger_files: list[Path]
    processor_files: list[Path]
    truth_file: Path
    summary_file: Path
    parameters_file: Path
    items: int  # planned items (each a ledger entry, or a processor-only line for missing_in_ledger)
    ledger_entries: int  # distinct entry_ids
    ledger_rows: int  # rows over all ledger_changes files (inserts + updates)
    processor_lines: int  # lines with a match key (charges, refunds, disputes, reversals)
    processor_file_rows: int  # every row of the processor files (+ fee, adjustment, payout lines)
    truth_rows: int
    anomaly_counts: dict[str, int] = field(default_factory=dict)
    summary: dict[str, dict] = field(default_factory=dict)  # truth/summary.json

    @property
    def last_as_of_status_counts(self) -> dict[str, int]:
        return dict(self.summary[self.end.isoformat()]["status_counts"]) if self.summary else {}

    @property
    def files(self) -> list[Path]:
        return [*self.ledger_files, *self.processor_files, self.truth_file, self.summary_file, self.parameters_file]


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
    slots = plan_slots(rng, days=days, per_day=per_day, rates=resolved)
    scenario = build_scenario(rng, ids, start=start, days=days, slots=slots)

    ledger_files, ledger_rows = write_ledger_changes(out_dir, scenario.ledger, dates)
    processor_files, file_rows = write_processor_files(out_dir, scenario.txns, dates, rng, ids)
    truth = compute_truth(scenario.ledger, scenario.txns, dates, scenario.anomaly_by_entry, scenario.anomaly_by_line)
    truth_file, summary_file, summary = write_truth(out_dir, truth, dates)
    parameters_file = write_parameters(out_dir, {
        "days": days, "per_day": per_day, "seed": seed, "start": start.isoformat(), "rates": resolved,
    })

    planned = Counter(slot.anomaly for slot in slots)
    return GenerationResult(
        out_dir=out_dir, start=start, end=dates[-1], ledger_files=ledger_files, processor_files=processor_files,
        truth_file=truth_file, summary_file=summary_file, parameters_file=parameters_file, items=len(slots),
        ledger_entries=len({v.entry_id for v in scenario.ledger}), ledger_rows=ledger_rows,
        processor_lines=len(scenario.txns), processor_file_rows=file_rows, truth_rows=len(truth),
        anomaly_counts={name: planned.get(name, 0) for name in (NONE, *ANOMALY_CLASSES)}, summary=summary,
    )
