"""The ingest DAG's steps for one source and business date. Each returns a small JSON-able summary (XCom) and
records itself in `ingest_runs`."""
from __future__ import annotations

import logging
import time
import uuid
from datetime import date
from typing import Any

from recon import db, s3
from recon.ingest import manifest
from recon.ingest.archive import archive
from recon.ingest.audit import audit_landed
from recon.ingest.land import land_database_source, land_file_source
from recon.ingest.publish import publish
from recon.settings import load_settings
from recon.sources import get_source

log = logging.getLogger(__name__)


def _record(source: str, business_date: date, load_id: str, step: str, status: str, started: float,
            **counts: Any) -> None:
    with db.transaction() as cur:
        manifest.record_run(cur, load_settings(), source=source, business_date=business_date, load_id=load_id,
                            step=step, status=status, seconds=round(time.monotonic() - started, 3), **counts)


def discover(source_name: str, business_date: date) -> dict[str, Any]:
    started = time.monotonic()
    source = get_source(source_name)
    load_id = f"{source.name}-{business_date:%Y%m%d}-{uuid.uuid4().hex[:12]}"
    keys: list[str] = []
    if source.kind == "file":
        s = load_settings()
        keys = s3.list_keys(s3.client(), s.bucket, s3.date_prefix(source.s3_prefix, business_date))
        if not keys:
            log.warning("%s: no file under s3://%s/%s for %s: recorded as no_file", source.name, s.bucket,
                        s3.date_prefix(source.s3_prefix, business_date), business_date)
    status = "no_file" if source.kind == "file" and not keys else "found"
    _record(source.name, business_date, load_id, "discover", status, started, files=len(keys))
    return {"load_id": load_id, "keys": keys}


def land(source_name: str, business_date: date, load_id: str, keys: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    source = get_source(source_name)
    if source.kind == "file":
        result = land_file_source(source, business_date, load_id, keys)
    else:
        result = land_database_source(source, business_date, load_id)
    for message in result.messages:
        log.info(message)
    _record(source.name, business_date, load_id, "land", "ok", started, files=result.files, rows_out=result.rows,
            detail=f"landed {result.landed}, duplicates {result.duplicates}, quarantined {result.quarantined}")
    return result.as_dict()


def audit(source_name: str, business_date: date, load_id: str) -> dict[str, Any]:
    started = time.monotonic()
    result = audit_landed(get_source(source_name), business_date)
    _record(source_name, business_date, load_id, "audit", "ok" if not result.failed else "failed_files", started,
            files=result.passed + result.failed, detail="; ".join(result.messages)[:4000] or None)
    return result.as_dict()


def publish_day(source_name: str, business_date: date, load_id: str) -> dict[str, Any]:
    started = time.monotonic()
    rows = publish(get_source(source_name), business_date, load_id)
    _record(source_name, business_date, load_id, "publish", "ok", started, rows_out=rows)
    log.info("%s: published %d rows for %s", source_name, rows, business_date)
    return {"rows": rows}


def archive_day(source_name: str, business_date: date, load_id: str) -> dict[str, Any]:
    started = time.monotonic()
    moved = archive(get_source(source_name), business_date)
    _record(source_name, business_date, load_id, "archive", "ok", started, files=sum(moved.values()),
            detail=str(moved))
    return moved
