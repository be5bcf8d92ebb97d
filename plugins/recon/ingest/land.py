"""Land: bring each input of a business date into `landing_<table>`, all or nothing per file.

File sources: download (hashing) -> dedupe/correction check -> count its records (rows_read) -> search it for card
numbers -> parse to TSV -> LOAD DATA LOCAL INFILE, in one transaction with the manifest update. Database sources:
extract with a watermark -> TSV -> LOAD DATA. Every file's rows are accounted in the manifest (rows_read, and later
rows_published + rows_quarantined: recon.ingest.accounting).
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

from recon import db, paths, s3
from recon.ingest import manifest
from recon.ingest.tsv import TsvWritten, load_data_sql, write_tsv, write_tsv_lines
from recon.parsers.base import ParseError, convert_row
from recon.parsers.card_scan import file_may_hold_card_number
from recon.parsers.csv_table import RecordCount
from recon.parsers.registry import PARSERS, TSV_LINES, count_records, find_card_number, get_parser
from recon.settings import Settings, load_settings
from recon.sources import Source
from recon.warehouse import landing_table

log = logging.getLogger(__name__)


@dataclass
class LandResult:
    files: int = 0
    landed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    rows: int = 0  # rows landed
    rows_read: int = 0  # records in the files read (landed or refused by the parser or the card-number gate)
    rows_quarantined: int = 0  # records of the files refused here
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("files", "landed", "duplicates", "quarantined", "rows", "rows_read",
                                              "rows_quarantined", "messages")}


@dataclass
class _Outcome:
    kind: str  # a LandResult counter: landed, duplicates or quarantined
    message: str
    rows_read: int = 0
    rows_landed: int = 0


def _temp_path(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="recon-", suffix=suffix, dir=paths.work_dir())
    os.close(fd)
    return Path(name)


def _load_into_landing(cur: Any, s: Settings, source: Source, tsv: TsvWritten, file_id: int, load_id: str) -> None:
    table = landing_table(s, source)
    cur.execute(f"DELETE FROM {table} WHERE _file_id = %s", (file_id,))  # a retried load starts clean
    loaded = cur.execute(load_data_sql(table, source.column_names), (str(tsv.path), file_id, load_id))
    cur.execute("SHOW COUNT(*) WARNINGS")
    warnings = cur.fetchone()[0]
    if warnings:
        cur.execute("SHOW WARNINGS LIMIT 3")
        raise RuntimeError(f"LOAD DATA into {table} raised {warnings} warning(s): {cur.fetchall()}")
    if loaded != tsv.rows:
        raise RuntimeError(f"LOAD DATA into {table} loaded {loaded} rows, the file has {tsv.rows}")


def land_file_source(source: Source, business_date: date, load_id: str, keys: list[str] | None = None) -> LandResult:
    s = load_settings()
    client = s3.client()
    prefix = s3.date_prefix(source.s3_prefix, business_date)
    keys = s3.list_keys(client, s.bucket, prefix) if keys is None else keys
    parser = get_parser(source.format)
    result = LandResult(files=len(keys))
    for key in keys:
        file_name = key.rsplit("/", 1)[-1]
        problem = s3.key_problem(key, prefix)
        if problem:  # never downloaded: the key itself is the problem
            with db.transaction() as cur:
                manifest.insert(cur, s, source=source.name, business_date=business_date, object_key=key,
                                file_name=file_name[:255], load_id=load_id, status="quarantined",
                                reason=f"unsafe object key: {problem}", counts=manifest.NOT_READ)
            result.quarantined += 1
            result.messages.append(f"{key!r}: quarantined: unsafe object key: {problem}")
            continue
        started = time.monotonic()
        download = s3.download(client, s.bucket, key, _temp_path(".download"))
        tsv_path = _temp_path(".tsv")
        try:
            outcome = _land_one(s, source, business_date, load_id, key, file_name, download, tsv_path, parser)
        finally:
            download.path.unlink(missing_ok=True)
            tsv_path.unlink(missing_ok=True)
        setattr(result, outcome.kind, getattr(result, outcome.kind) + 1)
        result.rows += outcome.rows_landed
        result.rows_read += outcome.rows_read
        result.rows_quarantined += outcome.rows_read - outcome.rows_landed
        result.messages.append(outcome.message)
        log.info("%s (%.1fs)", outcome.message, time.monotonic() - started)
    return result


def _parse_to_tsv(source: Source, path: Path, file_name: str, tsv_path: Path, parser: Any,
                  rows_read: int) -> TsvWritten:
    """The card-number gate, then the parser; raises ParseError (the file is refused whole) for either."""
    card = find_card_number(source.format, path, file_name)
    if card is not None:
        raise card
    rows = ((r.line, r.values) for r in parser(source, path, file_name))
    return _checked(write_tsv(tsv_path, source.column_names, rows), rows_read, file_name)


def _checked(tsv: TsvWritten, rows_read: int, file_name: str) -> TsvWritten:
    if tsv.rows != rows_read:  # a record the parser skipped (or made up) would be lost without a trace
        raise ParseError(file_name, f"the parser produced {tsv.rows} rows but the file holds {rows_read} records; "
                         "a row would be lost or invented, so the file is refused (a parser defect: report it)")
    return tsv


def _read_to_tsv(source: Source, path: Path, file_name: str, tsv_path: Path, parser: Any) -> tuple[TsvWritten, int]:
    """The file's TSV and its record count (rows_read), after the card-number gate; ParseError if either refuses
    it. A format with one-pass TSV lines (TSV_LINES, the registered parser's rows) counts its records and writes
    its rows in the same reading: else count_records, then _parse_to_tsv, each reading the file."""
    lines = TSV_LINES.get(source.format)
    if lines is None or parser is not PARSERS.get(source.format):
        rows_read = count_records(source.format, path)
        return _parse_to_tsv(source, path, file_name, tsv_path, parser, rows_read), rows_read
    # The card-number search first, over the whole file, when its raw bytes meet the pre-filter. Else the
    # pre-filter's answer holds for a file that parses strictly to its end (card_scan.scan_csv says why), which
    # the one-pass reading checks: if it stops on an error, the whole file is searched before that is reported.
    searched = file_may_hold_card_number(path)
    if searched:
        card = find_card_number(source.format, path, file_name)
        if card is not None:
            raise card
    count = RecordCount()
    try:
        tsv = write_tsv_lines(tsv_path, lines(source, path, file_name, count))
    except ParseError:
        card = None if searched else find_card_number(source.format, path, file_name)
        if card is not None:
            raise card from None  # a card number is the reason, as when the search comes first
        raise
    return _checked(tsv, count.records, file_name), count.records


def _land_one(s: Settings, source: Source, business_date: date, load_id: str, key: str, file_name: str,
              download: s3.Download, tsv_path: Path, parser: Any) -> _Outcome:
    with db.transaction() as cur:
        # a run that died between download and landing left a 'received' row: it no longer counts
        cur.execute(f"UPDATE {s.raw_db}.file_manifest SET status = 'abandoned', reason = 'interrupted before "
                    "landing; handled again by a later run', rows_read = 0, rows_published = 0, "
                    "rows_already_present = 0, rows_quarantined = 0 WHERE source = %s AND object_key = %s "
                    "AND sha256 = %s AND status = 'received'", (source.name, key, download.sha256))
        handled = manifest.find_handled_object(cur, s, source.name, key, download.sha256)
        if handled:
            return _Outcome("duplicates", f"{file_name}: already handled as file {handled.file_id} ({handled.status})")
        same = manifest.find_same_bytes(cur, s, source.name, download.sha256)
        if same:
            manifest.insert(cur, s, source=source.name, business_date=business_date, object_key=key,
                            file_name=file_name, load_id=load_id, status="duplicate", sha256=download.sha256,
                            size=download.size, duplicate_of=same.file_id,
                            reason=f"same bytes as file {same.file_id} ({same.object_key})", counts=manifest.NOT_READ)
            return _Outcome("duplicates", f"{file_name}: duplicate of file {same.file_id}, not loaded again")
        previous = manifest.find_current_version(cur, s, source.name, business_date, file_name)
        file_id = manifest.insert(cur, s, source=source.name, business_date=business_date, object_key=key,
                                  file_name=file_name, load_id=load_id, status="received", sha256=download.sha256,
                                  size=download.size, supersedes=previous.file_id if previous else None)
    try:
        tsv, rows_read = _read_to_tsv(source, download.path, file_name, tsv_path, parser)
    except ParseError as exc:
        rows_read = count_records(source.format, download.path)  # every record, as a lenient reader counts them
        with db.transaction() as cur:
            manifest.update(cur, s, file_id, status="quarantined", reason=str(exc), rows_read=rows_read,
                            rows_loaded=0, rows_published=0, rows_already_present=0, rows_quarantined=rows_read)
        return _Outcome("quarantined", f"{file_name}: quarantined: {exc}", rows_read)
    with db.transaction() as cur:
        _load_into_landing(cur, s, source, tsv, file_id, load_id)
        manifest.update(cur, s, file_id, status="landed", rows_read=rows_read)
    note = f" (correction of file {previous.file_id})" if previous else ""
    return _Outcome("landed", f"{file_name}: landed {tsv.rows} rows as file {file_id}{note}", rows_read, tsv.rows)


@dataclass
class _Extraction:
    rows_read: int = 0  # every row the query returned, also after a row that could not be converted
    error: ParseError | None = None


def _extract_rows(source: Source, business_date: date, watermark: datetime | None, file_name: str,
                  extraction: _Extraction) -> Iterator[tuple[int, dict[str, Any]]]:
    opts = source.options
    table = opts["query_table"]
    cols = ", ".join(c.source for c in source.columns)
    start = datetime.combine(business_date, datetime.min.time())
    business, updated = opts["business_time_column"], opts["watermark_column"]
    if watermark is None:  # the first extraction ever: everything that occurred up to the end of the day
        sql = f"SELECT {cols} FROM {table} WHERE {business} < %s"
        params: list[Any] = [start + timedelta(days=1)]
    else:  # the day's entries, plus every entry updated since the last extraction (late bookings, voids);
        # >=: a row updated in the same microsecond as the watermark is not missed (versions dedupe on publish)
        sql = f"SELECT {cols} FROM {table} WHERE ({business} >= %s AND {business} < %s) OR {updated} >= %s"
        params = [start, start + timedelta(days=1), watermark]
    conn = db.connect(opts.get("connection", "recon_product_db"), streaming=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql + f" ORDER BY {source.columns[0].source}", params)
            names = [c.source for c in source.columns]
            for number, record in enumerate(cur, start=1):
                extraction.rows_read = number
                if extraction.error is not None:
                    continue  # refused already: only counted, for the manifest's rows_read
                raw = {n: (v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v)
                       for n, v in zip(names, record)}
                try:
                    row = convert_row(source, raw, file_name, number)
                except ParseError as exc:
                    extraction.error = exc
                    continue
                yield number, row
    finally:
        conn.close()


def land_database_source(source: Source, business_date: date, load_id: str) -> LandResult:
    s = load_settings()
    with db.transaction() as cur:
        cur.execute(f"SELECT watermark FROM {s.raw_db}.extract_watermarks WHERE source = %s", (source.name,))
        found = cur.fetchone()
    watermark = found[0] if found else None
    name = source.options["query_table"]
    object_key = f"db:{source.options.get('connection')}/{name}?business_date={business_date}&since={watermark}"
    tsv_path = _temp_path(".tsv")
    extraction = _Extraction()
    try:
        with db.transaction() as cur:
            file_id = manifest.insert(cur, s, source=source.name, business_date=business_date, object_key=object_key,
                                      file_name=name, load_id=load_id, status="received")
        tsv = write_tsv(tsv_path, source.column_names, _extract_rows(source, business_date, watermark, name,
                                                                     extraction))
        if extraction.error is not None:
            read = extraction.rows_read
            with db.transaction() as cur:
                manifest.update(cur, s, file_id, status="quarantined", reason=str(extraction.error), rows_read=read,
                                rows_loaded=0, rows_published=0, rows_already_present=0, rows_quarantined=read)
            return LandResult(files=1, quarantined=1, rows_read=read, rows_quarantined=read,
                              messages=[f"extraction quarantined: {extraction.error}"])
        with db.transaction() as cur:
            _load_into_landing(cur, s, source, tsv, file_id, load_id)
            manifest.update(cur, s, file_id, status="landed", rows_read=tsv.rows, sha256=tsv.sha256)
    finally:
        tsv_path.unlink(missing_ok=True)
    message = f"{name}: extracted {tsv.rows} rows for {business_date} (watermark {watermark}) as file {file_id}"
    log.info(message)
    return LandResult(files=1, landed=1, rows=tsv.rows, rows_read=tsv.rows, messages=[message])
