"""`reconcile_daily`: take the reconcile lock -> check which sources landed -> dbt through astronomer-cosmos (both
legs: ledger <-> processor, processor payout <-> bank credit) -> GX gate on the marts -> summary -> alert on new P1
breaks (a failed gate or dbt task alerts from its on_failure_callback; recon.alerts) -> give the lock back.
Cosmos renders the dbt task group from the precompiled manifest (no dbt call at parse time) and runs each model with
the dbt executable of its own virtualenv."""
from __future__ import annotations

import os
from datetime import date
from typing import Any

from airflow.sdk import DAG, AssetAll, AssetOrTimeSchedule, PokeReturnValue, task

from recon import paths
from recon.alerts import on_gate_failure
from recon.orchestration.common import (
    DEFAULT_ARGS,
    TURN_TASK_ID,
    daily_timetable,
    run_business_date,
    staging_asset,
    start_datetime,
)
from recon.sources import all_sources

DOC = """
### Reconcile one business date
**When it runs**: daily at 07:00 UTC for the business date D that ended at midnight (so it can be backfilled, and it
runs after every source's expected arrival time), and also as soon as every source has published a date (the
`recon_staging_<source>` assets): such a run reconciles the latest date named by its asset events that every source
has published, or skips. Only one reconcile run works at a time, whatever started it: **wait_for_turn** (a
setup task, rescheduling itself while another run holds the lock) takes the lock in `reconcile_lock`, and
**release_turn** (its teardown, which runs even after a failure) gives it back; `recon reconcile-lock` shows it.

For the run's date D: **check_sources** records which sources published data for D and
copies the source YAMLs' tolerances into `source_settings`,
**dbt** builds the staging, intermediate and mart models with `as_of_date = D` (each model with its tests),
**dbt_cross_model_tests** runs the singular tests that read several models,
**gate_marts** runs the Great Expectations gate on the marts (every posted ledger entry exactly once; per
currency the ledger total equals the sum over statuses; per payout the expected amount equals the sum of its
lines; every published row reaches staging), **summary** logs the counts per status of both legs
(transactions: ledger <-> processor; payouts: processor payout <-> bank credit),
**alert_breaks** posts the P1 breaks this run opened (counts, amounts per currency, the top 5, a link to this run)
to the webhook of the Airflow connection `recon_alerts_webhook`, if there is one; it never fails the run.
When a dbt task (a model's build or tests) or **gate_marts** fails, its `on_failure_callback` posts the failure to
the same webhook. Without the connection, alerts are off (one log line).
Re-running a date gives the same answer; the marts keep showing the latest date processed.
"""


# the date wait_for_turn chose: the logical date, or for an asset-triggered run (which has none) the date its
# asset events carry
_DBT_VARS = {"as_of_date": "{{ ti.xcom_pull(task_ids='%s') }}" % TURN_TASK_ID}
RECONCILE_CRON = "0 7 * * *"  # the run for D starts at D+1 07:00 UTC, after the sources' expected arrival times
# how often a waiting run looks at the lock again (each look is a short task try; the e2e tests use 10)
LOCK_POKE_SECONDS = int(os.environ.get("RECON_RECONCILE_LOCK_POKE_SECONDS", "30"))
LOCK_TIMEOUT_SECONDS = 6 * 3600


def _profile() -> Any:
    from cosmos import ProfileConfig

    return ProfileConfig(profile_name="recon", target_name="warehouse",
                         profiles_yml_filepath=paths.dbt_profiles_dir() / "profiles.yml")


def _dbt_group() -> Any:
    """Cosmos's watcher mode: one `dbt build` (the producer task) builds every model with the tests that read only
    it ("cautious" indirect selection; the singular tests that read several models wait for
    `dbt_cross_model_tests`): one dbt start-up per run instead of one per model (about 4 s each). Then one light
    task per model (and one per model's tests) shows that model's result, read from the producer's XCom."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    project = paths.dbt_project_dir()
    group = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=project, manifest_path=project / "target" / "manifest.json"),
        profile_config=_profile(),
        # the dbt of its own virtualenv, through a wrapper that puts --log-format where dbt 1.7 accepts it
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.WATCHER,
                                         invocation_mode=InvocationMode.SUBPROCESS,
                                         dbt_executable_path=str(paths.dbt_cosmos_executable())),
        # setup_only: views that depend on no run (rpt_pipeline_runs), made by `recon stack up`
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.AFTER_EACH,
                                   exclude=["tag:setup_only", "tag:cross_model"]),
        operator_args={"vars": _DBT_VARS, "install_deps": False, "retries": 0,
                       "env": {"RECON_DBT_REAL_EXECUTABLE": str(paths.dbt_executable())},
                       "dbt_cmd_flags": ["--indirect-selection", "cautious"]},
    )
    _report_after_the_build(group)
    return group


def _report_after_the_build(group: Any) -> None:
    """Cosmos starts the per-model tasks alongside the producer, as deferred sensors waiting for its XCom. A
    sequential executor (`dag.test`, which `recon run` and the tests use) may pick a sensor first and wait forever
    for a producer that never starts; so each reports after the build instead. A failed build leaves them
    upstream_failed (cosmos would otherwise re-run each model alone, one dbt start-up apiece, to fail again);
    the producer's log names the model or test that failed, and only the producer alerts (one alert per failed
    build, not one per model)."""
    producer = next(t for t in group if t.task_id.endswith(".dbt_producer_watcher"))
    kept = producer.on_failure_callback  # cosmos's own (it saves the build's progress for a retry)
    producer.on_failure_callback = [*(kept if isinstance(kept, list) else [kept] if kept else []), on_gate_failure]
    for task in group:
        if task is not producer and producer.task_id not in task.upstream_task_ids:
            producer >> task


def _cross_model_tests() -> Any:
    """The singular tests that read several models (conservation, history reproduces the run, fct is latest)."""
    from cosmos.operators.local import DbtTestLocalOperator

    return DbtTestLocalOperator(
        task_id="dbt_cross_model_tests",
        project_dir=str(paths.dbt_project_dir()),
        profile_config=_profile(),
        dbt_executable_path=str(paths.dbt_executable()),
        select=["test_type:singular"],
        vars=_DBT_VARS,
        install_deps=False,
        retries=0,
        on_failure_callback=on_gate_failure,
    )


def reconcile_schedule() -> AssetOrTimeSchedule:
    """Daily (backfillable), or as soon as every declared source has published (one asset per source)."""
    return AssetOrTimeSchedule(timetable=daily_timetable(RECONCILE_CRON),
                               assets=AssetAll(*(staging_asset(name) for name in sorted(all_sources()))))


def _holder(context: Any) -> str:
    return f"{context['dag'].dag_id}/{context['run_id']}"


def build_reconcile_dag(start: date = date(2026, 1, 1)) -> DAG:
    with DAG(
        dag_id="reconcile_daily",
        description="Reconcile ledger, processors and banks for one business date (dbt + GX gate)",
        schedule=reconcile_schedule(),
        start_date=start_datetime(start),
        catchup=False,
        max_active_runs=1,  # scheduled and asset-triggered runs one at a time; backfills: wait_for_turn's lock
        default_args=DEFAULT_ARGS,
        tags=["recon", "reconcile"],
        doc_md=DOC,
    ) as dag:

        @task.sensor(task_id=TURN_TASK_ID, poke_interval=LOCK_POKE_SECONDS, timeout=LOCK_TIMEOUT_SECONDS,
                     mode="reschedule", retries=0)  # reschedule: a waiting run holds no worker slot
        def wait_for_turn(**context: Any) -> PokeReturnValue:
            from airflow.sdk.exceptions import AirflowSkipException

            from recon import reconcile_lock
            from recon.orchestration.run_date import reconcile_date

            day = reconcile_date(context)
            if day is None:
                raise AirflowSkipException("no business date that every source has published: nothing to reconcile")
            previous = reconcile_lock.acquire(_holder(context), day)
            if previous is None:
                lease = reconcile_lock.current()
                print(f"waiting: the reconcile lock is held by {lease.holder} (reconciling {lease.business_date} "
                      f"since {lease.acquired_at} UTC); retrying every {LOCK_POKE_SECONDS}s")
                return PokeReturnValue(is_done=False)
            print(f"reconcile lock taken for {day} by {_holder(context)}")
            return PokeReturnValue(is_done=True, xcom_value=day.isoformat())

        @task(task_id="release_turn", retries=3)
        def release_turn(**context: Any) -> bool:
            from recon import reconcile_lock

            released = reconcile_lock.release(_holder(context))
            print("reconcile lock released" if released else "this run did not hold the reconcile lock")
            return released

        @task(task_id="check_sources")
        def check_sources(**context: Any) -> dict[str, str]:
            from recon.reconcile import source_status
            from recon.warehouse import mirror_source_settings

            mirror_source_settings()  # dbt reads the tolerances as the YAMLs say them now
            return source_status(run_business_date(context))

        @task(task_id="gate_marts", retries=0, on_failure_callback=on_gate_failure)
        def gate_marts(**context: Any) -> dict[str, Any]:
            from recon.gates.marts import gate_marts as run_gate

            day = run_business_date(context)
            result = run_gate(day)
            if not result.success:
                raise RuntimeError(f"mart gate failed for {day}: {result.summary()}")
            return {"evaluated": result.evaluated}

        @task(task_id="summary")
        def summary(**context: Any) -> str:
            from recon.summary import arrival_rows, format_arrivals, format_summary, summary_rows

            day = run_business_date(context)
            # the late or missing sources first: their items are pending, not matched
            text = "\n".join(part for part in (format_arrivals(day, arrival_rows(day)),
                                               format_summary(*summary_rows(day))) if part)
            print(text)
            return text

        @task(task_id="alert_breaks", retries=0)  # posting retries by itself; it never fails the run
        def alert_breaks(**context: Any) -> str:
            from recon.alerts import post_breaks_alert, run_url

            return post_breaks_alert(run_business_date(context), run_url(context))

        turn = wait_for_turn()
        last = alert_breaks()
        turn >> check_sources() >> _dbt_group() >> _cross_model_tests() >> gate_marts() >> summary() >> last
        last >> release_turn().as_teardown(setups=turn)  # runs after a failure too; ignored for the run's state
    return dag
