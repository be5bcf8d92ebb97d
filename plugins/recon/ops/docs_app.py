"""The GX Data Docs site served through the Airflow api-server (mounted at /recon-data-docs by
plugins/recon_ops_plugin.py), to users logged in to Airflow only (the pages show sample values of failing rows).

- `/site/<path>`: the site's files (index.html, validations/..., static/...);
- `/runs/<dag_id>/<run_id>`: the pages of one DAG run's validations, the "Data Docs" tab of a run in the UI.
"""
from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from recon.gates import data_docs


async def require_airflow_user(request: Request) -> None:
    """The api-server's own check: a valid Airflow JWT in the Authorization header or the UI's session cookie."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    await resolve_user_from_token(token)  # 401 without a token, 401/403 for an expired or invalid one


def site_file(site: Path, path: str) -> Path:
    """The file `path` names inside the site, refusing anything outside it (.., absolute paths, links out)."""
    root = site.resolve()
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise HTTPException(status_code=404)
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        raise HTTPException(status_code=404)
    return target


def run_pages(site: Path, dag_id: str, run_id: str) -> list[Path]:
    """The run's validation pages (paths relative to the site), newest first: validations/<suite>/<run name>/..."""
    name = data_docs.run_name(dag_id, run_id)
    validations = site / "validations"
    if not validations.is_dir() or "/" in name or name in (".", ".."):
        return []
    pages = [p for p in validations.rglob("*.html") if name in p.relative_to(validations).parts[:-2]]
    return sorted((p.relative_to(site) for p in pages), key=lambda p: (p.parts[-2], str(p)), reverse=True)


def run_page_html(dag_id: str, run_id: str, pages: list[Path], site_url: str) -> str:
    """A plain list of links (the UI shows it in a sandboxed frame without scripts)."""
    items = "".join(
        f'<li><a href="{html.escape(site_url)}/{quote(p.as_posix())}">{html.escape(p.parts[1])}</a> '
        f"&mdash; {html.escape(p.stem)} ({html.escape(p.parts[-2])})</li>" for p in pages)
    body = f"<ul>{items}</ul>" if pages else "<p>No GX validation recorded for this run (yet).</p>"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Data Docs: {html.escape(dag_id)}</title></head>"
            f"<body style='font-family:sans-serif'><h3>GX Data Docs of {html.escape(dag_id)} / "
            f"{html.escape(run_id)}</h3>{body}<p><a href='{html.escape(site_url)}/index.html'>All validations</a>"
            "</p></body></html>")


def create_app() -> FastAPI:
    app = FastAPI(title="recon GX Data Docs", docs_url=None, redoc_url=None, openapi_url=None)
    auth = [Depends(require_airflow_user)]

    @app.get("/", dependencies=auth)
    def home(request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.url_for("site", path="index.html")))

    @app.get("/site/{path:path}", name="site", dependencies=auth)
    def site(path: str) -> FileResponse:
        return FileResponse(site_file(data_docs.site_dir(), path or "index.html"))

    @app.get("/runs/{dag_id}/{run_id}", dependencies=auth, response_class=HTMLResponse)
    def run(dag_id: str, run_id: str) -> str:
        # relative links (from .../runs/<dag>/<run>): right behind any proxy or sub-path the api-server sits under
        return run_page_html(dag_id, run_id, run_pages(data_docs.site_dir(), dag_id, run_id), "../../site")

    return app
