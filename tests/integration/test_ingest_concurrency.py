"""Two runs of the same source and business date at once (a backfill beside a manual run, a second Airflow) cannot
interleave their writes: the ingest lock (recon.ingest.ingest_lock) makes the second run's steps wait, so each
file lands once and the published rows are exact. Two reconcile runs of the same date started together take the
reconcile lock one after the other, and their writes do not interleave. Every run is a separate process, as
Airflow's workers are, started together behind a file barrier (tests/integration/ingest_worker.py)."""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import pytest

import ingest_worker
from recon import connections, db, reconcile_lock, s3
from recon.ingest import ingest_lock, steps
from recon.settings import load_settings

pytestmark = pytest.mark.integration
DAY = date(2026, 1, 5)
PREFIX = "inbound/stripe/2026/01/05/"
BIG_ROWS = 20_000  # about a second of parsing: without the lock, both runs are in flight at once


def _query(sql: str, *params, conn_id: str = connections.WAREHOUSE) -> list[tuple]:
    with db.transaction(conn_id) as cur:
        cur.execute(sql.format(raw=load_settings().raw_db), params)
        return [tuple(r) for r in cur.fetchall()]


def _put(name: str, body: bytes) -> None:
    s3.client().put_object(Bucket=load_settings().bucket, Key=PREFIX + name, Body=body)


def _start_together(tmp_path: Path, commands: list[list[str]], timeout: float = 300) -> list[dict]:
    """Start every command, wait until each is ready (imports done), then let them all go at once."""
    go = tmp_path / "go"
    running = []
    for i, cmd in enumerate(commands):
        ready, out, err = tmp_path / f"ready-{i}", tmp_path / f"out-{i}.json", tmp_path / f"output-{i}.log"
        with open(err, "w") as log:  # Airflow's logging (set up on import) writes to stdout
            proc = subprocess.Popen([*cmd, "--ready", str(ready), "--go", str(go), "--out", str(out)],
                                    stdout=log, stderr=subprocess.STDOUT)
        running.append((proc, ready, out, err))
    deadline = time.monotonic() + 120
    while not all(ready.exists() for _, ready, _, _ in running):
        assert time.monotonic() < deadline, "the workers did not start"
        assert all(proc.poll() is None for proc, *_ in running), [err.read_text()[-3000:] for *_, err in running]
        time.sleep(0.05)
    go.write_text("go")
    outputs = []
    for proc, _, out, err in running:
        assert proc.wait(timeout=timeout) == 0, err.read_text()[-3000:]
        outputs.append({**json.loads(out.read_text()), "log": err.read_text()})
    return outputs


def test_two_ingest_runs_of_the_same_day_started_together_land_each_file_once(clean_namespace, tmp_path) -> None:
    _put("big.csv", ingest_worker.stripe_report(BIG_ROWS))
    _put("small.csv", ingest_worker.stripe_report(2, prefix="small"))
    runs = _start_together(tmp_path, [ingest_worker.command("sequence", "stripe", DAY.isoformat())] * 2)

    # each file landed by exactly one run; the other found it handled (or already archived) and loaded nothing
    landed = [run["results"]["land"] for run in runs]
    assert sum(r["landed"] for r in landed) == 2, landed
    assert sum(r["rows"] for r in landed) == BIG_ROWS + 2, landed
    # one manifest row per object: loaded and archived, no second copy, no in-flight row taken for a dead one's
    assert _query("SELECT file_name, status, rows_loaded, archived_key IS NOT NULL FROM {raw}.file_manifest "
                  "ORDER BY file_name") == [("big.csv", "loaded", BIG_ROWS, 1), ("small.csv", "loaded", 2, 1)]
    # published rows = the files' rows exactly, and landing holds one copy
    expected = {f"txn_{i:07d}" for i in range(1, BIG_ROWS + 1)} | {"small_0000001", "small_0000002"}
    published = _query("SELECT balance_transaction_id FROM {raw}.src_stripe_payout_lines")
    assert len(published) == len(expected) and {r[0] for r in published} == expected
    assert _query("SELECT COUNT(*) FROM {raw}.landing_stripe_payout_lines") == [(BIG_ROWS + 2,)]
    # the runs did not write at once: one run's steps waited for the other's
    assert any("waiting for the ingest lock" in run["log"] for run in runs), [run["log"][-2000:] for run in runs]
    client, bucket = s3.client(), load_settings().bucket
    assert s3.list_keys(client, bucket, "inbound/") == []
    assert s3.list_keys(client, bucket, "processed/") == ["processed/stripe/2026/01/05/big.csv",
                                                          "processed/stripe/2026/01/05/small.csv"]


def _lock_waiters() -> int:
    """Connections of this namespace's lock waiting in GET_LOCK on the server right now."""
    name = ingest_lock.lock_name(load_settings(), "stripe", DAY)
    return _query("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE %s",
                  f"SELECT GET_LOCK('{name}'%")[0][0]


def test_a_step_waits_while_another_run_holds_the_lock_then_lands(clean_namespace) -> None:
    _put("report.csv", ingest_worker.stripe_report(3))
    found = steps.discover("stripe", DAY)
    outcome: dict = {}
    with ingest_lock.held("stripe", DAY, "land", "other-run"):
        holder = _query("SELECT holder, connection_id FROM {raw}.ingest_locks")
        assert len(holder) == 1 and holder[0][0].endswith("step land, load other-run")
        worker = threading.Thread(target=lambda: outcome.update(
            steps.land("stripe", DAY, found["load_id"], found["keys"])))
        worker.start()
        deadline = time.monotonic() + 30
        while _lock_waiters() == 0:  # the land asks the server for the lock and waits there
            assert time.monotonic() < deadline and worker.is_alive(), "the land did not wait for the lock"
            time.sleep(0.05)
        time.sleep(0.5)
        assert worker.is_alive() and _query("SELECT COUNT(*) FROM {raw}.file_manifest") == [(0,)]
    worker.join(timeout=60)
    assert outcome["landed"] == 1 and outcome["rows"] == 3
    assert _query("SELECT COUNT(*) FROM {raw}.ingest_locks") == [(0,)]  # each step gave its lock back


def test_a_step_that_cannot_get_the_lock_in_time_fails_naming_the_holder(clean_namespace, monkeypatch) -> None:
    monkeypatch.setenv(ingest_lock.WAIT_ENV, "1")
    monkeypatch.setenv(ingest_lock.POLL_ENV, "0.5")
    with ingest_lock.held("stripe", DAY, "audit", "slow-run"):
        connection_id = _query("SELECT connection_id FROM {raw}.ingest_locks")[0][0]
        with pytest.raises(ingest_lock.IngestLockTimeout) as waited:
            steps.publish_day("stripe", DAY, "second-run")
    message = str(waited.value)
    name = ingest_lock.lock_name(load_settings(), "stripe", DAY)
    assert message.startswith(f"stripe 2026-01-05: could not take the ingest lock {name!r} within 1 s")
    assert f"pid {os.getpid()} on " in message and "step audit, load slow-run" in message
    assert f"KILL {connection_id}" in message and "RECON_INGEST_LOCK_WAIT_SECONDS" in message
    # nothing published, and the failure is recorded as the stage's
    assert _query("SELECT COUNT(*) FROM {raw}.ingest_runs WHERE step = 'publish'") == [(0,)]
    assert _query("SELECT status FROM {raw}.pipeline_runs WHERE stage = 'publish'") == [("failed",)]


def test_a_lock_lost_while_the_step_works_fails_the_step(clean_namespace) -> None:
    with pytest.raises(ingest_lock.IngestLockLost, match="was lost while land worked"):
        with ingest_lock.held("stripe", DAY, "land", "run-1"):
            connection_id = _query("SELECT connection_id FROM {raw}.ingest_locks")[0][0]
            with db.transaction() as cur:  # its connection ends (a DBA's KILL; a restart does the same)
                cur.execute(f"KILL {int(connection_id)}")
    # the lock is free again: the retry takes it at once
    with ingest_lock.held("stripe", DAY, "land", "run-1") as waited:
        assert waited < 1


def test_two_reconcile_runs_of_the_same_date_started_together_take_turns(stack, tmp_path) -> None:
    """test_reconcile_lock proves one holder at a time; this shows two runs, separate processes making the
    calls of wait_for_turn (poke until the lease is theirs) and release_turn, writing while they hold it: the
    second waits, the lease windows do not overlap, and their writes do not interleave."""
    table = f"{load_settings().dbt_db}.test_reconcile_turns"  # where reconcile runs write: the transformer's
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id BIGINT AUTO_INCREMENT PRIMARY KEY, holder VARCHAR(100), "
                    "written_at DATETIME(6))")
    reconcile_lock.release()
    try:
        runs = _start_together(tmp_path, [
            ingest_worker.command("turn", DAY.isoformat(), f"reconcile_daily/backfill__{i}", "--hold", "2",
                                  "--table", table) for i in (1, 2)])
        first, second = sorted(runs, key=lambda r: r["acquired"])
        assert first["released"] <= second["acquired"], (first, second)  # no overlap
        assert second["pokes"] >= 1  # it asked while the other held the lease, and waited
        writers = [r[0] for r in _query(f"SELECT holder FROM {table} ORDER BY id", conn_id=connections.TRANSFORMER)]
        assert writers == [first["holder"]] * first["written"] + [second["holder"]] * second["written"]
        assert reconcile_lock.current().holder is None
    finally:
        reconcile_lock.release()
        with db.transaction(connections.TRANSFORMER) as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
