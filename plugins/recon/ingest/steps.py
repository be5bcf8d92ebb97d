"""The ingest DAG's steps for one source and business date. Each returns a small JSON-able summary (XCom) and
records itself in `ingest_runs` (the loader's step log) and, with its figures, in `pipeline_runs` (recon.ops)."""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from recon import db, s3
from recon.ingest import manifest
from recon.ingest.archive import archive
from recon.ingest.audit import audit_landed
from recon.ingest.land import land_database_source, land_file_source
from recon.ingest.publish import publish
from recon.ops.stages import StageFigures, stage
from recon.settings import load_settings
from recon.sources import get_source

log = logging.getLogger(__name__)


def _record(source: str, business_date: date, load_id: str, step: str, status: str, started: float,
            **counts: Any) -> None:
    with db.transaction() as cur:
        manifest.record_run(cur, load_settings(), source=source, business_date=business_date, load_id=load_id,
                            step=step, status=status, seconds=round(time.monotonic() - started, 3), **counts)


def _stage(step: str, source_name: str, business_date: date, load_id: str) -> AbstractContextManager[StageFigures]:
    """The step's row in pipeline_runs (recorded when the block ends, also on an error)."""
    return stage(step, dag_id=f"ingest_{source_name}", business_date=business_date, source=source_name,
                 load_id=load_id)


def discover(source_name: str, business_date: date) -> dict[str, Any]:
    started = time.monotonic()
    source = get_source(source_name)
    load_id = f"{source.name}-{business_date:%Y%m%d}-{uuid.uuid4().hex[:12]}"
    with _stage("discover", source.name, business_date, load_id) as figures:
        keys: list[str] = []
        if source.kind == "file":
            s = load_settings()
            keys = s3.list_keys(s3.client(), s.bucket, s3.date_prefix(source.s3_prefix, business_date))
            if not keys:
                log.warning("%s: no file under s3://%s/%s for %s: recorded as no_file", source.name, s.bucket,
                            s3.date_prefix(source.s3_prefix, business_date), business_date)
        status = "no_file" if source.kind == "file" and not keys else "found"
        _record(source.name, business_date, load_id, "discover", status, started, files=len(keys))
        figures.files, figures.detail = len(keys), status
    return {"load_id": load_id, "keys": keys}


def land(source_name: str, business_date: date, load_id: str, keys: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    source = get_source(source_name)
    with _stage("land", source.name, business_date, load_id) as figures:
        if source.kind == "file":
            result = land_file_source(source, business_date, load_id, keys)
        else:
            result = land_database_source(source, business_date, load_id)
        for message in result.messages:
            log.info(message)
        detail = f"landed {result.landed}, duplicates {result.duplicates}, quarantined {result.quarantined}"
        _record(source.name, business_date, load_id, "land", "ok", started, files=result.files,
                rows_out=result.rows, detail=detail)
        # a file the parser refuses is quarantined whole at its first bad line: its rows are not counted
        figures.files, figures.rows_read, figures.rows_landed = result.files, result.rows, result.rows
        figures.files_quarantined, figures.detail = result.quarantined, detail
    return result.as_dict()


def audit(source_name: str, business_date: date, load_id: str) -> dict[str, Any]:
    started = time.monotonic()
    with _stage("audit", source_name, business_date, load_id) as figures:
        result = audit_landed(get_source(source_name), business_date)
        _record(source_name, business_date, load_id, "audit", "ok" if not result.failed else "failed_files",
                started, files=result.passed + result.failed, detail="; ".join(result.messages)[:4000] or None)
        figures.files, figures.files_quarantined = result.passed + result.failed, result.failed
        figures.rows_quarantined = result.rows_failed
        figures.expectations_evaluated = result.expectations_evaluated
        figures.expectations_failed = result.expectations_failed
        figures.data_docs_url = result.docs_urls[0] if result.docs_urls else None
        figures.detail = "; ".join(result.messages) or None
    return result.as_dict()


def publish_day(source_name: str, business_date: date, load_id: str) -> dict[str, Any]:
    started = time.monotonic()
    with _stage("publish", source_name, business_date, load_id) as figures:
        rows = publish(get_source(source_name), business_date, load_id)
        _record(source_name, business_date, load_id, "publish", "ok", started, rows_out=rows)
        figures.rows_published = rows
    log.info("%s: published %d rows for %s", source_name, rows, business_date)
    return {"rows": rows}


def archive_day(source_name: str, business_date: date, load_id: str) -> dict[str, Any]:
    started = time.monotonic()
    with _stage("archive", source_name, business_date, load_id) as figures:
        moved = archive(get_source(source_name), business_date)
        _record(source_name, business_date, load_id, "archive", "ok", started, files=sum(moved.values()),
                detail=str(moved))
        figures.files, figures.detail = sum(moved.values()), str(moved) if moved else None
    return moved
