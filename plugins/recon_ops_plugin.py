"""Airflow plugin of recon's run metrics and GX Data Docs (the code is in plugins/recon/ops):

- listener: records every task of a recon DAG that does not record itself in `<ns>_raw.pipeline_runs`
  (recon.ops.listener);
- FastAPI app on the api-server at /recon-data-docs: the GX Data Docs site, for logged-in Airflow users;
- UI links: "Data Docs" under Browse (the site's index) and a "Data Docs" tab on every DAG run (its validations).
"""
from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from recon.gates.data_docs import SERVE_PREFIX
from recon.ops import listener
from recon.ops.docs_app import create_app


class ReconOpsPlugin(AirflowPlugin):
    name = "recon_ops"
    listeners = [listener]
    fastapi_apps = [{"name": "recon GX Data Docs", "app": create_app(), "url_prefix": SERVE_PREFIX}]
    # hrefs without a leading slash: relative to the UI's base URL, so a sub-path deployment works too
    external_views = [
        {"name": "Data Docs", "href": f"{SERVE_PREFIX.lstrip('/')}/site/index.html", "destination": "nav",
         "category": "browse", "url_route": "recon-data-docs"},
        {"name": "Data Docs", "href": f"{SERVE_PREFIX.lstrip('/')}/runs/{{DAG_ID}}/{{RUN_ID}}",
         "destination": "dag_run", "url_route": "recon-run-data-docs"},
    ]
