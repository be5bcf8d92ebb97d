"""A scaffolded source on the local stack: its dbt models compile in a copy of the dbt project (the raw table
declared in the model's own YAML, _sources.yml untouched), and its DAG, built from the real dags/ folder with
nothing but the new YAML, lands the sample file from moto S3 into its src_ table, where its staging model reads it."""
from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from recon import db, dbt, s3
from recon.scaffold.plan import Layout, NewSource, plan_new_source, write_plan
from recon.settings import load_settings
from recon.stack.config import admin_login

pytestmark = pytest.mark.integration
DAY = date(2026, 1, 5)
AS_OF = '{as_of_date: "2026-01-05"}'
NEW_SOURCES = [  # (name, format, options, model)
    ("acme", "csv", {"role": "processor"}, "stg_acme__settlement_lines"),
    ("bank_x", "csv", {"role": "bank"}, "stg_bank_x__statement_lines"),
    ("feed", "csv", {"role": "other"}, "stg_feed__lines"),
    ("bank_ch", "bai2", {}, "stg_bank_ch__statement_lines"),
    ("bank_fr", "camt053", {}, "stg_bank_fr__statement_lines"),
    ("stripe_eu", "stripe", {"processor": "stripe"}, "stg_stripe_eu__payout_lines"),
    ("adyen_us", "adyen", {}, "stg_adyen_us__settlement_lines"),
]


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    """A copy of dags/sources and of the dbt project; the sources folder points at the copy (dbt, in _dbt)."""
    shutil.copytree(REPO / "dags" / "sources", tmp_path / "dags" / "sources")
    shutil.copytree(REPO / "dbt_project", tmp_path / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    monkeypatch.setenv("RECON_SOURCES_DIR", str(tmp_path / "dags" / "sources"))
    return Layout.under(tmp_path)


def _dbt(layout: Layout, *args: str) -> str:
    """dbt on the copy of the project (reconcile_daily keeps reading the real one's manifest)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RECON_DBT_PROJECT_DIR", str(layout.root / "dbt_project"))
        env.delenv("RECON_DBT_PROFILES_DIR", raising=False)
        env.setenv("DBT_TARGET_PATH", str(layout.root / "dbt_target"))
        env.setenv("DBT_LOG_PATH", str(layout.root / "dbt_logs"))
        result = dbt.run_dbt([*args, "--vars", AS_OF], capture=True, check=False)
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


def _scaffold(layout: Layout, name: str, fmt: str, **options) -> None:
    write_plan(plan_new_source(NewSource(name, fmt, start_date=date(2026, 1, 1), **options), layout))


def _query(sql: str) -> list[tuple]:
    with db.transaction(login=admin_login()) as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def test_scaffolded_models_compile_in_a_copy_of_the_dbt_project(stack, project: Layout) -> None:
    sources_yml = (project.staging_dir / "_sources.yml").read_text()
    for name, fmt, options, _ in NEW_SOURCES:
        _scaffold(project, name, fmt, **options)
    models = [model for *_, model in NEW_SOURCES]

    _dbt(project, "compile", "--select", *models)

    assert (project.staging_dir / "_sources.yml").read_text() == sources_yml  # never rewritten
    raw = load_settings().raw_db
    target = project.root / "dbt_target"
    manifest = json.loads((target / "manifest.json").read_text())
    for name, _, _, model in NEW_SOURCES:
        table = f"src_{yaml.safe_load((project.sources_dir / f'{name}.yml').read_text())['table']}"
        source = manifest["sources"][f"source.recon.{name}.{table}"]
        assert source["schema"] == raw
        node = manifest["nodes"][f"model.recon.{model}"]
        assert node["depends_on"]["nodes"] == [f"source.recon.{name}.{table}"]
        compiled = (target / "compiled" / "recon" / "models" / "staging" / f"{model}.sql").read_text()
        assert f"{raw}.{table}" in compiled.replace("`", ""), model
        assert "'2026-01-05'" in compiled


def test_a_new_sources_dag_lands_its_file_and_its_staging_model_reads_it(stack, project: Layout) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from recon.stack import manager

    _scaffold(project, "acme", "csv", role="processor")
    manager.reset()  # this namespace, now with acme's landing_ and src_ tables (as `recon stack up` makes them)
    settings = load_settings()
    sample = (project.fixtures_dir / "acme.csv").read_bytes()
    s3.client().put_object(Bucket=settings.bucket, Key=f"inbound/acme/{DAY:%Y/%m/%d}/acme_{DAY}.csv", Body=sample)

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    run = bag.dags["ingest_acme"].test(logical_date=datetime(DAY.year, DAY.month, DAY.day, tzinfo=timezone.utc))

    assert "success" in str(run.state)
    raw = settings.raw_db
    assert _query(f"SELECT file_name, status, rows_loaded FROM {raw}.file_manifest WHERE source = 'acme'") == [
        (f"acme_{DAY}.csv", "loaded", 2)]
    assert _query(f"SELECT line_reference, currency, amount_minor, business_date FROM {raw}.src_acme_settlement_lines "
                  "ORDER BY _row_number") == [("LINE_REF-0001", "USD", 1534, DAY), ("LINE_REF-0002", "EUR", -800, DAY)]
    assert s3.list_keys(s3.client(), settings.bucket, "processed/acme/") == [
        f"processed/acme/{DAY:%Y/%m/%d}/acme_{DAY}.csv"]

    _dbt(project, "build", "--select", "stg_acme__settlement_lines")  # the model and its scaffolded tests
    view = f"{settings.dbt_db}.stg_acme__settlement_lines"
    assert _query(f"SELECT processor, source, currency, delivery_rank, line_reference FROM {view} "
                  "ORDER BY file_row_number") == [("acme", "acme", "USD", 1, "LINE_REF-0001"),
                                                  ("acme", "acme", "EUR", 1, "LINE_REF-0002")]
    documented = yaml.safe_load((project.staging_dir / "stg_acme__settlement_lines.yml").read_text())
    columns = [c["name"] for c in documented["models"][0]["columns"]]
    assert [r[0] for r in _query(f"SHOW COLUMNS FROM {view}")] == columns
