"""Run the real DAGs for one business date in a child process (recon.bench.child: dag.test, as `recon run` does),
sample the memory of that process tree while it runs, print progress, then read what each stage recorded about
itself in `<ns>_raw.pipeline_runs` (recon.ops: rows and seconds per DAG run and stage) and group it into the
issue's stages: extract, land, audit, publish, dbt, gates."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from recon import db, paths
from recon.bench.memory import MB, MemoryReport, TreeSampler, find_mariadb
from recon.settings import load_settings

STAGES = ("extract", "land", "audit", "publish", "dbt", "gates", "other")
STAGE_MEANING = {
    "extract": "ingest_ledger's land step: read the day's entries from the product database, TSV, LOAD DATA",
    "land": "the file sources' land steps: S3 download, parse, TSV, LOAD DATA into landing_*",
    "audit": "every ingest DAG's GX suite on the landed rows (one validation per file)",
    "publish": "landing_* -> src_* for the date (the rows dbt reads)",
    "dbt": "reconcile_daily's dbt task group: every model with its own tests",
    "gates": "reconcile_daily's cross-model dbt tests and the GX gate on the marts (gate_marts)",
    "other": "wait_for_file, discover, archive, wait_for_turn, check_sources, summary, alert_breaks, release_turn",
}


@dataclass
class StageRow:
    dag_id: str
    stage: str
    source: str | None
    status: str
    seconds: float
    rows_landed: int
    rows_published: int


@dataclass
class PipelineRun:
    day: date
    dags: list[dict[str, Any]]
    wall_seconds: float
    exit_code: int
    memory: MemoryReport
    tree_max_rss_bytes: int
    stages: list[StageRow] = field(default_factory=list)
    log: Path | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and all("success" in d.get("state", "") for d in self.dags)

    def dag_seconds(self, prefix: str = "") -> float:
        return round(sum(d.get("seconds", 0.0) for d in self.dags if d["dag_id"].startswith(prefix)), 3)

    def grouped_stage_seconds(self, stage: str) -> float:
        """Seconds of one recorded stage (e.g. gate_marts), summed over the run's DAGs."""
        return round(sum(r.seconds for r in self.stages if r.stage == stage), 3)

    def grouped(self) -> dict[str, dict[str, float]]:
        return group_stages(self.stages, self.dag_seconds())

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(), "dags": self.dags, "wall_seconds": round(self.wall_seconds, 3),
            "dag_seconds": self.dag_seconds(), "exit_code": self.exit_code, "stages": self.grouped(),
            "stage_rows": [vars(r) for r in self.stages], "memory": self.memory.as_dict(),
            "tree_max_rss_mb": round(self.tree_max_rss_bytes / MB, 1), "log": str(self.log) if self.log else None,
            "dbt": dbt_timings(self.log) if self.log else None,
        }


def _bucket(row: StageRow) -> str:
    if row.dag_id == "ingest_ledger" and row.stage == "land":
        return "extract"
    if row.dag_id.startswith("ingest_") and row.stage in ("land", "audit", "publish"):
        return row.stage
    if row.dag_id == "reconcile_daily" and row.stage == "dbt":
        return "dbt"
    if row.dag_id == "reconcile_daily" and row.stage in ("gate_marts", "dbt_cross_model_tests"):
        return "gates"
    return "other"


def group_stages(rows: list[StageRow], dag_seconds: float) -> dict[str, dict[str, float]]:
    """seconds and rows per issue stage; `rows` is what the stage worked on: extract and land the rows they landed,
    audit the rows landed (it checks them), publish the rows published, dbt and gates the rows published for the
    date (the day's input to the reconciliation). What the DAG runs took beyond their tasks' own time (dag.test's
    bookkeeping between tasks) is `airflow_overhead`."""
    out: dict[str, dict[str, float]] = {name: {"seconds": 0.0, "rows": 0} for name in STAGES}
    for row in rows:
        bucket = out[_bucket(row)]
        bucket["seconds"] = round(bucket["seconds"] + row.seconds, 3)
    landed = {b: sum(r.rows_landed for r in rows if _bucket(r) == b) for b in ("extract", "land")}
    published = sum(r.rows_published for r in rows if _bucket(r) == "publish")
    out["extract"]["rows"], out["land"]["rows"] = landed["extract"], landed["land"]
    out["audit"]["rows"] = landed["extract"] + landed["land"]
    out["publish"]["rows"] = published
    out["dbt"]["rows"] = out["gates"]["rows"] = published
    for bucket in out.values():
        bucket["rows_per_second"] = round(bucket["rows"] / bucket["seconds"]) if bucket["seconds"] and bucket[
            "rows"] else 0
    tasks = sum(b["seconds"] for b in out.values())
    out["airflow_overhead"] = {"seconds": round(max(dag_seconds - tasks, 0.0), 3), "rows": 0, "rows_per_second": 0}
    return out


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DBT_NODE = re.compile(r"\d+ of \d+ (?:OK created \S+ \S+ model (?P<model>\S+)|(?P<verdict>PASS|FAIL|WARN|ERROR) "
                       r"(?P<test>\S+)).*? in (?P<seconds>[0-9.]+)s\]")


def dbt_timings(log_path: Path) -> dict[str, Any]:
    """Seconds per dbt model, and the tests' total, from the dbt output in the pipeline's log ("12 of 170 OK
    created sql table model ns.int_x .... [SUCCESS 100 in 0.52s]")."""
    models: dict[str, float] = {}
    tests: dict[str, float] = {}
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return {"models": {}, "tests": 0, "tests_seconds": 0.0, "slowest_tests": {}}
    for line in text.splitlines():
        found = _DBT_NODE.search(_ANSI.sub("", line))
        if not found:
            continue
        if found["model"]:
            name = found["model"].split(".")[-1]
            models[name] = round(models.get(name, 0.0) + float(found["seconds"]), 3)
        else:
            tests[found["test"]] = round(tests.get(found["test"], 0.0) + float(found["seconds"]), 3)
    slowest = dict(sorted(tests.items(), key=lambda kv: -kv[1])[:10])
    return {"models": models, "tests": len(tests), "tests_seconds": round(sum(tests.values()), 3),
            "slowest_tests": slowest}


def read_stage_rows(day: date, since: datetime) -> list[StageRow]:
    """The stages recorded for `day` by runs that started after `since` (naive UTC)."""
    s = load_settings()
    with db.transaction() as cur:
        cur.execute(f"SELECT dag_id, stage, source, status, COALESCE(seconds, 0), COALESCE(rows_landed, 0), "
                    f"COALESCE(rows_published, 0) FROM {s.raw_db}.pipeline_runs "
                    "WHERE business_date = %s AND started_at >= %s ORDER BY started_at, id", (day, since))
        return [StageRow(str(a), str(b), c, str(d), float(e), int(f), int(g)) for a, b, c, d, e, f, g in cur.fetchall()]


class _TaskProgress:
    """Every `every` seconds, how many tasks the running DAG finished and which was last, from dag.test's log."""

    MARK = "[DAG TEST] end task task_id="

    def __init__(self, log_path: Path, every: float = 20.0) -> None:
        self.log_path, self.every = log_path, every
        self.offset, self.done, self.last = 0, 0, ""
        self.dag: str | None = None
        self.next_at = time.monotonic() + every

    def report(self, label: str, dag: str | None, progress: Callable[[str], None]) -> None:
        if dag != self.dag:  # counts start again with each DAG
            self.read()
            self.dag, self.done, self.last = dag, 0, ""
        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + self.every
        self.read()
        if self.last and dag:
            progress(f"  [{label}]   ... {dag}: {self.done} tasks done so far, the last {self.last}")

    def read(self) -> None:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self.offset)
                chunk = log.read()
        except OSError:
            return
        self.offset += len(chunk)
        for line in chunk.decode("utf-8", "replace").splitlines():
            if self.MARK in line:
                self.done += 1
                self.last = line.split(self.MARK, 1)[1].split()[0]


def _progress_lines(result_path: Path, shown: dict[str, str], label: str, sampler: TreeSampler,
                    progress: Callable[[str], None]) -> None:
    try:
        payload = json.loads(result_path.read_text())
    except (OSError, ValueError):
        return
    for entry in payload.get("dags", []):
        name, state = entry["dag_id"], entry.get("state", "")
        if shown.get(name) == state:
            continue
        shown[name] = state
        if state == "running":
            progress(f"  [{label}] {name} ...")
        else:
            peak = sampler.report_so_far()
            progress(f"  [{label}] {name} {state} in {entry.get('seconds', 0):.1f} s (peak RSS so far: pipeline "
                     f"{peak.get('pipeline', 0) / MB:.0f} MB, dbt {peak.get('dbt', 0) / MB:.0f} MB)")


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the pipeline process group (dag.test ignores SIGTERM while a task runs: SIGKILL after 10 s)."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_pipeline(day: date, dag_ids: list[str], log_path: Path, *, label: str | None = None,
                 progress: Callable[[str], None] = print, interval: float = 0.2) -> PipelineRun:
    """Run `dag_ids` for `day` in a child process; returns times, memory and the recorded stages."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path = log_path.with_suffix(".json")
    result_path.unlink(missing_ok=True)
    label = label or day.isoformat()
    since = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)
    mariadb_pid = find_mariadb(paths.stack_dir())
    started = time.monotonic()
    with open(log_path, "w") as log:
        # its own process group: stopping the benchmark stops it and the dbt processes it started
        proc = subprocess.Popen([sys.executable, "-m", "recon.bench.child", day.isoformat(), str(result_path),
                                 *dag_ids], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy(),
                                start_new_session=True)
    shown: dict[str, str] = {}
    tasks = _TaskProgress(log_path)
    with TreeSampler(proc.pid, interval=interval, mariadb_pid=mariadb_pid) as sampler:
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    break
                _progress_lines(result_path, shown, label, sampler, progress)
                running = [name for name, state in shown.items() if state == "running"]
                tasks.report(label, running[-1] if running else None, progress)
                time.sleep(0.5)
        except BaseException:
            _stop_group(proc)
            raise
    wall = time.monotonic() - started
    _progress_lines(result_path, shown, label, sampler, progress)
    try:
        payload = json.loads(result_path.read_text())
    except (OSError, ValueError):
        payload = {"dags": [], "error": f"no result from the pipeline process (exit {proc.returncode})"}
    if payload.get("error"):
        progress(f"  [{label}] {payload['error']}")
    return PipelineRun(day=day, dags=payload.get("dags", []), wall_seconds=wall, exit_code=proc.returncode,
                       memory=sampler.report, tree_max_rss_bytes=usage.ru_maxrss * 1024,
                       stages=read_stage_rows(day, since), log=log_path)
