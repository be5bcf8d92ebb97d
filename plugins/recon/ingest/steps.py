"""The ingest DAG's steps for one source and business date. Each returns a small JSON-able summary (XCom) and
records itself in `ingest_runs` (the loader's step log) and, with its figures, in `pipeline_runs` (recon.ops).

The writing steps (land, audit, publish, archive) hold the ingest lock of (namespace, source, date) while they
work (recon.ingest.ingest_lock): two runs of the same day never write at once. An unreachable S3 endpoint fails a
step with S3Unavailable, saying what the step left behind (recon.s3)."""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from recon import db, paths, s3
from recon.ingest import ingest_lock, manifest
from recon.ingest.archive import archive
from recon.ingest.audit import audit_landed
from recon.ingest.land import land_database_source, land_file_source
from recon.ingest.publish import publish
from recon.ops.stages import StageFigures, stage
from recon.settings import load_settings
from recon.sources import Source, get_source

log = logging.getLogger(__name__)
STALE_WORK_FILE_SECONDS = 6 * 3600  # no live land writes or reads one temp file that long


def _record(source: str, business_date: date, load_id: str, step: str, status: str, started: float,
            **counts: Any) -> None:
    with db.transaction() as cur:
        manifest.record_run(cur, load_settings(), source=source, business_date=business_date, load_id=load_id,
                            step=step, status=status, seconds=round(time.monotonic() - started, 3), **counts)


def _stage(step: str, source_name: str, business_date: date, load_id: str) -> AbstractContextManager[StageFigures]:
    """The step's row in pipeline_runs (recorded when the block ends, also on an error)."""
    return stage(step, dag_id=f"ingest_{source_name}", business_date=business_date, source=source_name,
                 load_id=load_id)


# What a step leaves behind when S3 goes away in its middle (the S3Unavailable message says it)
_S3_CONSEQUENCE = {
    "discover": "Nothing was recorded for this run.",
    "land": ("The files this try landed before (its log lists them) are kept; the others are not loaded, none is "
             "half-loaded (a file lands in one transaction). The retry lands the rest."),
    "archive": ("The objects moved before stay moved (see file_manifest.archived_key); the others stay in inbound/ "
                "and the retry (or the next run) moves them."),
}


def discover(source_name: str, business_date: date) -> dict[str, Any]:
    started = time.monotonic()
    source = get_source(source_name)
    load_id = f"{source.name}-{business_date:%Y%m%d}-{uuid.uuid4().hex[:12]}"
    with _stage("discover", source.name, business_date, load_id) as figures, \
            s3.outage_explained(_S3_CONSEQUENCE["discover"]):
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


def _still_inbound(source: Source, business_date: date, keys: list[str]) -> tuple[list[str], int, list[str]]:
    """Of discover's keys, those still in inbound/ now that this run holds the lock; how many of the others a run
    of the same day (which held the lock first) has handled and archived since; a message for each of them."""
    s = load_settings()
    present = set(s3.list_keys(s3.client(), s.bucket, s3.date_prefix(source.s3_prefix, business_date)))
    handled, messages = 0, []
    for key in (k for k in keys if k not in present):
        with db.transaction() as cur:
            cur.execute(f"SELECT file_id, status, archived_key, load_id FROM {s.raw_db}.file_manifest "
                        "WHERE source = %s AND object_key = %s ORDER BY file_id DESC LIMIT 1", (source.name, key))
            row = cur.fetchone()
        if row:
            handled += 1
            messages.append(f"{key}: gone from inbound/ since discover: handled by load {row[3]} as file {row[0]} "
                            f"({row[1]}, archived to {row[2]})")
        else:  # no run ever saw it: someone deleted it from the bucket. Said, never silently skipped
            log.warning("%s: gone from inbound/ since discover and never landed: deleted from the bucket?", key)
            messages.append(f"{key}: gone from inbound/ since discover and never landed (not in file_manifest)")
    return [key for key in keys if key in present], handled, messages


def _sweep_work_dir() -> None:
    """A killed land leaves its temp download and TSV in the work dir (its cleanup never ran): remove the ones
    nobody has touched for STALE_WORK_FILE_SECONDS."""
    cutoff = time.time() - STALE_WORK_FILE_SECONDS
    for path in paths.work_dir().glob("recon-*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                log.info("removed %s, left by a land that was killed", path)
        except FileNotFoundError:
            pass  # another land removed it first


def land(source_name: str, business_date: date, load_id: str, keys: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    source = get_source(source_name)
    _sweep_work_dir()
    with _stage("land", source.name, business_date, load_id) as figures, \
            ingest_lock.held(source.name, business_date, "land", load_id), s3.outage_explained(_S3_CONSEQUENCE["land"]):
        if source.kind == "file":
            present, handled, gone = _still_inbound(source, business_date, keys) if keys else (keys, 0, [])
            result = land_file_source(source, business_date, load_id, present)
            result.duplicates += handled  # landed by another run of the day: not again
            result.files += len(keys) - len(present)
            result.messages.extend(gone)
        else:
            result = land_database_source(source, business_date, load_id)
        for message in result.messages:
            log.info(message)
        detail = f"landed {result.landed}, duplicates {result.duplicates}, quarantined {result.quarantined}"
        _record(source.name, business_date, load_id, "land", "ok", started, files=result.files,
                rows_in=result.rows_read, rows_out=result.rows, detail=detail)
        # rows read counts every record of every file, the refused ones too (recon.ingest.accounting)
        figures.files, figures.rows_read, figures.rows_landed = result.files, result.rows_read, result.rows
        figures.files_quarantined, figures.detail = result.quarantined, detail
    return result.as_dict()


def audit(source_name: str, business_date: date, load_id: str) -> dict[str, Any]:
    started = time.monotonic()
    with _stage("audit", source_name, business_date, load_id) as figures, \
            ingest_lock.held(source_name, business_date, "audit", load_id):
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
    with _stage("publish", source_name, business_date, load_id) as figures, \
            ingest_lock.held(source_name, business_date, "publish", load_id):
        rows = publish(get_source(source_name), business_date, load_id)
        _record(source_name, business_date, load_id, "publish", "ok", started, rows_out=rows)
        figures.rows_published = rows
    log.info("%s: published %d rows for %s", source_name, rows, business_date)
    return {"rows": rows}


def archive_day(source_name: str, business_date: date, load_id: str) -> dict[str, Any]:
    started = time.monotonic()
    with _stage("archive", source_name, business_date, load_id) as figures, \
            ingest_lock.held(source_name, business_date, "archive", load_id), \
            s3.outage_explained(_S3_CONSEQUENCE["archive"]):
        moved = archive(get_source(source_name), business_date)
        _record(source_name, business_date, load_id, "archive", "ok", started, files=sum(moved.values()),
                detail=str(moved))
        figures.files, figures.detail = sum(moved.values()), str(moved) if moved else None
    return moved
