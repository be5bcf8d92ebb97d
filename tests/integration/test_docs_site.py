"""`make docs` (recon.docs_site.build_docs): the dbt docs site is built into the dbt target path (here a temporary
DBT_TARGET_PATH, never the shared dbt_project/target) with the catalog of the marts and the lineage from the raw
sources through staging and intermediate models to every mart; the example analyses compile with it."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Iterator

import pytest

from recon import dbt, docs_site, paths
from recon.settings import load_settings

pytestmark = pytest.mark.integration

FIRST_DATE = date(2026, 1, 6)  # when this namespace has processed nothing yet
MARTS = ("fct_transaction_reconciliation", "fct_transaction_reconciliation_history", "fct_payout_reconciliation",
         "fct_payout_reconciliation_history", "rpt_daily_reconciliation", "rpt_reconciliation_runs",
         "fct_reconciliation_breaks", "fct_reconciliation_breaks_history", "rpt_break_aging", "rpt_source_arrivals")
OPS_MARTS = ("rpt_pipeline_runs",)  # models/marts/_ops.yml: the pipelines' run figures (no as_of_date)
ANALYSES = ("match_rate_trend", "unfunded_payouts", "open_breaks_by_age", "top_open_breaks",
            "transactions_not_fully_reconciled")


@pytest.fixture(scope="module")
def site(stack: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, date]]:
    """The marts built (dbt run for the latest processed date, else FIRST_DATE), then the docs site, without
    serving it. Yields (target dir, the as-of date the docs were compiled for)."""
    tmp = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_TARGET_PATH", str(tmp / "target"))
        mp.setenv("DBT_LOG_PATH", str(tmp / "logs"))
        day = docs_site.latest_processed_as_of_date() or FIRST_DATE
        dbt.run_dbt(["run", "--vars", f"{{as_of_date: '{day.isoformat()}'}}"], capture=True)
        assert docs_site.docs_as_of_date() == day  # the latest processed date now, whatever was there before
        assert docs_site.build_docs(serve=False, port=docs_site.DEFAULT_PORT) == 0
        assert docs_site.target_dir() == tmp / "target"
        yield tmp / "target", day


def _json(site: tuple[Path, date], name: str) -> dict:
    return json.loads((site[0] / name).read_text())


def _ancestors(parent_map: dict[str, list[str]], node: str) -> set[str]:
    seen: set[str] = set()
    todo = list(parent_map.get(node, []))
    while todo:
        parent = todo.pop()
        if parent not in seen:
            seen.add(parent)
            todo.extend(parent_map.get(parent, []))
    return seen


def test_site_files_are_written_to_the_target_path(site: tuple[Path, date]) -> None:
    assert docs_site.missing_site_files(site[0]) == []
    assert "<html" in (site[0] / "index.html").read_text()[:2000].lower()


def test_catalog_lists_the_marts_with_their_columns(site: tuple[Path, date]) -> None:
    nodes = _json(site, "catalog.json")["nodes"]
    marts_db = load_settings().marts_db
    for mart in MARTS:
        entry = nodes.get(f"model.recon.{mart}")
        assert entry, f"{mart} missing from catalog.json: {sorted(nodes)}"
        assert entry["metadata"]["schema"] == marts_db
        assert "as_of_date" in {c.lower() for c in entry["columns"]}


def test_every_mart_column_is_documented(site: tuple[Path, date]) -> None:
    """The columns the database really has (catalog) = the columns documented in the YAMLs of models/marts (the
    manifest holds every YAML file: _marts.yml, _ops.yml), each with a text."""
    catalog = _json(site, "catalog.json")["nodes"]
    manifest = _json(site, "manifest.json")["nodes"]
    marts = [key for key, node in manifest.items() if node["resource_type"] == "model" and "marts" in node["fqn"]]
    assert {key.split(".")[-1] for key in marts} == set(MARTS) | set(OPS_MARTS)
    for key in marts:
        actual = {c.lower() for c in catalog[key]["columns"]}
        documented = {name.lower(): col.get("description", "").strip()
                      for name, col in manifest[key]["columns"].items()}
        assert actual == set(documented), f"{key}: undocumented {actual - set(documented)}, " \
                                          f"documented but absent {set(documented) - actual}"
        assert all(documented.values()), f"{key}: columns without a description: " \
                                         f"{[n for n, d in documented.items() if not d]}"
        assert manifest[key]["description"].strip()


def test_manifest_gives_the_lineage_from_sources_to_marts(site: tuple[Path, date]) -> None:
    manifest = _json(site, "manifest.json")
    parents, children = manifest["parent_map"], manifest["child_map"]
    assert "model.recon.int_payout_reconciliation" in parents["model.recon.fct_payout_reconciliation_history"]
    assert "model.recon.rpt_daily_reconciliation" in children["model.recon.int_transaction_reconciliation"]
    for mart in MARTS:
        ancestors = _ancestors(parents, f"model.recon.{mart}")
        if mart == "rpt_source_arrivals":  # what reconcile_daily saw arrive: straight from staging, by design
            assert "model.recon.stg_recon__source_arrivals" in ancestors
            continue
        assert any(a.startswith("model.recon.int_") for a in ancestors), f"{mart}: no intermediate model upstream"
    lineage = _ancestors(parents, "model.recon.rpt_daily_reconciliation")
    assert {"model.recon.stg_ledger__entries", "model.recon.int_processor_lines"} <= lineage
    assert any(a.startswith("source.recon.") for a in lineage), "the raw src_ tables are the lineage's roots"


def test_models_are_compiled_as_of_the_latest_processed_date(site: tuple[Path, date]) -> None:
    compiled = (site[0] / "compiled" / "recon" / "models" / "marts" / "rpt_reconciliation_runs.sql").read_text()
    assert site[1].isoformat() in compiled


def test_example_analyses_compile_against_the_marts(site: tuple[Path, date]) -> None:
    nodes = _json(site, "manifest.json")["nodes"]
    marts_db = load_settings().marts_db
    for name in ANALYSES:
        node = nodes.get(f"analysis.recon.{name}")
        assert node, f"analyses/{name}.sql is not in the manifest"
        assert f"`{marts_db}`." in node["compiled_code"], f"{name} does not read {marts_db}"
        assert node["raw_code"].lstrip().startswith("{#"), f"{name} needs its header comment (question, how to run)"


def test_latest_date_falls_back_to_today_without_marts(monkeypatch: pytest.MonkeyPatch, stack: None) -> None:
    # a database the transformer may read that has no rpt_reconciliation_runs: as before the first reconcile run
    from types import SimpleNamespace

    from recon import reconcile

    staging_db = load_settings().dbt_db
    monkeypatch.setattr(reconcile, "load_settings", lambda: SimpleNamespace(marts_db=staging_db))
    assert docs_site.latest_processed_as_of_date() is None
    assert docs_site.docs_as_of_date() == date.today()


def test_target_dir_follows_dbt_target_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    assert docs_site.target_dir() == paths.dbt_project_dir() / "target"
    monkeypatch.setenv("DBT_TARGET_PATH", "target-docs")  # relative: to the dbt project, as dbt reads it
    assert docs_site.target_dir() == paths.dbt_project_dir() / "target-docs"
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path))
    assert docs_site.target_dir() == tmp_path


def test_module_help_describes_the_options() -> None:
    out = subprocess.run([sys.executable, "-m", "recon.docs_site", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for option in ("--port", "--no-serve", "--as-of-date", "8081"):
        assert option in out
