"""Run figures and GX Data Docs of a real ingest run (dag.test of ingest_stripe) on the private MariaDB and the moto
S3 server: one row per stage in pipeline_runs with the figures of its files (one refused by its parser, one failing
the GX landing suite), the Data Docs page of the audit, the analysts' view; and task events of a group folded into
one row on the warehouse, also when two tasks finish at once."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

import pymysql
import pytest
from fastapi.testclient import TestClient

from conftest import REPO
from recon import db, s3
from recon.gates import data_docs
from recon.ops import docs_app, listener
from recon.settings import load_settings
from recon.stack.config import admin_login
from recon.sources import get_source
from recon.stack.config import load_stack_config

pytestmark = pytest.mark.integration

DAY = date(2026, 1, 5)
HEADER = ("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,available_on_utc,"
          "currency,gross,fee,net,reporting_category,source_id,description\n")
def _line(txn: str, gross: str = "10.00", source_id: str = "ch_a") -> str:
    return f"po_1,2026-01-07 00:00:00,{txn},2026-01-05 10:00:00,,usd,{gross},0.00,{gross},charge,{source_id},x\n"


BODIES = {  # good.csv loads (3 rows); unparsable.csv is refused by the parser at land ('gross' is not an
    # amount); duplicates.csv (2 rows) parses but fails the GX suite at audit (balance_transaction_id not unique)
    "good.csv": HEADER + _line("txn_1") + _line("txn_2", source_id="ch_b") + _line("txn_3", source_id="ch_c"),
    "unparsable.csv": HEADER + _line("txn_4", gross="12.5O"),
    "duplicates.csv": HEADER + _line("txn_5") + _line("txn_5", source_id="ch_e"),
}


def _rows(sql: str, *params: Any) -> list[dict[str, Any]]:
    with db.transaction(login=admin_login()) as cur:
        cur.execute(sql.format(raw=load_settings().raw_db, marts=load_settings().marts_db), params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


@dataclass
class Ingested:
    dagrun: Any
    stages: dict[str, dict[str, Any]]  # pipeline_runs rows of the run, by stage
    docs_dir: Path


@pytest.fixture(scope="module")
def ingested(stack: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    """ingest_stripe for DAY through Airflow (dag.test), its Data Docs in a temporary directory."""
    from airflow.dag_processing.dagbag import DagBag

    from recon.stack import manager

    docs_dir = tmp_path_factory.mktemp("gx-docs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECON_GX_DOCS_DIR", str(docs_dir))
        manager.reset()
        settings = load_settings()
        for name, body in BODIES.items():
            s3.client().put_object(Bucket=settings.bucket, Key=f"inbound/stripe/{DAY:%Y/%m/%d}/{name}",
                                   Body=body.encode())
        dag = DagBag(dag_folder=str(REPO / "dags" / "ingest_dags.py")).dags["ingest_stripe"]
        dagrun = dag.test(logical_date=datetime(DAY.year, DAY.month, DAY.day, tzinfo=timezone.utc))
        assert "success" in str(dagrun.state)
        rows = _rows("SELECT * FROM {raw}.pipeline_runs WHERE dag_id = 'ingest_stripe' AND run_id = %s",
                     dagrun.run_id)
        yield Ingested(dagrun, {row["stage"]: row for row in rows}, docs_dir)


def test_each_stage_has_its_figures(ingested: Ingested) -> None:
    dagrun, stages = ingested.dagrun, ingested.stages
    expectations_per_file = len(get_source("stripe").expectations) + 1  # + the row count check
    figures = ("files", "rows_read", "rows_landed", "rows_published", "files_quarantined", "rows_quarantined",
               "expectations_evaluated", "expectations_failed")
    expected = {  # a figure belongs to one stage only: NULL elsewhere
        "discover": (3, None, None, None, None, None, None, None),
        # rows read counts the unparsable file's record too; it is quarantined whole, so it lands nothing
        "land": (3, 3 + 2 + 1, 3 + 2, None, 1, None, None, None),
        "audit": (2, None, None, None, 1, 2, 2 * expectations_per_file, 1),  # duplicates.csv: 1 expectation
        "publish": (None, None, None, 3, None, None, None, None),
        "archive": (3, None, None, None, None, None, None, None),
    }
    for stage, values in expected.items():
        row = stages[stage]
        assert tuple(row[f] for f in figures) == values, f"{stage}: {row}"
        assert (row["status"], row["source"], row["business_date"], row["try_number"]) == ("success", "stripe", DAY, 1)
        assert row["run_id"] == dagrun.run_id and row["seconds"] > 0
        assert row["started_at"] < row["finished_at"]
        assert abs((row["finished_at"] - row["started_at"]).total_seconds() - row["seconds"]) < 0.01
    assert len({stages[s]["load_id"] for s in expected}) == 1  # one load id, as in file_manifest
    assert stages["discover"]["started_at"] < stages["land"]["started_at"] < stages["archive"]["started_at"]


def test_every_task_of_the_run_has_its_stage(ingested: Ingested) -> None:
    """The steps record themselves; any other task of the DAG (a sensor) is timed by the listener."""
    dagrun, stages = ingested.dagrun, ingested.stages
    task_ids = {ti.task_id for ti in dagrun.get_task_instances()}
    assert set(stages) == task_ids
    for stage in task_ids - {"discover", "land", "audit", "publish", "archive"}:
        assert stages[stage]["status"] == "success" and stages[stage]["tasks"] == 1 and stages[stage]["seconds"] > 0


def test_the_figures_agree_with_the_file_manifest(ingested: Ingested) -> None:
    stages = ingested.stages
    manifest = {r["file_name"]: r for r in _rows(
        "SELECT file_name, status, rows_read, rows_quarantined, load_id FROM {raw}.file_manifest "
        "WHERE source = 'stripe' AND business_date = %s", DAY)}
    assert {name: r["status"] for name, r in manifest.items()} == {
        "good.csv": "loaded", "unparsable.csv": "quarantined", "duplicates.csv": "quarantined"}
    assert stages["audit"]["rows_quarantined"] == manifest["duplicates.csv"]["rows_quarantined"] == 2
    assert stages["publish"]["rows_published"] == manifest["good.csv"]["rows_read"]
    assert {r["load_id"] for r in manifest.values()} == {stages["land"]["load_id"]}


def _page_file(url: str) -> Path:
    path = unquote(urlsplit(url).path)
    prefix = f"{data_docs.SERVE_PREFIX}/site/"
    assert path.startswith(prefix), url
    return data_docs.site_dir() / path[len(prefix):]


def test_the_audit_links_its_data_docs_page(ingested: Ingested, monkeypatch: pytest.MonkeyPatch) -> None:
    dagrun, stages = ingested.dagrun, ingested.stages
    url = stages["audit"]["data_docs_url"]
    assert url.startswith(f"{data_docs.airflow_base_url()}{data_docs.SERVE_PREFIX}/site/validations/ingest_stripe/")
    monkeypatch.setenv("RECON_GX_DOCS_DIR", str(ingested.docs_dir))
    page = _page_file(url)
    html = page.read_text()
    assert "ingest_stripe" in html and "balance_transaction_id" in html  # its suite and the failed check
    assert "duplicates.csv" in page.name  # the failed file's page comes first
    assert "ingest_stripe" in (data_docs.site_dir() / "index.html").read_text()
    app = docs_app.create_app()
    app.dependency_overrides[docs_app.require_airflow_user] = lambda: None
    run_page = TestClient(app).get(f"/runs/ingest_stripe/{dagrun.run_id}").text
    assert run_page.count("<li>") == 2  # both audited files of this run
    assert "duplicates.csv" in run_page and "good.csv" in run_page


def test_analysts_read_the_view_but_not_the_raw_table(ingested: Ingested) -> None:
    dagrun, stages = ingested.dagrun, ingested.stages
    cfg, settings = load_stack_config(), load_settings()
    conn = pymysql.connect(host=cfg.db_host, port=cfg.db_port, user=settings.analyst_user,
                           password=cfg.analyst_password, database=settings.marts_db, connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT stage, rows_landed, files_quarantined FROM rpt_pipeline_runs WHERE run_id = %s",
                        (dagrun.run_id,))
            seen = {row[0]: row[1:] for row in cur.fetchall()}
            assert set(seen) == set(stages) and seen["land"] == (5, 1)
            with pytest.raises(pymysql.err.OperationalError) as denied:
                cur.execute(f"SELECT * FROM {settings.raw_db}.pipeline_runs")
            assert denied.value.args[0] == 1142  # SELECT command denied
    finally:
        conn.close()


def _ti(task_id: str, run_id: str, start: datetime, end: datetime, state: str = "success") -> SimpleNamespace:
    dag = SimpleNamespace(tags=["recon"], task_ids=["check_sources", "dbt.a_run", "dbt.b_run", "dbt.c_run"])
    return SimpleNamespace(task=SimpleNamespace(dag=dag), dag_id="reconcile_daily", run_id=run_id, task_id=task_id,
                           try_number=1, map_index=-1, start_date=start, end_date=end, state=state,
                           get_template_context=lambda: {"logical_date": datetime(2026, 1, 7)})


def test_task_events_of_a_group_fold_into_one_row(stack: None) -> None:
    """What the listener does on a real warehouse: three dbt model tasks, two of them ending at the same time."""
    run_id = f"manual__listener_{datetime.now().timestamp()}"
    t0 = datetime(2026, 1, 8, 7, 0, tzinfo=timezone.utc)
    tasks = {name: _ti(f"dbt.{name}_run", run_id, t0 + timedelta(seconds=i), t0 + timedelta(seconds=10 + i))
             for i, name in enumerate("abc")}
    for ti in tasks.values():
        listener.on_task_instance_running(None, ti)
    listener.on_task_instance_success(None, tasks["a"])
    finishing = [threading.Thread(target=listener.on_task_instance_success, args=(None, tasks[n])) for n in "bc"]
    for thread in finishing:
        thread.start()
    for thread in finishing:
        thread.join()
    row = _rows("SELECT * FROM {raw}.pipeline_runs WHERE dag_id = 'reconcile_daily' AND run_id = %s", run_id)
    assert len(row) == 1
    assert (row[0]["stage"], row[0]["status"], row[0]["tasks"], row[0]["seconds"], row[0]["business_date"]) == (
        "dbt", "success", 3, 12.0, date(2026, 1, 7))
    failing = _ti("check_sources", run_id, t0, t0 + timedelta(seconds=1), state="failed")
    listener.on_task_instance_running(None, failing)
    listener.on_task_instance_failed(None, failing, RuntimeError("source_settings: lost connection"))
    check = _rows("SELECT status, detail FROM {raw}.pipeline_runs WHERE run_id = %s AND stage = 'check_sources'",
                  run_id)
    assert check == [{"status": "failed", "detail": "check_sources: source_settings: lost connection"}]
