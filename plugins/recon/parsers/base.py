"""What every parser shares: errors that name file, line and field; typed value conversion."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Protocol

from recon.currencies import normalize_currency, to_minor
from recon.sources import Column, Source

Row = dict[str, Any]


class ParseError(Exception):
    """A file that cannot be loaded. `reason` goes to the manifest; the message names file, line and field."""

    def __init__(self, file_name: str, reason: str, line: int | None = None, field: str | None = None):
        self.file_name, self.reason, self.line, self.field = file_name, reason, line, field
        where = file_name + (f", line {line}" if line is not None else "") + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {reason}")


@dataclass
class ParsedRow:
    line: int  # the physical line where the row starts (1-based, header is line 1)
    values: Row


class Parser(Protocol):
    def __call__(self, source: Source, path: Path, file_name: str) -> Iterator[ParsedRow]: ...


_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
                      "%Y-%m-%d %H:%M")


def parse_timestamp(text: str) -> datetime:
    """ISO-like timestamps; an offset or Z is converted to UTC; naive values are taken as UTC."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        for fmt in _TIMESTAMP_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{text!r} is not a timestamp (expected YYYY-MM-DD HH:MM:SS)") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def convert_value(column: Column, raw: str | None, row: Row) -> Any:
    """One raw text value -> the column's type. Raises ValueError with a human reason."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        if column.nullable:
            return None
        raise ValueError("is empty but required")
    if column.type == "string":
        if len(text) > column.length:
            raise ValueError(f"is {len(text)} characters long, more than {column.length}")
        return text
    if column.type == "currency":
        return normalize_currency(text)
    if column.type == "money":
        currency = row.get(column.currency_from or "")
        if not currency:
            raise ValueError(f"cannot be read without a valid currency in {column.currency_from!r}")
        return to_minor(text, currency)
    if column.type == "integer":
        if not text.lstrip("-").isdigit():
            raise ValueError(f"{text!r} is not a whole number")
        return int(text)
    if column.type == "timestamp":
        return parse_timestamp(text)
    if column.type == "date":
        try:
            return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None
    raise AssertionError(column.type)


def convert_row(source: Source, raw: dict[str, Any], file_name: str, line: int) -> Row:
    """Convert a record keyed by input names into typed values keyed by column names (currencies first)."""
    out: Row = {}
    ordered = sorted(source.columns, key=lambda c: c.type == "money")  # money needs its currency converted first
    for column in ordered:
        try:
            out[column.name] = convert_value(column, raw.get(column.source), out)
        except ValueError as exc:
            raise ParseError(file_name, f"{column.source} {exc}", line=line, field=column.source) from None
    return out
