"""GX Data Docs (recon.gates.data_docs) and the app that serves them through Airflow (recon.ops.docs_app), without
services: a real GX validation of an in-memory table is published into a temporary site, pruned, and served."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from recon import paths
from recon.gates import data_docs
from recon.ops import docs_app

pytestmark = pytest.mark.unit


def _validate(context, suite: str, values: list[int | None]):
    """A GX result over a DataFrame: the same kind of object the warehouse validations give."""
    import great_expectations as gx
    import pandas as pd

    source = context.data_sources.add_or_update_pandas("frames")
    asset = source.add_dataframe_asset(name=f"asset_{len(source.assets)}")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": pd.DataFrame({"amount": values})})
    gx_suite = gx.ExpectationSuite(name=suite)
    gx_suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="amount"))
    return batch.id, batch.validate(gx_suite)


@pytest.fixture()
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECON_GX_DOCS_DIR", str(tmp_path / "gx-docs"))
    monkeypatch.setenv("RECON_GX_DOCS_KEEP", "2")
    return tmp_path / "gx-docs"


def test_validations_are_published_as_pages_and_the_oldest_are_dropped(docs: Path) -> None:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral", project_config=data_docs.context_config())
    pages = []
    for number, values in enumerate(([1, 2], [1, None], [3])):
        batch_id, result = _validate(context, "ingest_stripe", values)
        key = data_docs.validation_key("ingest_stripe", data_docs.run_name("ingest_stripe", f"manual__{number}"),
                                       batch_id)
        pages += data_docs.publish(context, [data_docs.Validation(key, result)])
    site = data_docs.site_dir()
    assert site == docs / "site"
    kept = [page for page in pages if (site / page).is_file()]
    assert kept == pages[1:]  # RECON_GX_DOCS_KEEP=2: the oldest result and its page are gone
    assert len(list((docs / "results").rglob("*.json"))) == 2
    failed_page = (site / pages[1]).read_text()
    assert "ingest_stripe" in failed_page and "amount" in failed_page  # names its suite and the column checked
    index = (site / "index.html").read_text()
    assert "ingest_stripe__manual__2" in index and "ingest_stripe__manual__0" not in index


def test_page_urls_point_at_the_airflow_plugin_or_the_configured_base(monkeypatch: pytest.MonkeyPatch) -> None:
    run = data_docs.run_name("reconcile_daily", "manual__2026-01-07T00:00:00+00:00")
    key = data_docs.validation_key("marts_transactions", run, "warehouse-transactions_as_of_2026-01-07")
    path = data_docs.page_path(key)
    assert path.startswith("validations/marts_transactions/reconcile_daily__manual__2026-01-07T00:00:00+00:00/")
    monkeypatch.delenv("RECON_GX_DOCS_BASE_URL", raising=False)
    url = data_docs.page_url(path)
    assert url.startswith(f"{data_docs.airflow_base_url()}/recon-data-docs/site/validations/marts_transactions/")
    assert "%3A00%3A00%2B00%3A00/" in url and url.endswith("warehouse-transactions_as_of_2026-01-07.html")
    monkeypatch.setenv("RECON_GX_DOCS_BASE_URL", "https://docs.example.com/gx/")
    assert data_docs.page_url("index.html") == "https://docs.example.com/gx/index.html"


def test_names_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert data_docs.slug("stripe:bad file.csv") == "stripe_bad_file.csv"
    assert data_docs.run_name(None, None) == "local"
    monkeypatch.delenv("RECON_GX_DOCS_DIR", raising=False)
    monkeypatch.setenv("RECON_NAMESPACE", "rtest_docs")  # one site per namespace: tests never mix into the demo's
    assert data_docs.docs_dir() == paths.stack_dir() / "gx-docs" / "rtest_docs"


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_bad_keep_count_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RECON_GX_DOCS_KEEP", value)
    with pytest.raises(ValueError, match="RECON_GX_DOCS_KEEP"):
        data_docs.keep_count()


def test_prune_keeps_the_newest_by_run_time_and_removes_empty_folders(tmp_path: Path) -> None:
    for run, time in (("r1", "20260105T010000.000000Z"), ("r2", "20260106T010000.000000Z"),
                      ("r3", "20260107T010000.000000Z")):
        folder = tmp_path / "suite" / run / time
        folder.mkdir(parents=True)
        (folder / "batch.json").write_text("{}")
    removed = data_docs.prune_results(tmp_path, keep=2)
    assert [p.parts[-3] for p in removed] == ["r1"]
    assert not (tmp_path / "suite" / "r1").exists() and (tmp_path / "suite" / "r3").exists()


# --- served through the api-server ------------------------------------------------------------------------------

@pytest.fixture()
def site(docs: Path) -> Path:
    run = data_docs.run_name("ingest_stripe", "manual__2026-01-05T00:00:00+00:00")
    for suite, name in (("ingest_stripe", run), ("ingest_stripe", "ingest_stripe__other"), ("marts_payouts", run)):
        page = docs / "site" / "validations" / suite / name / "20260105T010000.000000Z" / "warehouse-a.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<html>{suite}</html>")
    (docs / "site" / "index.html").write_text("<html>index</html>")
    (docs / "secret.txt").write_text("outside the site")
    return docs / "site"


@pytest.fixture()
def client(site: Path) -> TestClient:
    app = docs_app.create_app()
    app.dependency_overrides[docs_app.require_airflow_user] = lambda: None  # as a logged-in user
    return TestClient(app)


def test_the_site_is_served_and_nothing_outside_it(client: TestClient, site: Path) -> None:
    for outside in ("../secret.txt", "/etc/passwd", "validations/../../secret.txt"):
        with pytest.raises(HTTPException):
            docs_app.site_file(site, outside)
    assert client.get("/site/index.html").text == "<html>index</html>"
    assert client.get("/site/").text == "<html>index</html>"
    assert client.get("/site/../secret.txt").status_code == 404
    assert client.get("/site/%2e%2e/secret.txt").status_code == 404
    assert client.get("/site/nothing.html").status_code == 404


def test_a_run_page_lists_that_runs_validations_only(client: TestClient) -> None:
    page = client.get("/runs/ingest_stripe/manual__2026-01-05T00:00:00+00:00").text
    assert page.count("<li>") == 2 and "ingest_stripe" in page and "marts_payouts" in page
    # relative to .../runs/<dag>/<run>, quoted: run ids hold ':' and '+'
    assert 'href="../../site/validations/ingest_stripe/ingest_stripe__manual__2026-01-05T00%3A00%3A00%2B00%3A00/' \
        in page
    assert "No GX validation" in client.get("/runs/ingest_stripe/manual__nothing").text


def test_the_docs_need_an_airflow_login(site: Path) -> None:
    response = TestClient(docs_app.create_app()).get("/site/index.html")
    assert response.status_code == 401


# --- the gates' session publishes its validations ------------------------------------------------------------------

def test_a_session_links_each_validation_to_its_page(docs: Path) -> None:
    from recon.gates.gx_runner import GxSession

    session = GxSession("sqlite://")
    failing = session.validate("stripe:b.csv", "SELECT NULL AS amount", [
        {"type": "expect_column_values_to_not_be_null", "column": "amount"}], suite="ingest_stripe")
    passing = session.validate("stripe:a.csv", "SELECT 1 AS amount", [
        {"type": "expect_column_values_to_not_be_null", "column": "amount"}], suite="ingest_stripe")
    assert not failing.success and passing.success
    urls = session.build_docs()
    assert urls == [failing.docs_url, passing.docs_url]
    assert "/validations/ingest_stripe/local/" in failing.docs_url  # outside Airflow: run name "local"
    pages = sorted(p.name for p in (docs / "site" / "validations" / "ingest_stripe" / "local").rglob("*.html"))
    assert pages == ["warehouse-stripe_a.csv.html", "warehouse-stripe_b.csv.html"]


def test_a_docs_directory_that_cannot_be_used_does_not_stop_the_gate(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from recon.gates.gx_runner import GxSession

    (tmp_path / "not-a-directory").write_text("")
    monkeypatch.setenv("RECON_GX_DOCS_DIR", str(tmp_path / "not-a-directory"))
    session = GxSession("sqlite://")
    gate = session.validate("check", "SELECT 1 AS a", [{"type": "expect_table_row_count_to_equal", "value": 1}])
    assert gate.success and session.build_docs() == [] and gate.docs_url is None
