"""What the platform costs before any data: the time to parse every DAG file (what the dag-processor pays on each
parse loop) and one `airflow dags test` of an ingest DAG that finds no file (what every run pays, whatever it
carries)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable

from recon import paths, seed
from recon.bench.datagen import write_stripe_file
from recon.bench.memory import MB, TreeSampler

# As tests/unit/test_dag_parse_time.py measures it: in a fresh process, after `import airflow` (the dag-processor
# has Airflow loaded already), the time DagBag takes to fill from dags/.
_PARSE = r"""
import json, sys, time
import airflow  # noqa: F401
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
total = time.perf_counter() - started
print(json.dumps({"total": total, "files": {s.file: s.duration.total_seconds() for s in bag.dagbag_stats},
                  "dags": len(bag.dags), "import_errors": {k: v[-300:] for k, v in bag.import_errors.items()}}))
"""


def dag_parse_time(attempts: int = 3) -> dict[str, Any]:
    """The fastest of `attempts` parses of dags/ (a busy machine only ever adds time), per file and in total."""
    reports = []
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    for _ in range(attempts):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _PARSE, str(paths.repo_dir() / "dags")], env=env,
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"parsing the DAG files failed: {out.stderr[-2000:]}")
        report = json.loads(out.stdout.strip().splitlines()[-1])
        report["process_seconds"] = round(time.perf_counter() - started, 3)
        reports.append(report)
    best = min(reports, key=lambda r: r["total"])
    return {"seconds": round(best["total"], 3), "files": {k: round(v, 3) for k, v in best["files"].items()},
            "dags": best["dags"], "import_errors": best["import_errors"], "attempts": attempts,
            "all_seconds": [round(r["total"], 3) for r in reports],
            "process_seconds_with_imports": best["process_seconds"]}


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _timed(cmd: list[str], log: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with open(log, "a") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
        with TreeSampler(proc.pid) as sampler:
            proc.wait()
    return {"seconds": round(time.perf_counter() - started, 3), "exit_code": proc.returncode,
            "peak_rss_mb": round(sampler.report.peak_of("pipeline") / MB, 1)}


def dags_test_without_files(work_dir: Path, day: date, log: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    """`airflow dags test ingest_stripe DAY` when the day has no file left to land: a first run lands a 20-row file
    (and archives it out of inbound/), the second, timed, finds nothing in inbound/: wait_for_file sees the earlier
    delivery, discover finds no object, land/audit/archive have nothing to do, publish rewrites the day's 20 rows.
    Also times `airflow version`: the CLI's own start-up, part of both."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    name = f"stripe_payout_reconciliation_{day}.csv"
    write_stripe_file(work_dir / "s3" / "inbound" / "stripe" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / name, day, 20)
    seed.seed_files(work_dir, day)
    cli = _timed([_airflow(), "version"], log)
    progress(f"  airflow CLI start-up (airflow version): {cli['seconds']:.1f} s")
    first = _timed([_airflow(), "dags", "test", "ingest_stripe", day.isoformat()], log)
    progress(f"  airflow dags test ingest_stripe {day} with one 20-row file: {first['seconds']:.1f} s "
             f"(exit {first['exit_code']})")
    empty = _timed([_airflow(), "dags", "test", "ingest_stripe", day.isoformat()], log)
    progress(f"  airflow dags test ingest_stripe {day} with no file left: {empty['seconds']:.1f} s "
             f"(exit {empty['exit_code']})")
    return {"dag_id": "ingest_stripe", "date": day.isoformat(), "cli_startup": cli, "with_one_small_file": first,
            "no_files": empty, "log": str(log)}
