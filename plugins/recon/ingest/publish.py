"""Publish: make the day's audited rows visible to dbt in `src_<table>`, idempotently.

File sources: the day's rows are replaced by the rows of the day's current `loaded` files (a re-run gives the same
rows; a correction replaces its earlier version). Database sources: new versions are added (key + watermark) and
the watermark advances, in the same transaction. Each file's rows_published (and, for a database source,
rows_already_present) is recorded, and the row accounting gate (recon.ingest.accounting) runs before the commit:
a day whose rows do not add up is not published and the task fails.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from recon import db
from recon.ingest import accounting
from recon.settings import Settings, load_settings
from recon.sources import Source
from recon.warehouse import landing_table, src_table

log = logging.getLogger(__name__)


def _publish_files(cur: Any, s: Settings, source: Source, business_date: date) -> int:
    cols = ", ".join(source.column_names)
    landing, src = landing_table(s, source), src_table(s, source)
    cur.execute(f"DELETE FROM {src} WHERE business_date = %s", (business_date,))
    inserted = cur.execute(
        f"INSERT INTO {src} ({cols}, business_date, _file_id, _row_number, _load_id, _published_at) "
        f"SELECT {', '.join('l.' + c for c in source.column_names)}, m.business_date, l._file_id, "
        f"l._row_number, l._load_id, UTC_TIMESTAMP(6) FROM {landing} l "
        f"JOIN {s.raw_db}.file_manifest m ON m.file_id = l._file_id "
        "WHERE m.source = %s AND m.business_date = %s AND m.status = 'loaded'",
        (source.name, business_date))
    cur.execute(f"UPDATE {s.raw_db}.file_manifest m SET rows_already_present = 0, rows_published = "
                f"(SELECT COUNT(*) FROM {src} p WHERE p._file_id = m.file_id AND p.business_date = m.business_date) "
                "WHERE m.source = %s AND m.business_date = %s AND m.status = 'loaded'", (source.name, business_date))
    return int(inserted)


def _publish_versions(cur: Any, s: Settings, source: Source, load_id: str) -> int:
    cols = ", ".join(source.column_names)
    landing, src = landing_table(s, source), src_table(s, source)
    business_col = source.options["business_time_column"]
    watermark_col = source.options["watermark_column"]
    inserted = cur.execute(
        f"INSERT IGNORE INTO {src} ({cols}, business_date, _file_id, _row_number, _load_id, _published_at) "
        f"SELECT {', '.join('l.' + c for c in source.column_names)}, DATE(l.{business_col}), l._file_id, "
        f"l._row_number, l._load_id, UTC_TIMESTAMP(6) FROM {landing} l "
        f"JOIN {s.raw_db}.file_manifest m ON m.file_id = l._file_id "
        "WHERE m.source = %s AND m.status = 'loaded' AND l._load_id = %s", (source.name, load_id))
    # A version src already held counts as already present only with the very same values: a row changed without
    # a new watermark would otherwise vanish in INSERT IGNORE (the accounting gate then refuses the day).
    key, same = source.columns[0].name, " AND ".join(f"p.{c} <=> l.{c}" for c in source.column_names)
    cur.execute(f"UPDATE {s.raw_db}.file_manifest m SET "
                f"rows_published = (SELECT COUNT(*) FROM {src} p WHERE p._file_id = m.file_id), "
                f"rows_already_present = (SELECT COUNT(*) FROM {landing} l JOIN {src} p ON p.{key} = l.{key} "
                f"AND p.{watermark_col} = l.{watermark_col} AND p._file_id <> l._file_id AND {same} "
                "WHERE l._file_id = m.file_id) WHERE m.source = %s AND m.status = 'loaded' AND m.load_id = %s",
                (source.name, load_id))
    cur.execute(f"SELECT MAX({watermark_col}) FROM {landing} WHERE _load_id = %s", (load_id,))
    high = cur.fetchone()[0]
    if high is not None:
        cur.execute(f"INSERT INTO {s.raw_db}.extract_watermarks (source, watermark) VALUES (%s, %s) "
                    "ON DUPLICATE KEY UPDATE watermark = GREATEST(watermark, VALUES(watermark))",
                    (source.name, high))
    return int(inserted)


def publish(source: Source, business_date: date, load_id: str) -> int:
    s = load_settings()
    with db.transaction() as cur:
        if source.kind == "file":
            rows = _publish_files(cur, s, source, business_date)
        else:
            rows = _publish_versions(cur, s, source, load_id)
        accounts = accounting.check_day(cur, s, source, business_date, load_id)  # raises: rolled back
    figures = accounting.totals(accounts)
    log.info("%s %s: row accounting of %d files: read %d = published %d + already present %d + quarantined %d",
             source.name, business_date, len(accounts), figures["rows_read"], figures["rows_published"],
             figures["rows_already_present"], figures["rows_quarantined"])
    return rows
