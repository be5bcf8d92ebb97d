"""One writing ingest step at a time per (namespace, source, business date).

`max_active_runs=1` keeps one ingest DAG's scheduled and manual runs apart, but a backfill's runs are counted apart
from them, and `recon run` or a second Airflow on the same warehouse are not counted at all. Two runs of the same
day at once would both pass land's "already handled?" check and load a file twice, and one would take the other's
in-flight 'received' manifest row for a dead run's and mark it abandoned. So land, audit, publish and archive take
this lock first: a MariaDB named lock (GET_LOCK) held by a connection of their own for the step's whole time.

- A second run's step waits (logging who holds the lock, every RECON_INGEST_LOCK_POLL_SECONDS), then does its
  work on what the first one left: its land finds the files handled (recorded as such), its publish republishes
  the same rows. Waiting longer than RECON_INGEST_LOCK_WAIT_SECONDS (default 1800) fails the step, naming the
  holder.
- The server frees the lock when the holder's connection ends: a killed task (SIGKILL, OOM) never leaves a stale
  lock, so a 'received' manifest row seen under the lock can only be a dead run's.
- If the lock's connection is lost while the step works (MariaDB restarted), exclusivity was not guaranteed: a step
  that otherwise succeeded then fails with IngestLockLost, and Airflow's retry redoes it under the lock (every step
  is idempotent).

Who holds which lock is written to `<raw>.ingest_locks` (for the waiting run's log and for operators): one row per
lock, with the holder's MariaDB connection id (`KILL <id>` frees a lock whose holder hangs). The setup makes the
table (`recon stack up|init`: the loader may run no DDL); without it the lock works the same, unnamed.
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterator

import pymysql

from recon import db
from recon.settings import Settings, load_settings

log = logging.getLogger(__name__)

WAIT_ENV = "RECON_INGEST_LOCK_WAIT_SECONDS"
POLL_ENV = "RECON_INGEST_LOCK_POLL_SECONDS"
# ingest_locks missing (1146), or missing as the loader sees it (1142: no grant on a table that does not exist)
_TABLE_MISSING = (1142, 1146)

TABLE_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.ingest_locks (
  lock_name VARCHAR(64) NOT NULL PRIMARY KEY COMMENT 'the MariaDB named lock (GET_LOCK)',
  source VARCHAR(48) NOT NULL,
  business_date DATE NOT NULL,
  holder VARCHAR(500) NOT NULL COMMENT 'Airflow dag_id/run_id (try) or process, with the step and load id',
  connection_id BIGINT NOT NULL COMMENT 'the MariaDB connection that holds the lock: KILL it to free the lock',
  acquired_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='who holds which ingest lock (recon.ingest.ingest_lock)'
"""


class IngestLockTimeout(RuntimeError):
    """Another run held the lock for longer than the wait allows."""


class IngestLockLost(RuntimeError):
    """The lock's connection was lost while the step worked: it did not run alone."""


@dataclass(frozen=True)
class Holder:
    description: str
    connection_id: int
    acquired_at: Any  # None when it has not written ingest_locks (yet)


def lock_name(settings: Settings, source: str, business_date: date) -> str:
    """MariaDB lock names are server-wide and at most 64 characters: the namespace is part of the name."""
    name = f"recon.{settings.namespace}.ingest.{source}.{business_date:%Y%m%d}"
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:24]
    return f"recon.ingest.{business_date:%Y%m%d}.{digest}"


def _seconds(name: str, default: str) -> float:
    value = float(os.environ.get(name, default))
    if value <= 0:
        raise ValueError(f"{name} must be > 0, not {value:g}")
    return value


def describe_self(step: str, load_id: str) -> str:
    """The Airflow task instance running this step, or the process (a script, a test)."""
    from recon.ops.airflow_run import current_run

    run = current_run()
    who = (f"{run.dag_id}/{run.run_id} (try {run.try_number})" if run
           else f"pid {os.getpid()} on {socket.gethostname()}")
    return f"{who}, step {step}, load {load_id}"[:500]


def current_holder(cur: Any, settings: Settings, name: str) -> Holder | None:
    """Who holds the lock now: the connection from the server, the description from ingest_locks."""
    cur.execute("SELECT IS_USED_LOCK(%s)", (name,))
    connection_id = cur.fetchone()[0]
    if connection_id is None:
        return None
    try:
        cur.execute(f"SELECT holder, acquired_at FROM {settings.raw_db}.ingest_locks WHERE lock_name = %s "
                    "AND connection_id = %s", (name, connection_id))
        row = cur.fetchone()
    except pymysql.MySQLError as exc:
        if exc.args[0] not in _TABLE_MISSING:
            raise
        row = None
    if row is None:  # it has just taken the lock and not yet written who it is
        return Holder(f"MariaDB connection {connection_id}", int(connection_id), None)
    return Holder(str(row[0]), int(connection_id), row[1])


def _record_holder(cur: Any, settings: Settings, name: str, source: str, business_date: date,
                   description: str) -> None:
    try:
        cur.execute(f"REPLACE INTO {settings.raw_db}.ingest_locks (lock_name, source, business_date, holder, "
                    "connection_id, acquired_at) VALUES (%s, %s, %s, %s, CONNECTION_ID(), UTC_TIMESTAMP(6))",
                    (name, source, business_date, description))
    except pymysql.MySQLError as exc:
        if exc.args[0] not in _TABLE_MISSING:
            raise
        log.warning("%s.ingest_locks is missing (run `recon stack up` or `recon stack init`): the ingest lock holds "
                    "all the same, but a waiting run cannot name its holder", settings.raw_db)


def _acquire(cur: Any, settings: Settings, name: str, source: str, business_date: date, description: str) -> float:
    """Block until this connection holds the lock, saying at once (and every poll) whom it waits for; returns the
    seconds waited."""
    wait_limit, poll = _seconds(WAIT_ENV, "1800"), _seconds(POLL_ENV, "10")
    started = time.monotonic()
    timeout = 0.0  # the first look does not wait: a busy lock is logged straight away
    while True:
        cur.execute("SELECT GET_LOCK(%s, %s)", (name, timeout))
        if cur.fetchone()[0] == 1:
            return time.monotonic() - started
        holder = current_holder(cur, settings, name)
        if holder is None:  # released between the two questions: ask again at once
            timeout = 0.0
            continue
        who = f"{holder.description} (since {holder.acquired_at} UTC)" if holder.acquired_at else holder.description
        waited = time.monotonic() - started
        if waited >= wait_limit:
            kill = f"KILL {holder.connection_id}"
            raise IngestLockTimeout(
                f"{source} {business_date}: could not take the ingest lock {name!r} within {wait_limit:g} s "
                f"({WAIT_ENV}); it is held by {who}. That run is alive (a dead run's lock is freed by the server): "
                f"let it finish, then retry this task; if it hangs, stop it (`{kill}` on MariaDB frees the lock).")
        log.info("%s %s: waiting for the ingest lock %r, held by %s; waited %.0f s of at most %g s (%s)",
                 source, business_date, name, who, waited, wait_limit, WAIT_ENV)
        timeout = min(poll, wait_limit - waited)


@contextmanager
def held(source: str, business_date: date, step: str, load_id: str) -> Iterator[float]:
    """Run the block holding the ingest lock of (namespace, source, business date); yields the seconds waited."""
    settings = load_settings()
    name = lock_name(settings, source, business_date)
    description = describe_self(step, load_id)
    conn = db.connect(autocommit=True)
    try:
        with conn.cursor() as cur:
            waited = _acquire(cur, settings, name, source, business_date, description)
            _record_holder(cur, settings, name, source, business_date, description)
        log.info("%s %s: took the ingest lock %r (MariaDB connection %s) for %s after %.1f s", source, business_date,
                 name, conn.thread_id(), step, waited)
        try:
            yield waited
        except BaseException:
            _release(conn, settings, name, quiet=True)
            raise
        if not _release(conn, settings, name, quiet=False):
            raise IngestLockLost(
                f"{source} {business_date}: the ingest lock {name!r} was lost while {step} worked (its MariaDB "
                "connection ended: a server restart or a cut connection), so another run may have written at the same "
                "time. The step's work is idempotent: Airflow's retry redoes it under the lock.")
    finally:
        conn.close()


def _release(conn: pymysql.Connection, settings: Settings, name: str, quiet: bool) -> bool:
    """Give the lock back; False when this connection no longer held it (lost). Quiet: never raise (the block's
    own error is the one to report)."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", (name,))
            still_held = cur.fetchone()[0] == 1
            if still_held:
                try:
                    cur.execute(f"DELETE FROM {settings.raw_db}.ingest_locks WHERE lock_name = %s "
                                "AND connection_id = CONNECTION_ID()", (name,))
                except pymysql.MySQLError as exc:
                    if exc.args[0] not in _TABLE_MISSING:
                        raise
                cur.execute("SELECT RELEASE_LOCK(%s)", (name,))
            return still_held
    except pymysql.MySQLError as exc:
        (log.warning if quiet else log.error)("could not release the ingest lock %r: %s (the server frees it when the "
                                              "connection closes)", name, exc)
        return False
