"""The DAG folder parses without errors, has one ingest DAG per source YAML plus reconcile_daily, and is cheap
to parse (no database or S3 at parse time)."""
from __future__ import annotations

import time

import pytest

from conftest import REPO
from recon.sources import all_sources

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(REPO / "dags"))
    elapsed = time.perf_counter() - started
    print(f"\nDAG folder parse time: {elapsed:.2f}s for {len(bag.dags)} DAGs")
    return bag


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}, f"DAG import errors: {dagbag.import_errors}"


def test_one_ingest_dag_per_source_yaml(dagbag) -> None:
    yaml_names = {p.stem for p in (REPO / "dags" / "sources").glob("*.yml")}
    assert set(all_sources()) == yaml_names
    assert set(dagbag.dag_ids) == {f"ingest_{n}" for n in yaml_names} | {"reconcile_daily"}


def test_no_cycles_and_expected_shape(dagbag) -> None:
    for dag in dagbag.dags.values():
        dag.check_cycle()
        assert dag.catchup is False and dag.max_active_runs == 1
    ingest = dagbag.dags["ingest_stripe"]
    steps = [t.task_id for t in ingest.topological_sort()]
    assert steps[-5:] == ["discover", "land", "audit", "publish", "archive"], steps
    reconcile = dagbag.dags["reconcile_daily"]
    ids = set(reconcile.task_ids)
    assert {"check_sources", "gate_marts", "summary"} <= ids
    dbt_tasks = [t for t in ids if t.startswith("dbt.")]
    assert any("fct_transaction_reconciliation" in t for t in dbt_tasks), dbt_tasks


def test_reconcile_alerts_are_wired(dagbag) -> None:
    from recon.alerts import on_gate_failure

    def callbacks(task) -> list:
        value = task.on_failure_callback
        return list(value) if isinstance(value, (list, tuple)) else [value]

    reconcile = dagbag.dags["reconcile_daily"]
    alert = reconcile.get_task("alert_breaks")
    assert alert.upstream_task_ids == {"summary"} and alert.downstream_task_ids == {"release_turn"}
    assert alert.trigger_rule == "all_success"  # only after a successful run
    assert on_gate_failure in callbacks(reconcile.get_task("gate_marts"))
    # the tasks that run dbt alert (the build of every model, the cross-model tests); the per-model tasks only
    # report the build's result (a failed build leaves them upstream_failed: one alert, not one per model)
    for task_id in ("dbt.dbt_producer_watcher", "dbt_cross_model_tests"):
        assert on_gate_failure in callbacks(reconcile.get_task(task_id)), task_id


def test_one_dbt_build_per_run_and_each_model_reports_after_it(dagbag) -> None:
    """Watcher mode: one `dbt build` (the producer) through the wrapper that fixes its flags for dbt 1.7; every
    model task is downstream of it, so a sequential executor (dag.test) can never wait on a producer that has not
    run; the singular cross-model tests are not part of the build."""
    from recon import paths

    reconcile = dagbag.dags["reconcile_daily"]
    producer = reconcile.get_task("dbt.dbt_producer_watcher")
    assert producer.dbt_executable_path == str(paths.dbt_cosmos_executable())
    assert producer.env["RECON_DBT_REAL_EXECUTABLE"] == str(paths.dbt_executable())
    assert set(producer.exclude.split()) == {"tag:setup_only", "tag:cross_model"}
    models = [t for t in reconcile.tasks if t.task_id.startswith("dbt.") and t is not producer]
    assert len(models) > 20
    assert all(producer.task_id in t.upstream_task_ids for t in models), [t.task_id for t in models]
    assert all(t.trigger_rule == "all_success" for t in models if not t.task_id.endswith("_producer_watcher_done"))


def test_parsing_touches_no_service(monkeypatch) -> None:
    # Point every connection at a closed port: parsing must still succeed, so it cannot be connecting.
    from airflow.dag_processing.dagbag import DagBag

    for var in ("AIRFLOW_CONN_RECON_WAREHOUSE", "AIRFLOW_CONN_RECON_PRODUCT_DB"):
        monkeypatch.setenv(var, "mysql://nobody:x@127.0.0.1:9/none")
    monkeypatch.setenv("AIRFLOW_CONN_RECON_S3", "aws://a:b@/?endpoint_url=http%3A%2F%2F127.0.0.1%3A9")
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {} and len(bag.dags) >= 3


def test_reconcile_runs_daily_and_on_assets_one_at_a_time(dagbag) -> None:
    """Scheduled (backfillable) + asset-triggered; every task works under the reconcile lock of wait_for_turn."""
    from airflow.sdk import AssetAll, AssetOrTimeSchedule

    from recon.orchestration.common import staging_asset
    from recon.orchestration.reconcile_dag import RECONCILE_CRON
    from recon.sources import all_sources

    reconcile = dagbag.dags["reconcile_daily"]
    timetable = reconcile.timetable
    assert isinstance(timetable, AssetOrTimeSchedule)
    assert timetable.timetable.expression == RECONCILE_CRON == "0 7 * * *"
    assert isinstance(timetable.asset_condition, AssetAll)
    assert set(timetable.asset_condition.objects) == {staging_asset(name) for name in all_sources()}
    turn, release = reconcile.get_task("wait_for_turn"), reconcile.get_task("release_turn")
    assert turn.is_setup and not turn.upstream_task_ids and turn.mode == "reschedule"
    assert release.is_teardown and turn.task_id in release.upstream_task_ids
    others = set(reconcile.task_ids) - {"wait_for_turn", "release_turn"}
    assert others <= turn.get_flat_relative_ids(upstream=False)
    assert others <= release.get_flat_relative_ids(upstream=True)
    # the dbt models read the date wait_for_turn chose (asset-triggered runs have no logical date)
    model = reconcile.get_task("dbt.dbt_producer_watcher")
    assert model.vars == {"as_of_date": "{{ ti.xcom_pull(task_ids='wait_for_turn') }}"}


def test_ingest_publish_emits_its_staging_asset(dagbag) -> None:
    from recon.orchestration.common import staging_asset

    publish = dagbag.dags["ingest_stripe"].get_task("publish")
    assert staging_asset("stripe") in publish.outlets
