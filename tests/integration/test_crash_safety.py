"""Crash safety of the ingest, on the private MariaDB and the moto S3 server:

- the loader killed with SIGKILL while it writes the TSV, then again while LOAD DATA runs (its transaction open,
  rows inserted): the third try lands the file exactly, no row twice, none lost, and the manifest tells the story;
- MariaDB killed (a crash: SIGKILL, then a start with InnoDB's crash recovery) while the ingest DAG's land task
  loads, through Airflow's dag.test, which honours retries and retry_delay: Airflow's retry lands the file exactly.
  (A clean shutdown instead leaves a client in the middle of LOAD DATA LOCAL blocked for about 2 minutes, until the
  server's orphaned socket times out; the outcome is the same, the test would just wait);
- the S3 endpoint failing (server errors, then dropped connections), then away: botocore's retries (counted on
  the wire), then a clear failure naming the endpoint, the bucket/key and the attempts, and nothing recorded; back
  again, the retry lands the file.

These tests restart the stack's MariaDB (the one the whole session uses) and always bring it back. They never
stop moto (its objects live in memory: a restart would empty every bucket of the session): S3 goes away behind
a TCP proxy in front of moto instead, which from the client's side is the same thing."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

import ingest_worker
from recon import db, runner, s3
from recon.ingest import steps
from recon.settings import load_settings
from recon.stack import mariadb
from recon.stack.config import load_stack_config

pytestmark = pytest.mark.integration
DAY = date(2026, 1, 5)
PREFIX = "inbound/stripe/2026/01/05/"
LANDING = "landing_stripe_payout_lines"


def _query(sql: str, *params: Any) -> list[tuple]:
    with db.transaction() as cur:
        cur.execute(sql.format(raw=load_settings().raw_db), params)
        return [tuple(r) for r in cur.fetchall()]


def _moto() -> Any:
    """A client straight to moto (never through the tests' proxy), for putting and checking objects."""
    cfg = load_stack_config()
    return boto3.client("s3", endpoint_url=cfg.s3_endpoint, region_name="us-east-1", aws_access_key_id="local",
                        aws_secret_access_key="local")


def _put(name: str, body: bytes) -> None:
    _moto().put_object(Bucket=load_settings().bucket, Key=PREFIX + name, Body=body)


def _expected_ids(rows: int) -> set[str]:
    return {f"txn_{i:07d}" for i in range(1, rows + 1)}


def _assert_published_exactly(rows: int) -> None:
    """src_ holds the file's rows: each id once, each line of the file once, all from the one loaded file."""
    published = _query("SELECT balance_transaction_id, _row_number, _file_id FROM {raw}.src_stripe_payout_lines")
    assert len(published) == rows
    assert {r[0] for r in published} == _expected_ids(rows)
    assert sorted(r[1] for r in published) == list(range(2, rows + 2))  # line 1 is the header
    loaded = _query("SELECT file_id FROM {raw}.file_manifest WHERE status = 'loaded'")
    assert len(loaded) == 1 and {r[2] for r in published} == {loaded[0][0]}
    assert _query(f"SELECT COUNT(*) FROM {{raw}}.{LANDING}") == [(rows,)]  # no copy left in landing either


def _wait_until(check: Callable[[], Any], what: str, proc: subprocess.Popen | None = None,
                timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the worker ended (code {proc.returncode}) before {what}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


class LoadWatch:
    """Looks at the server from outside: is a LOAD DATA into the landing table running, and how many rows has its
    open transaction inserted so far (read uncommitted: the landing table is empty before the test's load)?"""

    def __init__(self) -> None:
        self.conn = db.connect(autocommit=True)
        self.table = f"{load_settings().raw_db}.{LANDING}"
        with self.conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")

    def loading(self) -> bool:
        """A LOAD DATA statement into the landing table on the server (a killed client's is rolled back)."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'LOAD DATA%%' "
                        "AND info LIKE %s", (f"%{self.table}%",))
            return cur.fetchone()[0] > 0

    def rows_loading(self) -> int | None:
        if not self.loading():
            return None
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {self.table}")
            return int(cur.fetchone()[0])

    def close(self) -> None:
        self.conn.close()


def _start_land(load_id: str, keys: list[str], work_dir: Path, log: Path) -> subprocess.Popen:
    """The land task's code in its own process, as an Airflow worker runs it (a retry keeps discover's load id)."""
    with open(log, "a") as out:
        return subprocess.Popen(ingest_worker.command("land", "stripe", DAY.isoformat(), load_id, json.dumps(keys)),
                                stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "RECON_WORK_DIR": str(work_dir)})


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def _manifest() -> list[tuple]:
    return _query("SELECT status, reason FROM {raw}.file_manifest ORDER BY file_id")


def test_a_loader_killed_while_parsing_then_while_loading_lands_the_file_exactly_on_the_next_try(
        clean_namespace, tmp_path, monkeypatch) -> None:
    rows = 60_000  # seconds of parsing, about 0.4 s of LOAD DATA: each kill point is met with time to spare
    _put("big.csv", ingest_worker.stripe_report(rows))
    found = steps.discover("stripe", DAY)
    work = tmp_path / "work"
    log = tmp_path / "worker.log"
    watch = LoadWatch()
    try:
        # 1. killed while it parses the file into the TSV: its manifest row says 'received', nothing is loading
        first = _start_land(found["load_id"], found["keys"], work, log)

        def parsing() -> bool:
            tsvs = list(work.glob("recon-*.tsv"))
            return (_query("SELECT status FROM {raw}.file_manifest") == [("received",)]
                    and bool(tsvs) and tsvs[0].stat().st_size > 512 * 1024 and not watch.loading())

        _wait_until(parsing, "the TSV to be half written", first)
        _kill(first)
        assert _query(f"SELECT COUNT(*) FROM {{raw}}.{LANDING}") == [(0,)]

        # 2. the retry, killed while LOAD DATA runs: its transaction has inserted rows, none committed
        second = _start_land(found["load_id"], found["keys"], work, log)

        def mid_load() -> int:
            inserted = watch.rows_loading() or 0
            return inserted if inserted >= 5_000 else 0

        inserted = _wait_until(mid_load, "LOAD DATA to insert rows", second)
        _kill(second)
        _wait_until(lambda: not watch.loading(), "the server to roll the dead LOAD DATA back")
        assert 5_000 <= inserted < rows
        assert _query(f"SELECT COUNT(*) FROM {{raw}}.{LANDING}") == [(0,)]
        # the retry found the first try's 'received' row (it holds the ingest lock: that try is dead)
        assert [r[0] for r in _manifest()] == ["abandoned", "received"]
    finally:
        watch.close()

    # the killed tries left their temp files (their cleanup never ran); the next land removes the stale ones
    leftovers = sorted(work.glob("recon-*"))
    assert {p.suffix for p in leftovers} == {".download", ".tsv"}
    for path in leftovers:
        os.utime(path, (time.time() - steps.STALE_WORK_FILE_SECONDS - 60,) * 2)

    # 3. the third try (Airflow's last retry) and the rest of the run
    monkeypatch.setenv("RECON_WORK_DIR", str(work))
    landed = steps.land("stripe", DAY, found["load_id"], found["keys"])
    assert (landed["landed"], landed["rows"]) == (1, rows)
    assert not any(p.exists() for p in leftovers)
    assert steps.audit("stripe", DAY, found["load_id"])["passed"] == 1
    assert steps.publish_day("stripe", DAY, found["load_id"])["rows"] == rows
    steps.archive_day("stripe", DAY, found["load_id"])

    _assert_published_exactly(rows)
    reason = "interrupted before landing; handled again by a later run"
    assert _manifest() == [("abandoned", reason), ("abandoned", reason), ("loaded", None)]
    assert _query("SELECT rows_read, rows_loaded FROM {raw}.file_manifest WHERE status = 'loaded'") == [(rows, rows)]
    # the killed tries recorded no step: the log has one land, the one that finished
    assert _query("SELECT step, status FROM {raw}.ingest_runs WHERE step = 'land'") == [("land", "ok")]
    assert s3.list_keys(_moto(), load_settings().bucket, "processed/") == ["processed/stripe/2026/01/05/big.csv"]


@pytest.fixture()
def restartable_db(stack) -> Any:
    """The stack's own MariaDB (not an external server), running again after the test whatever happened."""
    if os.environ.get("RECON_EXTERNAL_DB", "") not in ("", "0", "false", "False"):
        pytest.skip("RECON_EXTERNAL_DB: the tests do not restart a database they do not own")
    cfg = load_stack_config()
    yield cfg
    if not mariadb.is_running(cfg):
        mariadb.start(cfg)


def test_mariadb_crashing_while_the_land_task_loads_then_coming_back_the_tasks_retry_lands_the_file_exactly(
        clean_namespace, restartable_db, monkeypatch) -> None:
    from airflow.utils.session import create_session

    rows = 60_000
    _put("big.csv", ingest_worker.stripe_report(rows))
    monkeypatch.setenv("RECON_RETRY_DELAY_SECONDS", "5")  # read when the DAG is built: parse after setting it
    dag = runner._dags()["ingest_stripe"]
    assert dag.get_task("land").retries == 2 and dag.get_task("land").retry_delay.total_seconds() == 5
    restarted: dict[str, Any] = {}
    done = threading.Event()

    def restart_when_loading() -> None:
        watch = LoadWatch()
        try:
            while not done.is_set():
                inserted = watch.rows_loading()
                if inserted and inserted >= 2_000:  # mid-load: rows in its open transaction
                    restarted["rows_inserted"] = inserted
                    break
                time.sleep(0.02)
        finally:
            watch.close()
        if restarted:
            started = time.monotonic()
            mariadb.restart(restartable_db, crash=True)
            restarted["seconds"] = time.monotonic() - started

    watcher = threading.Thread(target=restart_when_loading)
    watcher.start()
    try:
        dagrun = dag.test(logical_date=datetime(DAY.year, DAY.month, DAY.day, tzinfo=timezone.utc))
    finally:
        done.set()
        watcher.join(timeout=120)
    assert restarted.get("seconds"), "MariaDB was not restarted during LOAD DATA"
    with create_session() as session:
        tis = {ti.task_id: ti for ti in dagrun.get_task_instances(session=session)}
    assert "success" in str(dagrun.state), {t: str(ti.state) for t, ti in tis.items()}
    # the first try died with the server; Airflow's retry (after retry_delay) landed the file
    assert tis["land"].try_number >= 2 and str(tis["land"].state) == "success"
    assert all(tis[t].try_number == 1 for t in ("discover", "audit", "publish", "archive"))
    _assert_published_exactly(rows)
    statuses = [r[0] for r in _manifest()]
    assert statuses[-1] == "loaded" and set(statuses[:-1]) == {"abandoned"}, statuses


_INTERNAL_ERROR = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>We "
                   b"encountered an internal error. Please try again.</Message></Error>")
HTTP_500 = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(_INTERNAL_ERROR) + _INTERNAL_ERROR)


class S3Proxy:
    """A TCP proxy in front of moto: the endpoint the steps use. `fail_path` makes it fail every request for that
    object: with `fail_with` (an HTTP response: a server error) or, without, by dropping the connection; `cut_after`
    lets the response through but cuts it after that many bytes. `stop()` takes it away (connection refused). It
    counts the failed requests: the attempts as seen on the wire."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.fail_path: bytes | None = None
        self.fail_with: bytes | None = None
        self.cut_after: int | None = None
        self.failed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # stopped
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        budget: list[int | None] = [None]  # bytes of the response still let through, when it is to be cut

        def pump(src: socket.socket, dst: socket.socket, inspect: bool) -> None:
            try:
                while data := src.recv(65536):
                    if inspect and self.fail_path and data.startswith(b"GET " + self.fail_path + b" "):
                        self.failed += 1
                        if self.cut_after is None:
                            if self.fail_with:
                                src.sendall(self.fail_with)
                            break
                        budget[0] = self.cut_after
                    if not inspect and budget[0] is not None:
                        data, budget[0] = data[:budget[0]], budget[0] - len(data)
                        dst.sendall(data)
                        if budget[0] <= 0:
                            break
                        continue
                    dst.sendall(data)
            except OSError:
                pass
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()
        pump(client, upstream, True)
        client.close()
        upstream.close()

    def stop(self) -> None:
        try:  # shutdown first: a close alone leaves the socket listening while accept() blocks on it
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()


def test_an_s3_endpoint_that_fails_then_goes_away_gives_retries_then_a_clear_failure_and_no_partial_data(
        clean_namespace, monkeypatch, tmp_path) -> None:
    rows = 2_000
    work = tmp_path / "work"
    monkeypatch.setenv("RECON_WORK_DIR", str(work))
    _put("report.csv", ingest_worker.stripe_report(rows))
    cfg = load_stack_config()
    proxy = S3Proxy((cfg.s3_host, cfg.s3_port))
    try:
        monkeypatch.setenv("AIRFLOW_CONN_RECON_S3", "aws://local:local@/?endpoint_url="
                           f"{proxy.endpoint.replace(':', '%3A').replace('/', '%2F')}&region_name=us-east-1")
        monkeypatch.setenv("RECON_S3_MAX_ATTEMPTS", "3")
        found = steps.discover("stripe", DAY)  # through the proxy
        assert found["keys"] == [PREFIX + "report.csv"]
        bucket = load_settings().bucket

        def land_fails(fail_with: bytes | None) -> str:
            proxy.fail_path, proxy.fail_with, proxy.failed = f"/{bucket}/{PREFIX}report.csv".encode(), fail_with, 0
            with pytest.raises(s3.S3Unavailable) as failed:
                steps.land("stripe", DAY, found["load_id"], found["keys"])
            assert proxy.failed == 3  # botocore tried 3 times, then the step failed clearly
            message = str(failed.value)
            assert message.startswith(f"S3 endpoint {proxy.endpoint} is unreachable or failing: GetObject of "
                                      f"s3://{bucket}/{PREFIX}report.csv failed after 3 attempt(s)")
            assert "none is half-loaded" in message and "clear the task" in message
            assert "RECON_S3_MAX_ATTEMPTS=3" in message
            return message

        # the endpoint answers every request for the object with a server error, then drops the connections
        assert "(InternalError)" in land_fails(HTTP_500)
        assert "Connection was closed before we received a valid response" in land_fails(None)
        # the connection breaks in the middle of the object: botocore does not retry a body, the task's retry will
        proxy.failed, proxy.cut_after = 0, 64 * 1024
        with pytest.raises(s3.S3Unavailable, match=r"GetObject \(reading the body\) of s3://[^ ]+/report.csv failed "
                                                   r"after 1 attempt\(s\): .* The download broke after \d+ bytes; "
                                                   r"nothing of it was recorded or loaded"):
            steps.land("stripe", DAY, found["load_id"], found["keys"])
        assert proxy.failed == 1
        proxy.fail_path, proxy.cut_after = None, None
        # nothing recorded or loaded: no manifest row, no landing row, no land in the step log, no temp file
        assert _manifest() == []
        assert list(work.iterdir()) == []
        assert _query(f"SELECT COUNT(*) FROM {{raw}}.{LANDING}") == [(0,)]
        assert _query("SELECT COUNT(*) FROM {raw}.ingest_runs WHERE step = 'land'") == [(0,)]
        assert _query("SELECT status FROM {raw}.pipeline_runs WHERE stage = 'land'") == [("failed",)] * 3

        # the endpoint goes away entirely (connection refused): counted by a botocore hook this time
        proxy.stop()
        attempts: list[str] = []
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION._session.register("before-send.s3", lambda request, **_: attempts.append(request.url))
        with pytest.raises(s3.S3Unavailable, match=r"ListObjectsV2 of s3://[^ ]+/inbound/stripe/2026/01/05/ "
                                                   r"failed after 3 attempt\(s\)") as away:
            steps.discover("stripe", DAY)
        assert len(attempts) == 3 and "Could not connect to the endpoint URL" in str(away.value)
        assert "Nothing was recorded for this run." in str(away.value)
    finally:
        proxy.stop()
        boto3.DEFAULT_SESSION = None

    # the endpoint is back: Airflow's retry of land (same load id) lands the file, and the rest of the run follows
    monkeypatch.undo()  # the stack's own endpoint again
    assert steps.land("stripe", DAY, found["load_id"], found["keys"])["rows"] == rows
    steps.audit("stripe", DAY, found["load_id"])
    assert steps.publish_day("stripe", DAY, found["load_id"])["rows"] == rows
    _assert_published_exactly(rows)
    assert [r[0] for r in _manifest()] == ["loaded"]
