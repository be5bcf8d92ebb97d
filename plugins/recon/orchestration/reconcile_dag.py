"""`reconcile_daily`: check which sources landed -> dbt through astronomer-cosmos (both legs: ledger <-> processor,
processor payout <-> bank credit) -> GX gate on the marts -> summary -> alert on new P1 breaks (a failed gate or dbt
task alerts from its on_failure_callback; recon.alerts). Cosmos renders the dbt task group from the precompiled
manifest (no dbt call at parse time) and runs each model with the dbt executable of its own virtualenv."""
from __future__ import annotations

from datetime import date
from typing import Any

from airflow.sdk import DAG, task

from recon import paths
from recon.alerts import on_gate_failure
from recon.orchestration.common import DEFAULT_ARGS, business_date, daily_timetable, start_datetime

DOC = """
### Reconcile one business date
For the run's date D (its logical date): **check_sources** records which sources published data for D and
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


_DBT_VARS = {"as_of_date": "{{ ds }}"}


def _profile() -> Any:
    from cosmos import ProfileConfig

    return ProfileConfig(profile_name="recon", target_name="warehouse",
                         profiles_yml_filepath=paths.dbt_profiles_dir() / "profiles.yml")


def _dbt_group() -> Any:
    """One task per model, each a `dbt build` of the model and the tests that read only it ("cautious"
    indirect selection: a test that reads several models waits for `dbt_cross_model_tests`)."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProjectConfig, RenderConfig
    from cosmos.constants import LoadMode, TestBehavior

    project = paths.dbt_project_dir()
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=project, manifest_path=project / "target" / "manifest.json"),
        profile_config=_profile(),
        execution_config=ExecutionConfig(dbt_executable_path=str(paths.dbt_executable())),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD),
        operator_args={"vars": _DBT_VARS, "install_deps": False, "retries": 0,
                       "dbt_cmd_flags": ["--indirect-selection", "cautious"],
                       "on_failure_callback": on_gate_failure},  # a model's build or tests failed: alert
    )


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


def build_reconcile_dag(start: date = date(2026, 1, 1)) -> DAG:
    with DAG(
        dag_id="reconcile_daily",
        description="Reconcile ledger, processors and banks for one business date (dbt + GX gate)",
        schedule=daily_timetable("0 0 * * *"),
        start_date=start_datetime(start),
        catchup=False,
        max_active_runs=1,  # two runs never rebuild the marts at once
        default_args=DEFAULT_ARGS,
        tags=["recon", "reconcile"],
        doc_md=DOC,
    ) as dag:

        @task(task_id="check_sources")
        def check_sources(**context: Any) -> dict[str, str]:
            from recon.reconcile import source_status
            from recon.warehouse import mirror_source_settings

            mirror_source_settings()  # dbt reads the tolerances as the YAMLs say them now
            return source_status(business_date(context))

        @task(task_id="gate_marts", retries=0, on_failure_callback=on_gate_failure)
        def gate_marts(**context: Any) -> dict[str, Any]:
            from recon.gates.marts import gate_marts as run_gate

            result = run_gate(business_date(context))
            if not result.success:
                raise RuntimeError(f"mart gate failed for {business_date(context)}: {result.summary()}")
            return {"evaluated": result.evaluated}

        @task(task_id="summary")
        def summary(**context: Any) -> str:
            from recon.summary import format_summary, summary_rows

            text = format_summary(*summary_rows(business_date(context)))
            print(text)
            return text

        @task(task_id="alert_breaks", retries=0)  # posting retries by itself; it never fails the run
        def alert_breaks(**context: Any) -> str:
            from recon.alerts import post_breaks_alert, run_url

            return post_breaks_alert(business_date(context), run_url(context))

        check_sources() >> _dbt_group() >> _cross_model_tests() >> gate_marts() >> summary() >> alert_breaks()
    return dag
