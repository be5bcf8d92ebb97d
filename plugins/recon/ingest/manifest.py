"""The file manifest: one row per object (or extraction) seen, with its hash, row counts, status and reason."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from recon.settings import Settings

# received -> landed -> loaded | quarantined ; duplicate ; superseded (a correction replaced it) ;
# abandoned (a run died before landing it; a later run handled the object again)
ACTIVE = ("landed", "loaded")
# Row accounting (recon.ingest.accounting): every file in a final status has rows_read = rows_published +
# rows_already_present + rows_quarantined. Files never read (duplicates, unsafe keys, abandoned) count 0 of each.
FINAL = ("loaded", "quarantined", "duplicate", "superseded", "abandoned")
NOT_READ = {"rows_read": 0, "rows_published": 0, "rows_already_present": 0, "rows_quarantined": 0}


@dataclass
class ManifestRow:
    file_id: int
    source: str
    business_date: date
    object_key: str
    file_name: str
    sha256: str | None
    status: str
    rows_read: int | None
    archived_key: str | None


_COLS = "file_id, source, business_date, object_key, file_name, sha256, status, rows_read, archived_key"


def _row(values: tuple[Any, ...] | None) -> ManifestRow | None:
    return ManifestRow(*values) if values else None


def insert(cur: Any, s: Settings, *, source: str, business_date: date, object_key: str, file_name: str,
           load_id: str, status: str, sha256: str | None = None, size: int | None = None,
           reason: str | None = None, duplicate_of: int | None = None, supersedes: int | None = None,
           counts: dict[str, int] | None = None) -> int:
    """A new manifest row; `counts` (rows_read... e.g. NOT_READ) for a row born in a final status."""
    counts = counts or {}
    bad = set(counts) - set(NOT_READ)
    if bad:
        raise ValueError(f"not manifest row counts: {bad}")
    cur.execute(
        f"INSERT INTO {s.raw_db}.file_manifest (source, business_date, object_key, file_name, sha256, size_bytes, "
        f"status, reason, load_id, duplicate_of, supersedes{''.join(', ' + k for k in counts)}) "
        f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s{', %s' * len(counts)})",
        (source, business_date, object_key, file_name, sha256, size, status, reason, load_id, duplicate_of,
         supersedes, *counts.values()),
    )
    return int(cur.lastrowid)


def update(cur: Any, s: Settings, file_id: int, **fields: Any) -> None:
    allowed = {"status", "reason", "sha256", "rows_read", "rows_loaded", "rows_published", "rows_already_present",
               "rows_quarantined", "archived_key", "load_id"}
    bad = set(fields) - allowed
    if bad:
        raise ValueError(f"not manifest fields: {bad}")
    sets = ", ".join(f"{k} = %s" for k in fields)
    cur.execute(f"UPDATE {s.raw_db}.file_manifest SET {sets} WHERE file_id = %s", (*fields.values(), file_id))


def find_handled_object(cur: Any, s: Settings, source: str, object_key: str, sha256: str) -> ManifestRow | None:
    """This very object (key and bytes) was already handled and only its archiving is left: resume."""
    cur.execute(f"SELECT {_COLS} FROM {s.raw_db}.file_manifest WHERE source = %s AND object_key = %s "
                "AND sha256 = %s AND archived_key IS NULL AND status <> 'abandoned' ORDER BY file_id DESC LIMIT 1",
                (source, object_key, sha256))
    return _row(cur.fetchone())


def find_same_bytes(cur: Any, s: Settings, source: str, sha256: str) -> ManifestRow | None:
    cur.execute(f"SELECT {_COLS} FROM {s.raw_db}.file_manifest WHERE source = %s AND sha256 = %s "
                "AND status IN ('landed', 'loaded') ORDER BY file_id LIMIT 1", (source, sha256))
    return _row(cur.fetchone())


def find_current_version(cur: Any, s: Settings, source: str, business_date: date,
                         file_name: str) -> ManifestRow | None:
    cur.execute(f"SELECT {_COLS} FROM {s.raw_db}.file_manifest WHERE source = %s AND business_date = %s "
                "AND file_name = %s AND status IN ('landed', 'loaded') ORDER BY file_id DESC LIMIT 1",
                (source, business_date, file_name))
    return _row(cur.fetchone())


def rows_for_date(cur: Any, s: Settings, source: str, business_date: date,
                  statuses: tuple[str, ...] | None = None) -> list[ManifestRow]:
    sql = f"SELECT {_COLS} FROM {s.raw_db}.file_manifest WHERE source = %s AND business_date = %s"
    params: list[Any] = [source, business_date]
    if statuses:
        sql += f" AND status IN ({', '.join(['%s'] * len(statuses))})"
        params.extend(statuses)
    cur.execute(sql + " ORDER BY file_id", params)
    return [ManifestRow(*r) for r in cur.fetchall()]


def record_run(cur: Any, s: Settings, *, source: str, business_date: date, load_id: str, step: str, status: str,
               files: int = 0, rows_in: int = 0, rows_out: int = 0, detail: str | None = None,
               seconds: float | None = None) -> None:
    cur.execute(
        f"INSERT INTO {s.raw_db}.ingest_runs (source, business_date, load_id, step, status, files, rows_in, rows_out,"
        " detail, seconds) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (source, business_date, load_id, step, status, files, rows_in, rows_out, detail, seconds),
    )
