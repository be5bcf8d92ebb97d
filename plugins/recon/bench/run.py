"""`recon bench`: the phases in order, progress as they go, the figures at the end (printed, and as JSON under
.stack/bench/). A benchmark that prints figures, never a timed test: a missed target does not fail it; a failed DAG
run or a floor that disagrees with the marts does (exit 1)."""
from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from recon import paths, seed
from recon.bench import floor as floor_mod
from recon.bench import growth as growth_mod
from recon.bench import machine, overhead, report
from recon.bench.datagen import BigDataWriter, write_stripe_file
from recon.bench.memory import MB
from recon.bench.pipeline import PipelineRun, run_pipeline

PHASES = ("overhead", "day", "floor", "big_file", "growth")


@dataclass
class BenchConfig:
    entries: int = 1_000_000
    growth_days: int = 30
    growth_entries: int = 100_000
    big_file_rows: int = 5_000_000
    day: date = date(2026, 3, 2)  # the big day; the big files take the next dates, growth starts 10 days later
    seed: int = 7
    skip: frozenset[str] = field(default_factory=frozenset)
    out_dir: Path = field(default_factory=lambda: paths.stack_dir() / "bench")
    sample_interval: float = 0.2
    keep_data: bool = False
    namespace: str = ""
    command: str = "recon bench"

    def runs(self, phase: str) -> bool:
        return phase not in self.skip


class Progress:
    """Progress lines with the time since the start, flushed at once (make bench runs for hours)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, line: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"[{elapsed // 3600:d}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}] {line}", flush=True)


def _reset(progress: Callable[[str], None]) -> None:
    from recon.stack import manager

    manager.reset()
    progress("namespace emptied (databases recreated, bucket emptied)")


def _stop_on_sigterm() -> None:
    """SIGTERM stops the benchmark like Ctrl-C: the running pipeline process group is stopped on the way out."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def run(cfg: BenchConfig) -> int:
    _stop_on_sigterm()
    progress = Progress()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    logs = cfg.out_dir / "logs" / stamp
    data = cfg.out_dir / "data"
    figures: dict[str, Any] = {"meta": {
        "started_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"), "command": cfg.command,
        "namespace": cfg.namespace, "config": {k: (sorted(v) if isinstance(v, frozenset) else str(v))
                                                for k, v in asdict(cfg).items()},
        "git": _git(), "logs": str(logs)}}
    failures: list[str] = []

    def save() -> Path:
        figures["targets"] = [t.as_dict() for t in report.targets(figures)]
        return report.write(figures, cfg.out_dir, stamp)

    from recon.stack import manager

    progress(f"setting up the stack for namespace {cfg.namespace} (MariaDB, S3, Airflow home)")
    manager.up()
    figures["machine"] = machine.describe()
    progress("machine: " + machine.one_line(figures["machine"]))
    if figures["machine"].get("load_average_at_start", [0])[0] > 0.5 * (figures["machine"].get("cores") or 1):
        progress("NOTE: the machine is busy (load average above half the cores): the figures will be slower "
                 "than on a quiet machine")

    if cfg.runs("overhead"):
        progress("== overhead: DAG parse time, and one `airflow dags test` of an ingest DAG with no file")
        _reset(progress)
        parse = overhead.dag_parse_time()
        progress(f"  DAG parse: {parse['seconds']} s for {parse['dags']} DAGs (fastest of {parse['attempts']})")
        figures["overhead"] = {"dag_parse": parse, "dags_test": overhead.dags_test_without_files(
            data / "overhead", cfg.day - timedelta(days=7), logs / "overhead-dags-test.log", progress)}
        save()

    if cfg.runs("day"):
        progress(f"== one business day: {cfg.entries:,} ledger entries on {cfg.day}")
        figures["day"] = _day_phase(cfg, data / "day", logs, progress, failures)
        save()

    if cfg.runs("big_file"):
        progress(f"== memory: one Stripe file of {cfg.big_file_rows // 5:,} rows, then of {cfg.big_file_rows:,} rows")
        figures["big_file"] = _big_file_phase(cfg, data / "big-file", logs, progress, failures)
        save()

    if cfg.runs("growth"):
        start = cfg.day + timedelta(days=10)
        progress(f"== growth: {cfg.growth_days} days of {cfg.growth_entries:,} entries from {start}")
        _reset(progress)

        def after_day(days: list[growth_mod.GrowthDay]) -> None:
            figures["growth"] = growth_mod.summarize(days)
            save()

        days = growth_mod.run_growth(data / "growth", logs, start=start, days=cfg.growth_days,
                                     entries=cfg.growth_entries, seed_value=cfg.seed, progress=progress,
                                     after_day=after_day)
        figures["growth"] = growth_mod.summarize(days)
        if not all(d.run.ok for d in days):
            failures.append("growth: a day's DAG run failed")

    figures["meta"]["load_average_at_end"] = machine.load_average()
    figures["meta"]["finished_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    figures["meta"]["failures"] = failures
    path = save()
    report.print_report(figures)
    if not cfg.keep_data:
        _reset(progress)  # the big files live in the S3 server's memory and in the databases until then
        shutil.rmtree(data, ignore_errors=True)
    print(f"\nfigures: {path} (also {cfg.out_dir / 'latest.json'}; Markdown tables: {cfg.out_dir / 'latest.md'}); "
          f"DAG logs: {logs}")
    if failures:
        print("did not complete: " + "; ".join(failures))
        return 1
    return 0


def _day_phase(cfg: BenchConfig, data: Path, logs: Path, progress: Callable[[str], None],
               failures: list[str]) -> dict[str, Any]:
    _reset(progress)
    shutil.rmtree(data, ignore_errors=True)
    started = time.perf_counter()
    files = BigDataWriter(data, seed=cfg.seed, bank_lag_days=0).write_day(cfg.day, cfg.entries)
    generated = round(time.perf_counter() - started, 3)
    sizes = {name: path.stat().st_size for name, path in files.files.items()}
    sizes["ledger"] = files.ledger_csv.stat().st_size
    progress(f"  generated {files.rows} rows ({sum(sizes.values()) / 1e6:,.0f} MB) in {generated:.1f} s")
    started = time.perf_counter()
    ledger_rows = seed.seed_ledger(data, cfg.day)
    seed.seed_files(data, cfg.day)
    seeded = round(time.perf_counter() - started, 3)
    progress(f"  seeded {ledger_rows:,} ledger rows into the product database and {len(files.files)} files into S3 "
             f"in {seeded:.1f} s (setup, not counted)")
    out: dict[str, Any] = {"date": cfg.day.isoformat(), "entries": cfg.entries,
                           "generated": {"rows": files.rows, "bytes": sizes, "seconds": generated},
                           "seed_seconds": seeded}
    progress("  running every ingest DAG, then reconcile_daily (dag.test in a child process; logs in "
             f"{logs / 'day.log'})")
    run = run_pipeline(cfg.day, growth_mod.pipeline_dags(), logs / "day.log", progress=progress,
                       interval=cfg.sample_interval)
    out["run"] = run.as_dict()
    if not run.ok:
        failures.append(f"day: a DAG run failed (see {run.log})")
        progress(f"  a DAG run failed: {[(d['dag_id'], d['state']) for d in run.dags]}; log {run.log}")
        return out
    stages = run.grouped()
    progress(f"  end to end {run.dag_seconds():.1f} s: " + ", ".join(
        f"{name} {stages[name]['seconds']:.1f} s" for name in ("extract", "land", "audit", "publish", "dbt",
                                                                 "gates", "other")))
    if cfg.runs("floor"):
        progress("  raw floor: LOAD DATA of the same files into bare tables, then the reconciliation in hand-written "
                 "SQL")
        floor = floor_mod.run_floor(cfg.day, files.ledger_csv, [files.files["stripe"]], [files.files["adyen"]],
                                    [files.bank_tsv], progress=progress)
        out["floor"] = floor.as_dict()
        total = floor.seconds.get("total") or 0.0
        out["pipeline_to_floor"] = round(run.dag_seconds() / total, 2) if total else None
        out["landing"] = _landing(run, floor)
        marts = floor_mod.mart_counts(cfg.day)
        problems = floor_mod.compare(floor, marts)
        out["honesty"] = {"equal": not problems, "differences": problems,
                          "floor": {k: getattr(floor, k) for k in ("transaction_status", "payout_status",
                                                                   "payout_leg_status")}, "marts": marts}
        progress(f"  floor {total:.1f} s; pipeline / floor = {out['pipeline_to_floor']}x; counts per status "
                 + ("equal to the marts'" if not problems else f"DIFFER from the marts': {problems[:5]}"))
        if problems:
            failures.append("day: the floor's counts per status differ from the marts'")
    return out


def _landing(run: PipelineRun, floor: floor_mod.FloorResult) -> dict[str, Any]:
    """Rows per second landed by the pipeline (extract + land: read, parse, TSV, LOAD DATA) against the floor's
    LOAD DATA of the same files, overall and per source."""
    tables = {"ledger": "f_ledger", "stripe": "f_stripe", "adyen": "f_adyen"}
    per_source = {}
    for source, table in tables.items():
        rows = [r for r in run.stages if r.dag_id == f"ingest_{source}" and r.stage == "land"]
        seconds, landed = sum(r.seconds for r in rows), sum(r.rows_landed for r in rows)
        load = floor.loads.get(table, {})
        per_source[source] = {
            "pipeline_rows_per_second": round(landed / seconds) if seconds else 0,
            "floor_rows_per_second": round(load["rows"] / load["seconds"]) if load.get("seconds") else 0}
    stages = run.grouped()
    rows = stages["extract"]["rows"] + stages["land"]["rows"]
    seconds = stages["extract"]["seconds"] + stages["land"]["seconds"]
    pipeline_rate = rows / seconds if seconds else 0.0
    floor_rate = floor.load_rows_per_second
    return {"pipeline_rows_per_second": round(pipeline_rate), "floor_rows_per_second": round(floor_rate),
            "share_of_floor": round(pipeline_rate / floor_rate, 3) if floor_rate else None,
            "per_source": per_source}


def _big_file_phase(cfg: BenchConfig, data: Path, logs: Path, progress: Callable[[str], None],
                    failures: list[str]) -> dict[str, Any]:
    _reset(progress)
    runs = []
    for offset, rows in enumerate((max(cfg.big_file_rows // 5, 1), cfg.big_file_rows), start=1):
        day = cfg.day + timedelta(days=offset)
        shutil.rmtree(data, ignore_errors=True)
        path = (data / "s3" / "inbound" / "stripe" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
                / f"stripe_payout_reconciliation_{day}.csv")
        started = time.perf_counter()
        written = write_stripe_file(path, day, rows, seed=cfg.seed)
        size = path.stat().st_size
        seed.seed_files(data, day)
        progress(f"  {written:,} rows ({size / 1e6:,.0f} MB) written and put in S3 in "
                 f"{time.perf_counter() - started:.1f} s; running ingest_stripe for {day}")
        shutil.rmtree(data, ignore_errors=True)
        run = run_pipeline(day, ["ingest_stripe"], logs / f"big-file-{written}.log", label=f"{written:,} rows",
                           progress=progress, interval=cfg.sample_interval)
        land = [r for r in run.stages if r.stage == "land"]
        memory = run.memory.as_dict()
        entry = {"rows": written, "bytes": size, "date": day.isoformat(), "ok": run.ok,
                 "dag_seconds": run.dag_seconds(), "land_seconds": round(sum(r.seconds for r in land), 3),
                 "stages": {r.stage: r.seconds for r in run.stages},
                 "pipeline_peak_mb": round(run.memory.peak_of("pipeline") / MB, 1),
                 "any_peak_mb": report.pipeline_peak_mb(memory), "tree_max_rss_mb": round(run.tree_max_rss_bytes / MB, 1),
                 "memory": memory, "log": str(run.log)}
        runs.append(entry)
        progress(f"  {written:,} rows: peak RSS of the pipeline process {entry['pipeline_peak_mb']} MB, land "
                 f"{entry['land_seconds']} s")
        if not run.ok:
            failures.append(f"big file: ingest_stripe failed on {written} rows (see {run.log})")
            break
    out: dict[str, Any] = {"runs": runs}
    if len(runs) == 2 and runs[0]["pipeline_peak_mb"]:
        out["peak_ratio"] = round(runs[1]["pipeline_peak_mb"] / runs[0]["pipeline_peak_mb"], 3)
    return out


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=paths.repo_dir(), capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except OSError:
            return ""

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
