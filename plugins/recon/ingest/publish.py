"""Publish: make the day's audited rows visible to dbt in `src_<table>`, idempotently.

File sources: the day's rows are replaced by the rows of the day's current `loaded` files (a re-run gives the same
rows; a correction replaces its earlier version). Database sources: new versions are added (key + watermark) and
the watermark advances, in the same transaction.
"""
from __future__ import annotations

from datetime import date

from recon import db
from recon.settings import load_settings
from recon.sources import Source
from recon.warehouse import landing_table, src_table


def publish(source: Source, business_date: date, load_id: str) -> int:
    s = load_settings()
    cols = ", ".join(source.column_names)
    landing, src = landing_table(s, source), src_table(s, source)
    with db.transaction() as cur:
        if source.kind == "file":
            cur.execute(f"DELETE FROM {src} WHERE business_date = %s", (business_date,))
            return cur.execute(
                f"INSERT INTO {src} ({cols}, business_date, _file_id, _row_number, _load_id, _published_at) "
                f"SELECT {', '.join('l.' + c for c in source.column_names)}, m.business_date, l._file_id, "
                f"l._row_number, l._load_id, UTC_TIMESTAMP(6) FROM {landing} l "
                f"JOIN {s.raw_db}.file_manifest m ON m.file_id = l._file_id "
                "WHERE m.source = %s AND m.business_date = %s AND m.status = 'loaded'",
                (source.name, business_date))
        business_col = source.options["business_time_column"]
        watermark_col = source.options["watermark_column"]
        inserted = cur.execute(
            f"INSERT IGNORE INTO {src} ({cols}, business_date, _file_id, _row_number, _load_id, _published_at) "
            f"SELECT {', '.join('l.' + c for c in source.column_names)}, DATE(l.{business_col}), l._file_id, "
            f"l._row_number, l._load_id, UTC_TIMESTAMP(6) FROM {landing} l "
            f"JOIN {s.raw_db}.file_manifest m ON m.file_id = l._file_id "
            "WHERE m.source = %s AND m.status = 'loaded' AND l._load_id = %s", (source.name, load_id))
        cur.execute(f"SELECT MAX({watermark_col}) FROM {landing} WHERE _load_id = %s", (load_id,))
        high = cur.fetchone()[0]
        if high is not None:
            cur.execute(f"INSERT INTO {s.raw_db}.extract_watermarks (source, watermark) VALUES (%s, %s) "
                        "ON DUPLICATE KEY UPDATE watermark = GREATEST(watermark, VALUES(watermark))",
                        (source.name, high))
        return inserted
