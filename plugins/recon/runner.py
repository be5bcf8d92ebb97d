"""`recon run`: run the ingest DAGs and then reconcile_daily for each date, in order, through Airflow.

Runs in this process with `dag.test()` (Airflow's own task runner, SQLite metadata, no scheduler needed), so a
day's run is exactly what the scheduler would run, with progress printed as it goes.
"""
from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from typing import Iterable

from recon import paths
from recon.sources import all_sources


def _dags() -> dict[str, object]:
    """The DAGs as Airflow parses them from the DAGs folder (dag.test needs them serialized from there)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(paths.repo_dir() / "dags"))
    if bag.import_errors:
        details = "\n".join(f"{path}: {err.strip().splitlines()[-1]}" for path, err in bag.import_errors.items())
        raise SystemExit(f"DAG files failed to import:\n{details}")
    return dict(bag.dags)


def run_dag(dag: object, day: date) -> tuple[str, float]:
    from datetime import datetime, timezone

    started = time.monotonic()
    dagrun = dag.test(logical_date=datetime(day.year, day.month, day.day, tzinfo=timezone.utc))  # type: ignore[attr-defined]
    state = str(getattr(dagrun, "state", "unknown"))
    return state, time.monotonic() - started


def dates_between(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def run_days(first: date, last: date, sources: list[str] | None = None, reconcile: bool = True) -> int:
    if last < first:
        print(f"--through {last} is before --date {first}", file=sys.stderr)
        return 2
    dags = _dags()
    names = [f"ingest_{s}" for s in (sources or sorted(all_sources()))]
    unknown = [n for n in names if n not in dags]
    if unknown:
        print(f"unknown source(s): {', '.join(n[7:] for n in unknown)}; declared: {', '.join(sorted(all_sources()))}",
              file=sys.stderr)
        return 2
    if reconcile:
        names.append("reconcile_daily")
    for day in dates_between(first, last):
        for name in names:
            print(f"[{day}] {name} ...", flush=True)
            state, seconds = run_dag(dags[name], day)
            print(f"[{day}] {name} {state} in {seconds:.1f}s", flush=True)
            if "success" not in state:
                print(f"[{day}] {name} did not succeed ({state}): see the task logs above; fix and re-run "
                      f"`recon run --date {day}` (re-runs are safe)", file=sys.stderr)
                return 1
    return 0
