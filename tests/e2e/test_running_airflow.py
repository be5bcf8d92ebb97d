"""Ops on a running Airflow (`recon airflow up`: api-server, scheduler, dag-processor, triggerer; LocalExecutor), driven
through its REST API as an ops person's tools would, on the e2e session's data (the five days of five_days, run
first through dag.test):

- a 3-day backfill of the five ingest DAGs, then of reconcile_daily (POST /api/v2/backfills), re-runs days 1-3:
  every mart is unchanged (checksums), still equals the generator's ground truth, and still shows the latest date;
- the reconcile backfill runs its 3 days at once (max_active_runs=3): the reconcile lock lets one work at a time,
  which the task instances' start and end times show;
- re-running an earlier day from the UI (clearing its five ingest runs) publishes every source again, which
  triggers reconcile_daily by itself (the staging assets) for the latest date its asset events name; the marts
  are unchanged;
- a late file: ingest_stripe for a day without its file fails naming the source, the date and the expected time;
  once a file lands and the failed run is cleared, the run succeeds (the re-delivered bytes are a duplicate) and no
  reconcile starts, since only one source published;
- headless Chromium logs in and takes screenshots of the DAG list, two grids and the backfill dialog."""
from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from recon import db, s3, truth
from recon.reconcile import latest_processed_as_of_date
from recon.settings import load_settings
from recon.sources import all_sources

from e2e_airflow import HOME, AirflowAPI, Run, recon
from e2e_data import DAYS, EXTRA_DAY
from mart_checksums import mart_checksums

pytestmark = pytest.mark.e2e

BACKFILL_DAYS = DAYS[:3]
RERUN_DAY = DAYS[1]  # an earlier date than the latest: re-running it must not change what the marts show
LATE_DAY = EXTRA_DAY + timedelta(days=1)  # no data generated: stripe's file never came
INGEST_DAGS = [f"ingest_{name}" for name in sorted(all_sources())]
RECONCILE = "reconcile_daily"


@pytest.fixture(scope="module")
def running_airflow(five_days: Path) -> AirflowAPI:
    """A running Airflow on the e2e session's namespace, stopped (`recon airflow down`) after the module."""
    shutil.rmtree(HOME, ignore_errors=True)  # a fresh Airflow metadata database: no runs from an earlier session
    print(recon("airflow", "up"))
    try:
        api = AirflowAPI()
        api.wait_for_dags([*INGEST_DAGS, RECONCILE])
        for dag_id in [*INGEST_DAGS, RECONCILE]:
            api.block_schedule_catch_up(dag_id)
        yield api
    finally:
        print(recon("airflow", "down"))


def _parse(ts: str | None) -> datetime:
    assert ts, "a finished task instance has start and end dates"
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _lock_windows(api: AirflowAPI, runs: list[Run]) -> list[tuple[datetime, datetime, str]]:
    """Per run: from the end of wait_for_turn (lock taken) to the start of release_turn (lock given back); every
    other task of the run must lie inside it."""
    windows = []
    for run in runs:
        tis = {ti["task_id"]: ti for ti in api.task_instances(RECONCILE, run.run_id)}
        start, end = _parse(tis["wait_for_turn"]["end_date"]), _parse(tis["release_turn"]["start_date"])
        for task_id, ti in tis.items():
            if task_id not in ("wait_for_turn", "release_turn") and ti["state"] == "success":
                assert start <= _parse(ti["start_date"]) and _parse(ti["end_date"]) <= end, (run.run_id, task_id)
        windows.append((start, end, run.run_id))
    return sorted(windows)


def test_a_three_day_backfill_through_the_rest_api_changes_nothing_and_matches_the_ground_truth(
        running_airflow: AirflowAPI, five_days: Path) -> None:
    api = running_airflow
    before, latest = mart_checksums(), latest_processed_as_of_date()
    for dag_id in INGEST_DAGS:
        api.set_paused(dag_id, False)
        api.backfill(dag_id, BACKFILL_DAYS[0], BACKFILL_DAYS[-1], max_active_runs=1)
    for dag_id in INGEST_DAGS:
        runs = api.wait_for_runs(dag_id, 3, timeout=600, run_type="backfill")
        assert [r.state for r in runs] == ["success"] * 3, (dag_id, runs)
        assert sorted(r.logical_date[:10] for r in runs) == [str(d) for d in BACKFILL_DAYS]

    api.set_paused(RECONCILE, False)
    backfill = api.backfill(RECONCILE, BACKFILL_DAYS[0], BACKFILL_DAYS[-1], max_active_runs=3)
    assert backfill["max_active_runs"] == 3
    runs = api.wait_for_runs(RECONCILE, 3, timeout=900, run_type="backfill")
    assert [r.state for r in runs] == ["success"] * 3, runs
    assert sorted(api.xcom(RECONCILE, r.run_id, "wait_for_turn") for r in runs) == [str(d) for d in BACKFILL_DAYS]

    windows = _lock_windows(api, runs)
    for (_, end, first), (start, _, second) in zip(windows, windows[1:]):
        assert end <= start, f"{first} and {second} worked at the same time"
    assert mart_checksums() == before  # re-running earlier dates: not one row changed, the latest date still shows
    assert latest_processed_as_of_date() == latest
    for day in BACKFILL_DAYS:
        result = truth.compare(five_days, day)
        assert result.ok, f"as of {day}: " + "\n".join(result.differences[:20])


def test_clearing_a_days_ingest_runs_reconciles_it_by_the_asset_trigger_and_changes_nothing(
        running_airflow: AirflowAPI, five_days: Path) -> None:
    api = running_airflow
    before, latest = mart_checksums(), latest_processed_as_of_date()
    for dag_id in INGEST_DAGS:  # what the UI's Clear on each day-2 run does
        api.clear_run(dag_id, next(r for r in api.runs(dag_id) if r.logical_date[:10] == str(RERUN_DAY)).run_id)
    for dag_id in INGEST_DAGS:
        assert {r.state for r in api.wait_for_runs(dag_id, 3, timeout=600, run_type="backfill")} == {"success"}

    runs = api.wait_for_runs(RECONCILE, 1, timeout=900, run_type="asset_triggered")
    assert [r.state for r in runs] == ["success"], runs
    assert runs[0].logical_date is None  # Airflow 3: an asset-triggered run has no logical date ...
    # ... its events name the dates: every event since the last asset-triggered run counts (the backfill's days
    # 1-3 too, published while reconcile_daily was paused), and it takes the latest one every source published
    assert api.xcom(RECONCILE, runs[0].run_id, "wait_for_turn") == str(BACKFILL_DAYS[-1])
    assert mart_checksums() == before
    assert latest_processed_as_of_date() == latest
    assert truth.compare(five_days, RERUN_DAY).ok


def test_a_late_file_fails_its_ingest_naming_it_and_clearing_the_run_lands_it(running_airflow: AirflowAPI,
                                                                              five_days: Path) -> None:
    api = running_airflow
    reconcile_runs = len(api.runs(RECONCILE))
    run_id = api.trigger("ingest_stripe", LATE_DAY)
    runs = api.wait_for_runs("ingest_stripe", 1, timeout=600, run_type="manual")
    assert [r.state for r in runs] == ["failed"], runs
    states = {ti["task_id"]: ti["state"] for ti in api.task_instances("ingest_stripe", run_id)}
    assert states["wait_for_file"] == "failed" and states["land"] == "upstream_failed", states
    log = api.log("ingest_stripe", run_id, "wait_for_file")
    expected = f"{LATE_DAY + timedelta(days=1)} 06:00"  # stripe.yml: expected_by "D+1 06:00" (UTC)
    assert "stripe" in log and str(LATE_DAY) in log and expected in log, log[-3000:]
    assert _wait_status("stripe", LATE_DAY) == "missing"

    # the file comes: here the bytes of an earlier day's report, under the late day's prefix
    earlier = sorted((five_days / "s3").glob(f"inbound/stripe/{DAYS[-1]:%Y/%m/%d}/*"))[0]
    key = f"inbound/stripe/{LATE_DAY:%Y/%m/%d}/{earlier.name}"
    s3.client().upload_file(str(earlier), load_settings().bucket, key)
    api.clear_failed("ingest_stripe", run_id)
    runs = api.wait_for_runs("ingest_stripe", 1, timeout=600, run_type="manual")
    assert [r.state for r in runs] == ["success"], runs
    assert _wait_status("stripe", LATE_DAY) == "late"
    assert _manifest_status(key) == "duplicate"  # the same bytes were loaded before: not loaded twice
    assert len(api.runs(RECONCILE)) == reconcile_runs  # one source published: no reconcile


def _wait_status(source: str, day: date) -> str:
    raw = load_settings().raw_db
    with db.transaction() as cur:
        cur.execute(f"SELECT status FROM {raw}.ingest_runs WHERE source = %s AND business_date = %s AND step = 'wait' "
                    "ORDER BY run_id DESC LIMIT 1", (source, day))
        return cur.fetchone()[0]


def _manifest_status(key: str) -> str:
    raw = load_settings().raw_db
    with db.transaction() as cur:
        cur.execute(f"SELECT status FROM {raw}.file_manifest WHERE object_key = %s ORDER BY file_id DESC LIMIT 1",
                    (key,))
        return cur.fetchone()[0]


def test_the_ui_shows_the_dags_a_grid_and_the_backfill_dialog(running_airflow: AirflowAPI) -> None:
    """Headless Chromium logs in, opens the DAG list, ingest_stripe's grid (with the runs above) and reconcile_daily's
    backfill dialog; screenshots go to test-artifacts/screenshots/ (kept by CI as the test's artifacts)."""
    from selenium.webdriver.common.by import By

    from e2e_airflow import admin_password
    from e2e_browser import screenshot, start_browser, wait_until

    base = running_airflow.base_url
    driver = start_browser()

    def body() -> str:
        return driver.find_element(By.TAG_NAME, "body").text

    def click_text(text: str) -> None:
        driver.find_element(By.XPATH, f"//*[normalize-space(text())='{text}']").click()

    try:
        driver.get(f"{base}/")
        wait_until(lambda: "/auth/login" in driver.current_url and driver.find_element(By.NAME, "username"),
                   "the login form")
        screenshot(driver, "01-login")
        driver.find_element(By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(admin_password())
        click_text("Sign in")
        wait_until(lambda: "/auth/login" not in driver.current_url, "the home page after signing in")

        driver.get(f"{base}/dags")
        wait_until(lambda: all(dag_id in body() for dag_id in [*INGEST_DAGS, RECONCILE]), "all six DAGs")
        shot = screenshot(driver, "02-dag-list")
        assert shot.stat().st_size > 10_000

        driver.get(f"{base}/dags/ingest_stripe")
        # "Overview" is a translated tab label: present once the UI's texts have loaded, not only its keys
        wait_until(lambda: "Overview" in body() and all(t in body() for t in ("wait_for_file", "publish", "archive")),
                   "ingest_stripe's grid with its tasks")
        wait_until(lambda: "Latest Run" in body() and "Failed Runs" in body(), "the run summary")
        screenshot(driver, "03-grid-ingest_stripe")

        driver.get(f"{base}/dags/reconcile_daily")
        wait_until(lambda: "Overview" in body() and "wait_for_turn" in body(), "reconcile_daily's grid")
        screenshot(driver, "04-grid-reconcile_daily")
        next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Trigger").click()
        wait_until(lambda: "Single Run" in body(), "the trigger dialog")
        click_text("Run this Dag for a range of dates")
        wait_until(lambda: all(t in body() for t in ("Run Backfill - reconcile_daily", "Date Range",
                                                      "Reprocess Behavior", "Max Active Runs")),
                   "the backfill form")
        screenshot(driver, "05-backfill-dialog")
    finally:
        screenshot(driver, "99-last-page")
        driver.quit()
