"""One reconcile run at a time, whatever started it.

Every `reconcile_daily` run rebuilds the same intermediate tables and marts, so two runs must never interleave their
dbt tasks. Airflow's max_active_runs=1 serializes the scheduled and the asset-triggered runs, but a backfill's runs
are counted apart from them (per backfill), so the guarantee lives here: a one-row lease in `<raw>.reconcile_lock`,
taken by the run's setup task and given back by its teardown task (which Airflow runs even when a task failed).

A lease whose holder died without its teardown (the worker was killed) is taken over after
RECON_RECONCILE_LOCK_HOURS (default 6, longer than any run) with a warning; `recon reconcile-lock` shows it and
`recon reconcile-lock --release` frees it at once.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from recon import connections, db
from recon.settings import Settings, load_settings

log = logging.getLogger(__name__)
LOCK_NAME = "reconcile"

TABLE_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.reconcile_lock (
  lock_name VARCHAR(32) NOT NULL PRIMARY KEY,
  holder VARCHAR(500) NULL COMMENT 'dag_id/run_id of the run that holds it; NULL when free',
  business_date DATE NULL COMMENT 'the date that run reconciles',
  acquired_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='one reconcile_daily run at a time (recon.reconcile_lock)'
"""


@dataclass(frozen=True)
class Lease:
    holder: str | None
    business_date: date | None
    acquired_at: datetime | None


def create_table(cur: object, settings: Settings) -> None:
    """Made by the warehouse setup (`recon stack up`, recon.warehouse.init_warehouse), with its one row."""
    cur.execute(TABLE_DDL.format(raw=settings.raw_db))  # type: ignore[attr-defined]
    cur.execute(f"INSERT IGNORE INTO {settings.raw_db}.reconcile_lock (lock_name) VALUES (%s)",  # type: ignore[attr-defined]
                (LOCK_NAME,))


def expiry() -> timedelta:
    return timedelta(hours=float(os.environ.get("RECON_RECONCILE_LOCK_HOURS", "6")))


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def current() -> Lease:
    s = load_settings()
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(f"SELECT holder, business_date, acquired_at FROM {s.raw_db}.reconcile_lock WHERE lock_name = %s",
                    (LOCK_NAME,))
        holder, day, at = cur.fetchone()
    return Lease(holder, day, at)


def acquire(holder: str, business_date: date) -> Lease | None:
    """Take the lease for `holder`; None when it is taken, else the lease it replaced (to log a take-over).
    The row lock (SELECT ... FOR UPDATE) makes two runs asking at once see one another."""
    s = load_settings()
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(f"SELECT holder, business_date, acquired_at FROM {s.raw_db}.reconcile_lock "
                    "WHERE lock_name = %s FOR UPDATE", (LOCK_NAME,))
        other, other_day, at = cur.fetchone()
        stale = other is not None and at is not None and _now() - at > expiry()
        if other is not None and other != holder and not stale:
            return None
        if stale and other != holder:
            log.warning("taking over the reconcile lock of %s (reconciling %s since %s UTC, over %s ago): its run "
                        "ended without giving it back", other, other_day, at, expiry())
        cur.execute(f"UPDATE {s.raw_db}.reconcile_lock SET holder = %s, business_date = %s, acquired_at = %s "
                    "WHERE lock_name = %s", (holder, business_date, _now(), LOCK_NAME))
    return Lease(other, other_day, at)


def release(holder: str | None = None) -> bool:
    """Give the lease back; with a holder, only if that run holds it (a late teardown never frees another run's
    lease). Without one (the CLI's --release), whoever holds it. True when something was released."""
    s = load_settings()
    with db.transaction(connections.TRANSFORMER) as cur:
        where, params = "lock_name = %s AND holder IS NOT NULL", [LOCK_NAME]
        if holder is not None:
            where += " AND holder = %s"
            params.append(holder)
        cur.execute(f"UPDATE {s.raw_db}.reconcile_lock SET holder = NULL, business_date = NULL, acquired_at = NULL "
                    f"WHERE {where}", params)
        return cur.rowcount > 0
