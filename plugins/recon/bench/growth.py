"""Growth: N consecutive business days of M entries each through every ingest DAG and reconcile_daily, from an
empty namespace. What matters is the reconcile time of the last day against the first's: a day's cost must grow
with the day's volume, not with the history behind it."""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from recon import seed
from recon.bench.datagen import BigDataWriter
from recon.bench.pipeline import PipelineRun, dbt_timings, run_pipeline


@dataclass
class GrowthDay:
    index: int
    day: date
    entries: int
    rows: dict[str, int]
    seed_seconds: float
    run: PipelineRun

    @property
    def reconcile_seconds(self) -> float:
        return self.run.dag_seconds("reconcile_daily")

    @property
    def ingest_seconds(self) -> float:
        return self.run.dag_seconds("ingest_")

    @property
    def dbt(self) -> dict[str, Any]:
        if not hasattr(self, "_dbt"):
            self._dbt = dbt_timings(self.run.log) if self.run.log else {"models": {}, "tests": 0, "tests_seconds": 0.0}
        return self._dbt

    def as_dict(self) -> dict[str, Any]:
        stages = self.run.grouped()
        return {"day": self.day.isoformat(), "index": self.index, "entries": self.entries, "rows": self.rows,
                "seed_seconds": round(self.seed_seconds, 3), "ingest_seconds": self.ingest_seconds,
                "reconcile_seconds": self.reconcile_seconds, "dbt_seconds": stages["dbt"]["seconds"],
                "gates_seconds": stages["gates"]["seconds"], "ok": self.run.ok,
                "dbt_model_seconds": round(sum(self.dbt["models"].values()), 3),
                "dbt_test_seconds": self.dbt["tests_seconds"], "dbt_models": self.dbt["models"],
                "dags": [{k: d.get(k) for k in ("dag_id", "state", "seconds")} for d in self.run.dags]}


def slope(values: list[float]) -> float:
    """Least-squares seconds added per day of history (0 for fewer than two days)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den


def summarize(days: list[GrowthDay]) -> dict[str, Any]:
    ok = [d for d in days if d.run.ok]
    out: dict[str, Any] = {"days": [d.as_dict() for d in days], "days_run": len(days), "days_ok": len(ok)}
    if len(ok) >= 2:
        first, last = ok[0], ok[-1]
        reconcile = [d.reconcile_seconds for d in ok]
        out.update(first_reconcile_seconds=first.reconcile_seconds, last_reconcile_seconds=last.reconcile_seconds,
                   ratio_last_to_first=round(last.reconcile_seconds / first.reconcile_seconds, 3)
                   if first.reconcile_seconds else None,
                   reconcile_seconds_added_per_day=round(slope(reconcile), 3),
                   first_dbt_seconds=first.as_dict()["dbt_seconds"], last_dbt_seconds=last.as_dict()["dbt_seconds"])
        # which models grow: their SQL time on the first and the last day, biggest growth first
        models = {name: (first.dbt["models"].get(name, 0.0), seconds) for name, seconds in last.dbt["models"].items()}
        out["models_first_last"] = dict(sorted(models.items(), key=lambda kv: kv[1][0] - kv[1][1]))
        tests = {name: (first.dbt.get("slowest_tests", {}).get(name, 0.0), seconds)
                 for name, seconds in last.dbt.get("slowest_tests", {}).items()}
        out["slowest_tests_first_last"] = dict(sorted(tests.items(), key=lambda kv: kv[1][0] - kv[1][1]))
        gate = [d.run.grouped_stage_seconds("gate_marts") for d in (first, last)]
        out["gate_marts_first_last"] = gate
    return out


def run_growth(data_dir: Path, logs_dir: Path, *, start: date, days: int, entries: int, seed_value: int,
               progress: Callable[[str], None], after_day: Callable[[list[GrowthDay]], None] | None = None
               ) -> list[GrowthDay]:
    """Write, seed and run each day in turn (the caller resets the namespace first). Stops at a failed day."""
    shutil.rmtree(data_dir, ignore_errors=True)
    writer = BigDataWriter(data_dir, seed=seed_value, bank_lag_days=1)
    done: list[GrowthDay] = []
    for index in range(days):
        day = start + timedelta(days=index)
        files = writer.write_day(day, entries)
        started = time.perf_counter()
        seed.seed_ledger(data_dir, day)
        seed.seed_files(data_dir, day)
        seeded = time.perf_counter() - started
        for path in (files.ledger_csv, *files.files.values(), files.bank_tsv):
            path.unlink(missing_ok=True)  # in the product database and S3 now
        label = f"growth day {index + 1}/{days} {day}"
        run = run_pipeline(day, pipeline_dags(), logs_dir / f"growth-{index + 1:02d}-{day}.log", label=label,
                           progress=progress)
        result = GrowthDay(index + 1, day, entries, dict(files.rows), seeded, run)
        done.append(result)
        stages = run.grouped()
        progress(f"  {label}: ingest {result.ingest_seconds:.1f} s, reconcile {result.reconcile_seconds:.1f} s "
                 f"(dbt {stages['dbt']['seconds']:.1f} s of which model SQL "
                 f"{sum(result.dbt['models'].values()):.1f} s and tests {result.dbt['tests_seconds']:.1f} s; "
                 f"gates {stages['gates']['seconds']:.1f} s)"
                 + ("" if run.ok else f" - FAILED: {[d['dag_id'] + ' ' + d['state'] for d in run.dags]}; "
                                      f"log {run.log}"))
        if after_day is not None:
            after_day(done)
        if not run.ok:
            break
    return done


def pipeline_dags() -> list[str]:
    """Every source's ingest DAG (sorted, as `recon run` runs them), then reconcile_daily."""
    from recon.sources import all_sources

    return [f"ingest_{name}" for name in sorted(all_sources())] + ["reconcile_daily"]
