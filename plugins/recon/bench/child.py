"""The pipeline process of a benchmark run: `python -m recon.bench.child DATE RESULT.json DAG [DAG ...]` runs the
DAGs one after the other for one business date with dag.test (what `recon run` does), and rewrites RESULT.json
after each start and end, so the parent (recon.bench.pipeline) can print progress and sample this process's
memory from the outside. Its own output (the DAGs' task logs) goes wherever the parent sends it."""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any


def _write(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    day, out, names = date.fromisoformat(argv[0]), Path(argv[1]), argv[2:]
    from recon.stack.config import apply_environment

    apply_environment()
    from recon import runner

    payload: dict[str, Any] = {"date": day.isoformat(), "pid": os.getpid(), "dags": []}
    started = time.monotonic()
    dags = runner._dags()  # the DagBag `recon run` uses: DAGs as Airflow parses them from dags/
    payload["parse_seconds"] = round(time.monotonic() - started, 3)
    missing = [name for name in names if name not in dags]
    if missing:
        payload["error"] = f"unknown DAG(s): {', '.join(missing)}"
        _write(out, payload)
        return 2
    failed = 0
    for name in names:
        entry: dict[str, Any] = {"dag_id": name, "state": "running",
                                 "started_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat()}
        payload["dags"].append(entry)
        _write(out, payload)
        try:
            state, seconds = runner.run_dag(dags[name], day)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops the benchmark
            state, seconds = f"error: {type(exc).__name__}: {exc}", 0.0
        entry.update(state=state, seconds=round(seconds, 3),
                     finished_at=datetime.now(timezone.utc).replace(tzinfo=None).isoformat())
        failed += "success" not in state
        _write(out, payload)
    payload["finished"] = True
    _write(out, payload)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
