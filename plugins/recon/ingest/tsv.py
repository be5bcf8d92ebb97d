"""Rows -> a tab-separated file that LOAD DATA LOCAL INFILE reads (streamed: one row in memory at a time)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def format_value(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, datetime):
        if value.tzinfo is None and value.year >= 1000:  # the same text, several times faster
            return value.isoformat(" ", "microseconds")
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).translate(_ESCAPES)


@dataclass
class TsvWritten:
    path: Path
    rows: int
    sha256: str


def write_tsv(path: Path, columns: Sequence[str], rows: Iterable[tuple[int, dict[str, Any]]]) -> TsvWritten:
    """Write (row_number, values) pairs: the columns in order, then the row number (lineage)."""
    count, digest = 0, hashlib.sha256()
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for row_number, values in rows:
            line = "\t".join([*(format_value(values.get(c)) for c in columns), str(row_number)]) + "\n"
            out.write(line)
            digest.update(line.encode())
            count += 1
    return TsvWritten(path, count, digest.hexdigest())


def write_tsv_lines(path: Path, lines: Iterable[str], batch: int = 4096) -> TsvWritten:
    """Write TSV lines made already (each ending in a newline), `batch` at a time: the bytes and digest write_tsv
    gives for the same rows."""
    count, digest = 0, hashlib.sha256()
    with open(path, "wb") as out:
        pending: list[str] = []
        for line in lines:
            pending.append(line)
            if len(pending) >= batch:
                data = "".join(pending).encode("utf-8")
                out.write(data)
                digest.update(data)
                count += len(pending)
                pending.clear()
        if pending:
            data = "".join(pending).encode("utf-8")
            out.write(data)
            digest.update(data)
            count += len(pending)
    return TsvWritten(path, count, digest.hexdigest())


def load_data_sql(table: str, columns: Sequence[str]) -> str:
    cols = ", ".join([*columns, "_row_number"])
    return (f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
            f"({cols}) SET _file_id = %s, _load_id = %s")
