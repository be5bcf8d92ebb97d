"""The benchmark's figures against the issue's targets, printed as tables and written as JSON (and a Markdown table
for docs/benchmarks.md)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from recon.bench.pipeline import STAGE_MEANING, STAGES

FLAT_TOLERANCE = 1.10  # "flat": the 5M-row file's peak RSS at most 10% above the 1M-row file's


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "goal": self.goal, "measured": self.measured, "met": self.met}


def _get(figures: dict[str, Any], *keys: str) -> Any:
    value: Any = figures
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def pipeline_peak_mb(memory: dict[str, Any] | None) -> float | None:
    """The largest peak RSS of any pipeline process (the dag.test process, dbt, anything it started)."""
    if not memory:
        return None
    return max((entry["peak_mb"] for entry in memory.get("by_kind", {}).values()), default=None)


def targets(figures: dict[str, Any]) -> list[Target]:
    out = []
    ratio = _get(figures, "day", "pipeline_to_floor")
    entries = _get(figures, "day", "entries")
    size = f" ({entries:,} entries)" if entries else ""
    out.append(Target("end to end vs raw floor", "1M-entry day within 2x the raw floor",
                      "not measured" if ratio is None else f"{ratio:.1f}x{size}", None if ratio is None else ratio <= 2.0))
    share = _get(figures, "day", "landing", "share_of_floor")
    out.append(Target("landing rate", ">= 70% of the raw LOAD DATA rate",
                      "not measured" if share is None else f"{share:.0%}{size}", None if share is None else share >= 0.7))
    growth = _get(figures, "growth", "ratio_last_to_first")
    days = _get(figures, "growth", "days_ok")
    out.append(Target("growth", "last day's reconcile within 1.25x of the first's",
                      "not measured" if growth is None else f"{growth:.2f}x over {days} days",
                      None if growth is None else growth <= 1.25))
    peaks = [p for p in (pipeline_peak_mb(_get(figures, "day", "run", "memory")),
                         *(pipeline_peak_mb(r.get("memory")) for r in _get(figures, "big_file", "runs") or []))
             if p is not None]
    out.append(Target("peak RSS", "every pipeline process under 1 GB",
                      "not measured" if not peaks else f"{max(peaks):.0f} MB", None if not peaks else max(peaks) < 1024))
    flat = _get(figures, "big_file", "peak_ratio")
    out.append(Target("memory flat with file size", f"peak RSS on the 5M-row file <= {FLAT_TOLERANCE:.2f}x the 1M-row "
                      "file's", "not measured" if flat is None else f"{flat:.2f}x",
                      None if flat is None else flat <= FLAT_TOLERANCE))
    honest = _get(figures, "day", "honesty", "equal")
    out.append(Target("honesty check", "floor's counts per status equal the marts'",
                      "not measured" if honest is None else ("equal" if honest else "DIFFERENT"), honest))
    return out


def _rate(rows: float, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds and rows else "-"


def print_report(figures: dict[str, Any], out: Callable[[str], None] = print) -> None:
    meta, machine = figures.get("meta", {}), figures.get("machine", {})
    out("")
    out(f"== recon benchmark, {meta.get('started_at')} UTC, namespace {meta.get('namespace')} ==")
    out(f"machine: {machine.get('cores')} cores ({machine.get('cpu')}), {machine.get('memory_gib')} GiB, "
        f"{machine.get('database')}, load at start {machine.get('load_average_at_start')}, at end "
        f"{meta.get('load_average_at_end')}")
    overhead = figures.get("overhead")
    if overhead:
        parse = overhead.get("dag_parse", {})
        out(f"\nDAG parse: {parse.get('seconds')} s for {parse.get('dags')} DAGs (fastest of "
            f"{parse.get('attempts')}: {parse.get('all_seconds')}; per file {parse.get('files')})")
        test = overhead.get("dags_test", {})
        if test:
            out(f"airflow dags test ingest_stripe, no file: {test['no_files']['seconds']} s (exit "
                f"{test['no_files']['exit_code']}, peak RSS {test['no_files']['peak_rss_mb']} MB); CLI start-up "
                f"alone {test['cli_startup']['seconds']} s")
    day = figures.get("day")
    if day:
        _print_day(day, out)
    big = figures.get("big_file")
    if big:
        out("\nMemory on one big file (ingest_stripe alone):")
        for run in big.get("runs", []):
            out(f"  {run['rows']:>11,} rows ({run['bytes'] / 1e6:,.0f} MB): peak RSS pipeline process "
                f"{run['pipeline_peak_mb']} MB, any process {run['any_peak_mb']} MB; land {run['land_seconds']} s "
                f"({_rate(run['rows'], run['land_seconds'])} rows/s), DAG {run['dag_seconds']} s")
        if big.get("peak_ratio") is not None:
            out(f"  peak RSS {big['runs'][-1]['rows']:,} rows / {big['runs'][0]['rows']:,} rows: {big['peak_ratio']}x")
    growth = figures.get("growth")
    if growth:
        out(f"\nGrowth: {growth.get('days_ok')} of {growth.get('days_run')} days reconciled")
        out(f"  {'day':>4} {'date':<10} {'entries':>9} {'ingest s':>9} {'reconcile s':>12} {'dbt s':>8} "
            f"{'model SQL s':>12} {'tests s':>8} {'gates s':>8}")
        for d in growth.get("days", []):
            out(f"  {d['index']:>4} {d['day']:<10} {d['entries']:>9,} {d['ingest_seconds']:>9.1f} "
                f"{d['reconcile_seconds']:>12.1f} {d['dbt_seconds']:>8.1f} {d.get('dbt_model_seconds', 0):>12.1f} "
                f"{d.get('dbt_test_seconds', 0):>8.1f} {d['gates_seconds']:>8.1f}"
                + ("" if d["ok"] else "  FAILED"))
        if growth.get("ratio_last_to_first") is not None:
            out(f"  last / first reconcile: {growth['ratio_last_to_first']}x; least-squares trend "
                f"{growth['reconcile_seconds_added_per_day']:+.2f} s per day of history")
            top = list(growth.get("models_first_last", {}).items())[:6]
            if top:
                out("  dbt models that grew most (SQL seconds, first day -> last day): "
                    + ", ".join(f"{name} {a:.1f} -> {b:.1f}" for name, (a, b) in top))
            tests = list(growth.get("slowest_tests_first_last", {}).items())[:5]
            if tests:
                out("  dbt tests that grew most (seconds, first day -> last day): "
                    + ", ".join(f"{name} {a:.1f} -> {b:.1f}" for name, (a, b) in tests))
            gate = growth.get("gate_marts_first_last")
            if gate:
                out(f"  GX gate on the marts (gate_marts): {gate[0]:.1f} s -> {gate[1]:.1f} s")
    out("\nTargets:")
    for target in figures.get("targets", []):
        verdict = {True: "met", False: "MISSED", None: "-"}[target["met"]]
        out(f"  {target['name']:<28} {target['goal']:<58} {target['measured']:<22} {verdict}")


def _print_day(day: dict[str, Any], out: Callable[[str], None]) -> None:
    gen = day.get("generated", {})
    out(f"\nOne business day, {day.get('date')}: {day.get('entries'):,} ledger entries -> rows {gen.get('rows')} "
        f"(generated in {gen.get('seconds')} s, seeded into the product database and S3 in "
        f"{day.get('seed_seconds')} s, not counted)")
    run = day.get("run")
    if not run:
        return
    out(f"  {'stage':<17} {'seconds':>9} {'rows':>11} {'rows/s':>10} {'share':>6}")
    total = run.get("dag_seconds") or 0.0
    for name in (*STAGES, "airflow_overhead"):
        stage = run["stages"].get(name, {})
        share = stage.get("seconds", 0) / total if total else 0
        out(f"  {name:<17} {stage.get('seconds', 0):>9.1f} {stage.get('rows', 0):>11,} "
            f"{_rate(stage.get('rows', 0), stage.get('seconds', 0)):>10} {share:>6.0%}")
    runs = ", ".join(f"{d['dag_id']} {d.get('seconds', 0):.0f} s" for d in run["dags"])
    out(f"  {'end to end':<17} {total:>9.1f}   (the DAG runs: {runs})")
    floor = day.get("floor")
    if floor:
        s = floor["seconds"]
        out(f"  raw floor: LOAD DATA {s.get('load')} s ({floor['rows_loaded']:,} rows, "
            f"{floor['load_rows_per_second']:,} rows/s), indexes {s.get('index')} s, reconciliation SQL "
            f"{s.get('reconcile')} s: {s.get('total')} s")
        out(f"  pipeline / floor: {day.get('pipeline_to_floor')}x")
    landing = day.get("landing")
    if landing:
        out(f"  landing (extract + land): {landing['pipeline_rows_per_second']:,} rows/s vs LOAD DATA "
            f"{landing['floor_rows_per_second']:,} rows/s = {landing['share_of_floor']:.0%}; per source: "
            + ", ".join(f"{k} {v['pipeline_rows_per_second']:,} vs {v['floor_rows_per_second']:,}"
                        for k, v in landing.get("per_source", {}).items()))
    honesty = day.get("honesty")
    if honesty:
        out(f"  counts per status, floor vs marts: {'EQUAL' if honesty['equal'] else 'DIFFERENT'}")
        for leg in ("transaction_status", "payout_status", "payout_leg_status"):
            floor_counts, marts = honesty["floor"].get(leg, {}), honesty["marts"].get(leg, {})
            cells = [f"{k} {floor_counts.get(k, 0)}/{marts.get(k, 0)}" for k in sorted(set(floor_counts) | set(marts))]
            out(f"    {leg}: " + ", ".join(cells))
    dbt = run.get("dbt") or {}
    if dbt.get("models"):
        slowest = sorted(dbt["models"].items(), key=lambda kv: -kv[1])[:6]
        out(f"  dbt: model SQL {sum(dbt['models'].values()):.1f} s, {dbt['tests']} tests {dbt['tests_seconds']:.1f} s; "
            "slowest models: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest))
    memory = run.get("memory", {})
    kinds = memory.get("by_kind", {})
    if kinds:
        out("  peak RSS: " + ", ".join(f"{kind} {v['peak_mb']} MB ({v['processes']} process"
                                        f"{'es' if v['processes'] != 1 else ''})" for kind, v in kinds.items())
            + f"; MariaDB server {memory.get('mariadb_server', {}).get('peak_rss_mb')} MB (context)")


def markdown(figures: dict[str, Any]) -> str:
    """The figures as the Markdown tables of docs/benchmarks.md, to paste there."""
    lines = [f"Run of {figures.get('meta', {}).get('started_at')} UTC "
             f"(`{figures.get('meta', {}).get('command')}`), machine: "
             f"{figures.get('machine', {}).get('cores')} cores, {figures.get('machine', {}).get('memory_gib')} GiB, "
             f"{figures.get('machine', {}).get('cpu')}, {figures.get('machine', {}).get('database')}.", ""]
    run = _get(figures, "day", "run")
    if run:
        lines += ["| stage | seconds | rows | rows/s | what |", "|---|---:|---:|---:|---|"]
        for name in (*STAGES, "airflow_overhead"):
            stage = run["stages"].get(name, {})
            meaning = STAGE_MEANING.get(name, "dag.test's own time between tasks")
            lines.append(f"| {name} | {stage.get('seconds', 0):.1f} | {stage.get('rows', 0):,} | "
                         f"{_rate(stage.get('rows', 0), stage.get('seconds', 0))} | {meaning} |")
        lines.append(f"| **end to end** | **{run.get('dag_seconds', 0):.1f}** | | | every DAG run of the day |")
        lines.append("")
    lines += ["| target | goal | measured | |", "|---|---|---|---|"]
    for target in figures.get("targets", []):
        verdict = {True: "met", False: "missed", None: "-"}[target["met"]]
        lines.append(f"| {target['name']} | {target['goal']} | {target['measured']} | {verdict} |")
    return "\n".join(lines) + "\n"


def write(figures: dict[str, Any], out_dir: Path, stamp: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{stamp}.json"
    text = json.dumps(figures, indent=2, default=str) + "\n"
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    (out_dir / "latest.md").write_text(markdown(figures))
    return path
