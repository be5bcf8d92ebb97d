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
    failed: list[str] = []
    for day in dates_between(first, last):
        for name in names:
            if not _run_one(dags[name], name, day):
                # a failed ingest (a late file, a bad one) does not stop the day: reconcile_daily still runs,
                # that source's items stay pending, and rpt_source_arrivals says what is missing
                failed.append(f"{name} {day}")
        if reconcile and not _run_one(dags["reconcile_daily"], "reconcile_daily", day):
            failed.append(f"reconcile_daily {day}")
            break  # the next dates would build on a failed reconciliation: stop here
    if failed:
        print(f"did not succeed: {', '.join(failed)}. See the task logs above; fix the cause (for a late file, drop "
              f"it where the message says) and re-run `recon run --date D` for those dates (re-runs are safe)",
              file=sys.stderr)
        return 1
    return 0


def _run_one(dag: object, name: str, day: date) -> bool:
    print(f"[{day}] {name} ...", flush=True)
    state, seconds = run_dag(dag, day)
    print(f"[{day}] {name} {state} in {seconds:.1f}s", flush=True)
    if "success" in state:
        return True
    print(f"[{day}] {name} did not succeed ({state})", file=sys.stderr)
    return False
