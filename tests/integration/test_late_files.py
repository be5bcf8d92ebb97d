"""The wait for a late file, on the private MariaDB and the moto S3 server: the ingest DAG run through Airflow
(`dag.test`, which runs a deferred task's trigger in-process until its first event, then resumes the task) fails
fast when the file is missing after its expected time, picks up a file that comes while it waits, fails when the
expected time passes while it waits; and the trigger itself, polling moto, fires `found` or `past_deadline`."""
from __future__ import annotations

import asyncio
import threading
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from recon import arrival, db, runner, s3
from recon.orchestration.arrival_trigger import S3FileArrivalTrigger
from recon.settings import load_settings

pytestmark = pytest.mark.integration
DAY = date(2026, 1, 5)
PREFIX = "inbound/stripe/2026/01/05/"
REPORT = ("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,available_on_utc,"
          "currency,gross,fee,net,reporting_category,source_id,description\n"
          "po_1,2026-01-07 00:00:00,txn_1,2026-01-05 10:00:00,,usd,10.00,0.00,10.00,charge,ch_a,x\n")


@pytest.fixture(scope="module")
def dags(stack) -> dict[str, Any]:
    return runner._dags()


def _put(key: str = PREFIX + "report.csv") -> None:
    s3.client().put_object(Bucket=load_settings().bucket, Key=key, Body=REPORT.encode())


def _rows(sql: str, *params: Any) -> list[tuple]:
    with db.transaction() as cur:
        cur.execute(sql.format(raw=load_settings().raw_db), params)
        return list(cur.fetchall())


def _steps(source: str = "stripe") -> list[tuple[str, str]]:
    return [tuple(r) for r in _rows("SELECT step, status FROM {raw}.ingest_runs WHERE source = %s AND "
                                    "business_date = %s ORDER BY run_id", source, DAY)]


def _run(dag: Any) -> tuple[Any, dict[str, str], float]:
    from airflow.utils.session import create_session

    started = time.monotonic()
    dagrun = dag.test(logical_date=datetime(DAY.year, DAY.month, DAY.day, tzinfo=timezone.utc))
    seconds = time.monotonic() - started
    with create_session() as session:
        tis = dagrun.get_task_instances(session=session)
        states = {ti.task_id: str(ti.state) for ti in tis}
    return dagrun, states, seconds


def _near_deadline(monkeypatch, dag: Any, seconds: float) -> datetime:
    """Every source's expected time becomes `seconds` from now, and the sensor polls every 0.5 s: a real wait,
    kept short. dag.test runs the task objects of this process, so the patches reach them."""
    deadline = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    monkeypatch.setattr(arrival.ExpectedBy, "deadline", lambda self, business_date: deadline)
    monkeypatch.setattr(dag.get_task("wait_for_file"), "poke_interval", 0.5)
    return deadline


def test_a_missing_file_fails_fast_naming_source_date_and_expected_time(clean_namespace, dags, capfd) -> None:
    dagrun, states, seconds = _run(dags["ingest_stripe"])
    assert "failed" in str(dagrun.state)
    assert states["wait_for_file"] == "failed"
    assert {states[t] for t in ("discover", "land", "audit", "publish", "archive")} == {"upstream_failed"}
    # no deferral (that would record `waiting` first): one look, then the failure; the time is dag.test's overhead
    assert seconds < 120, f"the run took {seconds:.0f}s: a date long past its expected time must not wait"
    expected = ("stripe: no file for business date 2026-01-05 by its expected time 2026-01-06 06:00 UTC "
                '(expected_by "D+1 06:00" in dags/sources/stripe.yml); nothing under '
                f"s3://{load_settings().bucket}/{PREFIX}.")
    # the failing task's own message (task log, AirflowFailException: no retries) and the run log
    output = capfd.readouterr()
    assert f"AirflowFailException: {expected}" in output.out + output.err
    assert _steps() == [("wait", "missing")]  # nothing else ran
    detail = _rows("SELECT detail FROM {raw}.ingest_runs WHERE step = 'wait'")[0][0]
    assert detail.startswith(expected) and "clear wait_for_file of ingest_stripe for 2026-01-05" in detail
    # nothing landed
    assert _rows("SELECT COUNT(*) FROM {raw}.file_manifest") == [(0,)]
    assert _rows("SELECT COUNT(*) FROM {raw}.landing_stripe_payout_lines") == [(0,)]
    assert _rows("SELECT COUNT(*) FROM {raw}.src_stripe_payout_lines") == [(0,)]


def test_a_present_file_costs_no_wait_and_a_rerun_after_archiving_does_not_fail(clean_namespace, dags) -> None:
    _put()
    dagrun, states, _ = _run(dags["ingest_stripe"])
    assert "success" in str(dagrun.state), states
    # the file was put long after 2026-01-06 06:00 (it is put now): it is taken, and marked late
    assert _steps() == [("wait", "late"), ("discover", "found"), ("land", "ok"), ("audit", "ok"), ("publish", "ok"),
                        ("archive", "ok")]
    dagrun, states, _ = _run(dags["ingest_stripe"])  # the file is in processed/ now: the date was received
    assert "success" in str(dagrun.state), states
    assert _steps()[6] == ("wait", "received")
    assert _rows("SELECT COUNT(*) FROM {raw}.src_stripe_payout_lines") == [(1,)]


def test_a_file_that_comes_while_the_task_is_deferred_is_picked_up(clean_namespace, dags, monkeypatch) -> None:
    dag = dags["ingest_stripe"]
    deadline = _near_deadline(monkeypatch, dag, 40)
    uploader = threading.Timer(4.0, _put)  # the partner drops the file while the trigger polls
    uploader.start()
    try:
        dagrun, states, seconds = _run(dag)
    finally:
        uploader.join()
    assert "success" in str(dagrun.state), states
    assert _steps() == [("wait", "waiting"), ("wait", "on_time"), ("discover", "found"), ("land", "ok"),
                        ("audit", "ok"), ("publish", "ok"), ("archive", "ok")]
    assert datetime.now(timezone.utc) < deadline  # found by polling, not at the expected time
    assert _rows("SELECT balance_transaction_id FROM {raw}.src_stripe_payout_lines") == [("txn_1",)]


def test_the_expected_time_passing_while_deferred_fails_the_task(clean_namespace, dags, monkeypatch) -> None:
    dag = dags["ingest_stripe"]
    deadline = _near_deadline(monkeypatch, dag, 4)
    dagrun, states, _ = _run(dag)
    assert "failed" in str(dagrun.state) and states["wait_for_file"] == "failed"
    assert states["discover"] == "upstream_failed"
    assert datetime.now(timezone.utc) >= deadline
    assert _steps() == [("wait", "waiting"), ("wait", "missing")]
    assert _rows("SELECT COUNT(*) FROM {raw}.file_manifest") == [(0,)]


async def _first_event(trigger: S3FileArrivalTrigger, upload_after: float | None) -> tuple[Any, float]:
    started = time.monotonic()

    async def upload() -> None:
        await asyncio.sleep(upload_after or 0)
        await asyncio.to_thread(_put)

    uploading = asyncio.create_task(upload()) if upload_after is not None else None
    event = await asyncio.wait_for(anext(trigger.run()), timeout=30)
    if uploading:
        await uploading
    return event, time.monotonic() - started


def test_trigger_fires_found_when_the_file_is_uploaded_after_it_started(clean_namespace) -> None:
    deadline = datetime.now(timezone.utc) + timedelta(seconds=20)
    trigger = S3FileArrivalTrigger(load_settings().bucket, PREFIX, deadline.isoformat(), poke_interval=0.5)
    event, seconds = asyncio.run(_first_event(trigger, upload_after=1.5))
    assert event.payload["status"] == "found"
    assert [key for key, _ in event.payload["objects"]] == [PREFIX + "report.csv"]
    modified = datetime.fromisoformat(event.payload["objects"][0][1])
    assert modified <= datetime.fromisoformat(event.payload["checked_at"]) < deadline
    assert 1.5 <= seconds < 10


def test_trigger_fires_past_deadline_when_nothing_comes(clean_namespace) -> None:
    _put("inbound/stripe/2026/01/06/other-day.csv")  # another date's file does not count
    deadline = datetime.now(timezone.utc) + timedelta(seconds=2)
    trigger = S3FileArrivalTrigger(load_settings().bucket, PREFIX, deadline.isoformat(), poke_interval=0.5)
    event, seconds = asyncio.run(_first_event(trigger, upload_after=None))
    assert event.payload["status"] == "past_deadline" and event.payload["objects"] == []
    assert datetime.fromisoformat(event.payload["checked_at"]) >= deadline
    assert 1.5 <= seconds < 10
