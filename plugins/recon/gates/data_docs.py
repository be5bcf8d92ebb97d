"""GX Data Docs for the gates: each validation (an ingest audit's file, a mart gate check) is stored as a GX
validation result and rendered into one Data Docs site, which the run links to.

Layout under RECON_GX_DOCS_DIR (default `.stack/gx-docs/<namespace>`):
- `results/`: GX's validation results store (JSON), `<suite>/<run name>/<run time>/<batch>.json`;
- `site/`: the Data Docs site (GX's SiteBuilder): `index.html`, `validations/<suite>/<run name>/<run time>/<batch>.html`
  and `static/` (GX's CSS, fonts and images, ~4 MB, copied by every build).

Bounded: every build keeps the newest RECON_GX_DOCS_KEEP validation results (default 500: about 20 MB, at ~30 KB
of HTML and ~5 KB of JSON each, plus 4 MB of static files) and deletes the older ones; GX's index build then deletes
their pages. The index lists the newest INDEX_LIMIT validations only, so a build reads a bounded number
of results whatever the history (a build takes ~0.3 s).

Links: RECON_GX_DOCS_BASE_URL + the page's path, by default Airflow's `[api] base_url` + `/recon-data-docs/site`,
where plugins/recon_ops_plugin.py serves the site through the api-server to logged-in users.

Production: the site is plain static files, written by the workers and read by the api-server, so either mount
RECON_GX_DOCS_DIR on a volume both share, or put it on S3/MinIO: in `context_config`, give the site and the results
store a `TupleS3StoreBackend` (`bucket`, `prefix`; for MinIO `boto3_options: {endpoint_url: ...}`) instead of
`TupleFilesystemStoreBackend`, set RECON_GX_DOCS_BASE_URL to where the bucket is served (behind authentication: the
pages show sample values of failing rows), and keep results with an S3 lifecycle rule on the results prefix instead
of `prune_results` (the index build still drops the pages of expired results). The Airflow plugin serves a local
directory only.
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

from recon import paths
from recon.airflow_links import airflow_base_url

log = logging.getLogger(__name__)

SITE_NAME = "recon"
SERVE_PREFIX = "/recon-data-docs"  # where the Airflow plugin mounts its app on the api-server
DEFAULT_KEEP = 500
INDEX_LIMIT = 200


def docs_dir() -> Path:
    """RECON_GX_DOCS_DIR, else one site per namespace under .stack/gx-docs (tests never mix into the demo's)."""
    from recon.settings import load_settings

    value = os.environ.get("RECON_GX_DOCS_DIR")
    return Path(value) if value else paths.stack_dir() / "gx-docs" / load_settings().namespace


def site_dir() -> Path:
    return docs_dir() / "site"


def results_dir() -> Path:
    return docs_dir() / "results"


def enabled() -> bool:
    """RECON_GX_DOCS=off skips the Data Docs (the gates run the same)."""
    return os.environ.get("RECON_GX_DOCS", "on").lower() not in ("off", "0", "false", "no")


def keep_count() -> int:
    value = os.environ.get("RECON_GX_DOCS_KEEP", str(DEFAULT_KEEP))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"RECON_GX_DOCS_KEEP={value!r}: give the number of validations to keep (at least 1)")
    return int(value)


def slug(text: str) -> str:
    """A name GX can use in file names and URLs (suite, asset): letters, digits, _ - . only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "validation"


def run_name(dag_id: str | None, run_id: str | None) -> str:
    """The GX run name of a validation: the Airflow DAG and run it belongs to (a manual run id names only the
    date, and every DAG of that date has it), or `local` outside Airflow."""
    return f"{dag_id}__{run_id}" if dag_id and run_id else "local"


def context_config(root: Path | None = None) -> Any:
    """An ephemeral context whose validation results store and Data Docs site are directories under `root`; the
    other stores stay in memory (suites and datasources are rebuilt from the YAML and code on every run)."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    root = root or docs_dir()
    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    stores = dict(defaults.stores)
    stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root / "results")}}
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root / "site")},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "validation_results_limit": INDEX_LIMIT},
        # validations only: the suites live in memory (built from the YAML each run), there is no profiling
        "site_section_builders": {"expectations": "None", "profiling": "None"},
    }
    return DataContextConfig(store_backend_defaults=defaults, stores=stores, data_docs_sites={SITE_NAME: site},
                             progress_bars=ProgressBarsConfig(globally=False))


@dataclass(frozen=True)
class Validation:
    """One validation to publish: GX's key (suite, run, batch) and result."""
    key: Any  # ValidationResultIdentifier
    result: Any  # ExpectationSuiteValidationResult


def validation_key(suite: str, run: str, batch_id: str, run_time: datetime | None = None) -> Any:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    return ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
        run_id=RunIdentifier(run_name=run, run_time=run_time or datetime.now(timezone.utc)),
        batch_identifier=batch_id)


def page_path(key: Any) -> str:
    """The page's path in the site, as GX's site store writes it: validations/<suite>/<run>/<time>/<batch>.html."""
    return "/".join(("validations", *(str(part) for part in key.to_tuple()))) + ".html"


def page_url(relative: str) -> str:
    base = os.environ.get("RECON_GX_DOCS_BASE_URL") or f"{airflow_base_url()}{SERVE_PREFIX}/site"
    return f"{base.rstrip('/')}/{quote(relative)}"


def prune_results(results: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` result files (newest by run time, the directory above each file) and the
    directories left empty; returns the deleted files."""
    files = sorted((p for p in results.rglob("*.json") if p.is_file()), key=lambda p: (p.parent.name, str(p)))
    stale = files[:-keep] if len(files) > keep else []
    for path in stale:
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != results and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return stale


@contextmanager
def _site_lock(root: Path) -> Iterator[None]:
    """One build at a time on this host: a build's index step deletes the pages of results it does not see."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(context: Any, validations: list[Validation], root: Path | None = None) -> list[str]:
    """Store the validations, drop the oldest beyond the limit, render their pages and the index. Returns each
    validation's page path in the site (same order)."""
    root = root or docs_dir()
    with _site_lock(root):
        for validation in validations:
            context.validation_results_store.set(validation.key, validation.result)
        pruned = prune_results(root / "results", keep_count())
        if pruned:
            log.info("GX Data Docs: %d old validation result(s) removed (keeping %d)", len(pruned), keep_count())
        context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[v.key for v in validations])
    return [page_path(v.key) for v in validations]
