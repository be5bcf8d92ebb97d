"""A new source is data, not code: dropping the scaffold's YAML into the sources folder gives Airflow a new
`ingest_<name>` DAG, with no change to dags/ or plugins/. The real dags/ folder is parsed by Airflow's DagBag in a
fresh process (the dag-processor's view; source YAMLs are read once per process and folder) with
RECON_SOURCES_DIR pointing at a copy of dags/sources plus the new YAML."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import REPO
from recon.scaffold.plan import Layout, NewSource, plan_new_source, write_plan

pytestmark = pytest.mark.unit

_PARSE = r"""
import json
import sys

from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "import_errors": bag.import_errors,
    "dags": {dag_id: {"tasks": [t.task_id for t in dag.topological_sort()], "tags": sorted(dag.tags),
                      "schedule": type(dag.timetable).__name__, "start_date": dag.start_date.date().isoformat(),
                      "description": dag.description, "doc": dag.doc_md or ""}
             for dag_id, dag in bag.dags.items()},
}))
"""


def parse_dags(sources_dir: Path) -> dict:
    env = {**os.environ, "RECON_SOURCES_DIR": str(sources_dir), "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, "-c", _PARSE, str(REPO / "dags")], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dropping_a_new_yaml_in_place_yields_a_new_dag(tmp_path: Path) -> None:
    shutil.copytree(REPO / "dags" / "sources", tmp_path / "dags" / "sources")
    shutil.copytree(REPO / "dbt_project" / "models" / "staging", tmp_path / "dbt_project" / "models" / "staging")
    layout = Layout.under(tmp_path)
    write_plan(plan_new_source(NewSource("acme", "csv", role="processor", start_date=date(2026, 1, 1),
                                         description="Acme settlement report"), layout))

    parsed = parse_dags(layout.sources_dir)

    assert parsed["import_errors"] == {}
    existing = {f"ingest_{path.stem}" for path in (REPO / "dags" / "sources").glob("*.yml")}
    assert set(parsed["dags"]) == existing | {"reconcile_daily", "ingest_acme"}
    acme, stripe = parsed["dags"]["ingest_acme"], parsed["dags"]["ingest_stripe"]
    assert acme["tasks"] == stripe["tasks"]  # the same factory: whatever steps a file source's DAG has today
    assert {"discover", "land", "audit", "publish", "archive"} <= set(acme["tasks"])
    assert acme["tags"] == ["file", "ingest", "recon"]
    assert acme["start_date"] == "2026-01-01" and acme["description"] == "Acme settlement report"
    assert acme["schedule"] == stripe["schedule"]
    assert "dags/sources/acme.yml" in acme["doc"] and "inbound/acme" in acme["doc"]
