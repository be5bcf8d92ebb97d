"""Ops on a running Airflow (`recon airflow up`: api-server, scheduler, dag-processor, triggerer; LocalExecutor), driven
through its REST API as an ops person's tools would:

- a 3-day backfill of the five ingest DAGs, then of reconcile_daily (POST /api/v2/backfills), and the marts equal
  the generator's ground truth for each of the 3 as-of dates;
- the reconcile backfill may run its 3 days at once (max_active_runs=3): the reconcile lock lets one work at a
  time, which the task instances' start and end times show;
- day 4: Stripe's file is late, ingest_stripe fails naming source, date and expected time; once the file lands and
  the failed run is cleared (what the UI's Clear does), every source has published day 4 and reconcile_daily runs
  by itself (the staging assets) for that date.

The browser test (test_airflow_ui.py) looks at the same Airflow afterwards."""
from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from recon import db, generator, s3, seed, truth
from recon.reconcile import latest_processed_as_of_date
from recon.settings import load_settings
from recon.sources import all_sources

from e2e_airflow import HOME, AirflowAPI, Run, recon
from e2e_data import START

pytestmark = pytest.mark.e2e

BACKFILL_DAYS = [START + timedelta(days=i) for i in range(3)]
ASSET_DAY = START + timedelta(days=3)
INGEST_DAGS = [f"ingest_{name}" for name in sorted(all_sources())]
RECONCILE = "reconcile_daily"


@pytest.fixture(scope="module")
def running_airflow(stack: None) -> AirflowAPI:
    """An empty test namespace and a running Airflow on it, stopped (`recon airflow down`) after the module."""
    from recon.stack import manager

    manager.reset()
    shutil.rmtree(HOME, ignore_errors=True)  # a fresh Airflow metadata database: no runs from an earlier session
    print(recon("airflow", "up"))
    try:
        api = AirflowAPI()
        api.wait_for_dags([*INGEST_DAGS, RECONCILE])
        yield api
    finally:
        print(recon("airflow", "down"))


@pytest.fixture(scope="module")
def generated(running_airflow: AirflowAPI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("generated_backfill")
    # No voids: the backfill extracts the ledger from the product database as it is now, and a void made after D
    # would already show as of D (docs/operations.md, "Backfilling"); the files carry their own history.
    generator.generate(data_dir, days=4, per_day=40, seed=11, start=START, rates={"voided": 0.0})
    for day in BACKFILL_DAYS:
        seed.seed_day(data_dir, day)
    return data_dir


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


def test_a_three_day_backfill_through_the_rest_api_matches_the_ground_truth(running_airflow: AirflowAPI,
                                                                           generated: Path) -> None:
    api = running_airflow
    for dag_id in [*INGEST_DAGS, RECONCILE]:
        api.block_schedule_catch_up(dag_id)
    for dag_id in INGEST_DAGS:
        api.set_paused(dag_id, False)
        api.backfill(dag_id, BACKFILL_DAYS[0], BACKFILL_DAYS[-1], max_active_runs=1)
    for dag_id in INGEST_DAGS:
        runs = api.wait_for_runs(dag_id, 3, timeout=600, run_type="backfill")
        assert [r.state for r in runs] == ["success"] * 3, (dag_id, runs)
        assert sorted(r.logical_date[:10] for r in runs) == [str(d) for d in BACKFILL_DAYS]

    api.set_paused(RECONCILE, False)
    backfill = api.backfill(RECONCILE, BACKFILL_DAYS[0], BACKFILL_DAYS[-1], max_active_runs=3)
    runs = api.wait_for_runs(RECONCILE, 3, timeout=900, run_type="backfill")
    assert [r.state for r in runs] == ["success"] * 3, runs
    assert sorted(api.xcom(RECONCILE, r.run_id, "wait_for_turn") for r in runs) == [str(d) for d in BACKFILL_DAYS]
    assert backfill["max_active_runs"] == 3

    for day in BACKFILL_DAYS:
        result = truth.compare(generated, day)
        assert result.ok, f"as of {day}: " + "\n".join(result.differences[:20])
        assert result.actual_rows > 0 and result.actual_payout_rows > 0
    assert latest_processed_as_of_date() == BACKFILL_DAYS[-1]

    windows = _lock_windows(api, runs)
    for (_, end, first), (start, _, second) in zip(windows, windows[1:]):
        assert end <= start, f"{first} and {second} worked at the same time"


def _seed_all_but(data_dir: Path, day: date, late_source: str) -> list[str]:
    """The day's ledger rows and every file of the day except the late source's."""
    settings, client = load_settings(), s3.client()
    seed.seed_ledger(data_dir, day)
    held = []
    for path in sorted((data_dir / "s3").glob(f"inbound/*/{day:%Y/%m/%d}/*")):
        key = path.relative_to(data_dir / "s3").as_posix()
        if key.startswith(f"inbound/{late_source}/"):
            held.append(key)
        else:
            client.upload_file(str(path), settings.bucket, key)
    assert held, f"the generator wrote no {late_source} file for {day}"
    return held


def test_a_late_file_fails_its_ingest_then_clearing_it_reconciles_the_day_by_the_asset_trigger(
        running_airflow: AirflowAPI, generated: Path) -> None:
    """Day 4: Stripe's file is late. ingest_stripe fails (its expected time is long past) with a message naming the
    source, the date and the time, and no reconcile starts (not every source has published). The file lands, ops
    clears the failed run (the UI's Clear, here by REST): Stripe publishes, which completes the assets, and
    reconcile_daily runs by itself for day 4; the marts equal the ground truth."""
    api = running_airflow
    held = _seed_all_but(generated, ASSET_DAY, "stripe")
    for dag_id in INGEST_DAGS:
        api.trigger(dag_id, ASSET_DAY)
    for dag_id in INGEST_DAGS:
        runs = api.wait_for_runs(dag_id, 1, timeout=600, run_type="manual")
        assert [r.state for r in runs] == ["failed" if dag_id == "ingest_stripe" else "success"], (dag_id, runs)
    failed = api.runs("ingest_stripe")[-1]
    states = {ti["task_id"]: ti["state"] for ti in api.task_instances("ingest_stripe", failed.run_id)}
    assert states["wait_for_file"] == "failed" and states["land"] == "upstream_failed", states
    log = api.log("ingest_stripe", failed.run_id, "wait_for_file")
    assert "stripe" in log and str(ASSET_DAY) in log and "2026-01-09 06:00" in log, log[-3000:]
    assert api.runs(RECONCILE)[-1].run_type == "backfill"  # nothing reconciled day 4 without Stripe

    client, bucket = s3.client(), load_settings().bucket
    for key in held:  # the late file arrives ...
        client.upload_file(str(generated / "s3" / key), bucket, key)
    api.clear_failed("ingest_stripe", failed.run_id)  # ... and ops clears the failed day
    runs = api.wait_for_runs("ingest_stripe", 1, timeout=600, run_type="manual")
    assert [r.state for r in runs] == ["success"], runs

    runs = api.wait_for_runs(RECONCILE, 1, timeout=900, run_type="asset_triggered")
    assert [r.state for r in runs] == ["success"], runs
    assert runs[0].logical_date is None  # Airflow 3: an asset-triggered run has no logical date ...
    assert api.xcom(RECONCILE, runs[0].run_id, "wait_for_turn") == str(ASSET_DAY)  # ... its events name the date
    result = truth.compare(generated, ASSET_DAY)
    assert result.ok, "\n".join(result.differences[:20])
    assert latest_processed_as_of_date() == ASSET_DAY
    assert _arrival(ASSET_DAY, "stripe") == ("published", "late")
    # the earlier dates are untouched, and no other reconcile run was started
    assert truth.compare(generated, BACKFILL_DAYS[-1]).ok
    assert len(api.runs(RECONCILE)) == len(BACKFILL_DAYS) + 1


def _arrival(day: date, source: str) -> tuple[str, str]:
    marts = load_settings().marts_db
    with db.transaction() as cur:
        cur.execute(f"SELECT status, arrival FROM {marts}.rpt_source_arrivals WHERE as_of_date = %s AND source = %s",
                    (day, source))
        return cur.fetchone()


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
