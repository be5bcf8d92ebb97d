"""A separate process for the crash and concurrency tests (not a test module): runs ingest steps, or takes the
reconcile lock the way reconcile_daily's wait_for_turn task does, as an Airflow worker process would. The tests
kill it (SIGKILL) or start two at once behind a file barrier: each writes `--ready` then waits for `--go`.

    python ingest_worker.py land SOURCE DATE LOAD_ID KEYS_JSON
    python ingest_worker.py sequence SOURCE DATE --ready F --go F --out F [--steps discover,land,...]
    python ingest_worker.py turn DATE HOLDER --ready F --go F --out F --hold SECONDS --table T
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import date
from pathlib import Path


HEADER = ("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,available_on_utc,"
          "currency,gross,fee,net,reporting_category,source_id,description\n")


def stripe_report(rows: int, prefix: str = "txn") -> bytes:
    """A Stripe itemized payout report of `rows` valid lines: line n (the header is line 1) has id {prefix}_{n-1}."""
    lines = (f"po_1,2026-01-07 00:00:00,{prefix}_{i:07d},2026-01-05 10:00:00,,usd,{i % 1000 + 1}.25,0.30,"
             f"{i % 1000}.95,charge,ch_{i:07d},row {i}\n" for i in range(1, rows + 1))
    return (HEADER + "".join(lines)).encode()


def command(*args: str) -> list[str]:
    """The command line that runs this worker with the tests' Python."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _barrier(ready: Path | None, go: Path | None) -> None:
    if ready:
        ready.write_text("ready")
    while go and not go.exists():
        time.sleep(0.005)


def _sequence(args: argparse.Namespace) -> dict:
    from recon.ingest import steps

    day = date.fromisoformat(args.date)
    _barrier(args.ready, args.go)
    timings: dict[str, list[float]] = {}
    results: dict[str, object] = {}
    found = None
    for step in args.steps.split(","):
        started = time.time()
        if step == "discover":
            found = steps.discover(args.source, day)
            results[step] = found
        elif step == "land":
            results[step] = steps.land(args.source, day, found["load_id"], found["keys"])
        elif step == "publish":
            results[step] = steps.publish_day(args.source, day, found["load_id"])
        elif step == "archive":
            results[step] = steps.archive_day(args.source, day, found["load_id"])
        else:
            results[step] = getattr(steps, step)(args.source, day, found["load_id"])
        timings[step] = [started, time.time()]
    return {"results": results, "timings": timings}


def _turn(args: argparse.Namespace) -> dict:
    """wait_for_turn's poke (reconcile_lock.acquire until it is ours), then rows written one by one while holding
    the lease (what a reconcile run's dbt tasks do to the marts), then release_turn."""
    from recon import connections, db, reconcile_lock

    day = date.fromisoformat(args.date)
    _barrier(args.ready, args.go)
    pokes = 0
    while reconcile_lock.acquire(args.holder, day) is None:
        pokes += 1
        time.sleep(0.1)
    acquired = time.time()
    deadline = time.monotonic() + args.hold
    written = 0
    while time.monotonic() < deadline:
        with db.transaction(connections.TRANSFORMER) as cur:  # reconcile_daily's login
            cur.execute(f"INSERT INTO {args.table} (holder, written_at) VALUES (%s, UTC_TIMESTAMP(6))", (args.holder,))
        written += 1
        time.sleep(0.02)
    released_at = time.time()
    assert reconcile_lock.release(args.holder)
    return {"holder": args.holder, "pokes": pokes, "acquired": acquired, "released": released_at, "written": written}


def main() -> int:
    from recon.stack.config import apply_environment

    apply_environment()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s", stream=sys.stderr)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    land = sub.add_parser("land")
    land.add_argument("source")
    land.add_argument("date")
    land.add_argument("load_id")
    land.add_argument("keys")
    for name in ("sequence", "turn"):
        p = sub.add_parser(name)
        if name == "sequence":
            p.add_argument("source")
            p.add_argument("--steps", default="discover,land,audit,publish,archive")
        p.add_argument("date")
        if name == "turn":
            p.add_argument("holder")
            p.add_argument("--hold", type=float, default=1.0)
            p.add_argument("--table", required=True)
        p.add_argument("--ready", type=Path)
        p.add_argument("--go", type=Path)
        p.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "land":
        from recon.ingest import steps

        result = steps.land(args.source, date.fromisoformat(args.date), args.load_id, json.loads(args.keys))
        print(json.dumps(result))
        return 0
    output = _sequence(args) if args.command == "sequence" else _turn(args)
    args.out.write_text(json.dumps(output, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
