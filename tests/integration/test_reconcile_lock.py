"""The reconcile lock (recon.reconcile_lock) that keeps reconcile_daily runs from interleaving, whether scheduled,
asset-triggered or from a backfill: one holder at a time, also when two runs ask at the same moment; a run only
gives back its own lease; a lease left by a killed run is taken over after the expiry."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from recon import db, reconcile_lock
from recon.settings import load_settings
from recon.stack.config import admin_login

pytestmark = pytest.mark.integration
D = date(2026, 1, 6)


@pytest.fixture()
def free_lock(stack: None) -> None:
    reconcile_lock.release()
    yield
    reconcile_lock.release()


def test_one_holder_at_a_time_and_only_the_holder_releases(free_lock: None) -> None:
    assert reconcile_lock.acquire("reconcile_daily/backfill__1", D) is not None
    assert reconcile_lock.acquire("reconcile_daily/scheduled__2", D) is None  # taken
    assert reconcile_lock.acquire("reconcile_daily/backfill__1", D) is not None  # a poke again: still its own
    lease = reconcile_lock.current()
    assert lease.holder == "reconcile_daily/backfill__1" and lease.business_date == D
    assert reconcile_lock.release("reconcile_daily/scheduled__2") is False  # a late teardown of another run
    assert reconcile_lock.current().holder == "reconcile_daily/backfill__1"
    assert reconcile_lock.release("reconcile_daily/backfill__1") is True
    assert reconcile_lock.acquire("reconcile_daily/scheduled__2", D) is not None


def test_two_runs_asking_at_once_get_one_lease(free_lock: None) -> None:
    barrier = threading.Barrier(8)
    won: list[str] = []

    def ask(holder: str) -> None:
        barrier.wait()
        if reconcile_lock.acquire(holder, D) is not None:
            won.append(holder)

    threads = [threading.Thread(target=ask, args=(f"reconcile_daily/run_{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1, won
    assert reconcile_lock.current().holder == won[0]


def test_a_lease_left_by_a_killed_run_is_taken_over_after_the_expiry(free_lock: None, monkeypatch) -> None:
    reconcile_lock.acquire("reconcile_daily/killed", D)
    assert reconcile_lock.acquire("reconcile_daily/next", D) is None
    s = load_settings()
    with db.transaction(login=admin_login()) as cur:  # the killed run took it 7 hours ago
        cur.execute(f"UPDATE {s.raw_db}.reconcile_lock SET acquired_at = %s",
                    (datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=7),))
    previous = reconcile_lock.acquire("reconcile_daily/next", D)
    assert previous is not None and previous.holder == "reconcile_daily/killed"
    assert reconcile_lock.current().holder == "reconcile_daily/next"
    monkeypatch.setenv("RECON_RECONCILE_LOCK_HOURS", "24")  # a longer expiry keeps a fresh lease
    assert reconcile_lock.acquire("reconcile_daily/third", D) is None
