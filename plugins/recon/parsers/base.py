"""What every parser shares: errors that name file, line and field; typed value conversion."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Protocol, TextIO

from recon.currencies import normalize_currency, to_minor
from recon.sources import Column, Source

Row = dict[str, Any]


class ParseError(Exception):
    """A file that cannot be loaded. `reason` goes to the manifest; the message names file, line and field."""

    def __init__(self, file_name: str, reason: str, line: int | None = None, field: str | None = None):
        self.file_name, self.reason, self.line, self.field = file_name, reason, line, field
        where = file_name + (f", line {line}" if line is not None else "") + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {reason}")


# No record of any format we read comes near this; a longer line (a file without line breaks, a runaway field) is
# refused without ever being held in memory whole.
MAX_LINE_CHARS = 1024 * 1024


class LineTooLong(Exception):
    """A physical line longer than MAX_LINE_CHARS. `prefix` is its first MAX_LINE_CHARS characters."""

    def __init__(self, line: int, prefix: str, limit: int):
        super().__init__(f"line {line} is longer than {limit} characters")
        self.line, self.prefix, self.limit = line, prefix, limit

    def reason(self) -> str:
        return (f"line {self.line} is longer than {self.limit} characters: no record of this format comes near "
                "(a file without line breaks, or a runaway field?); it was not read further")


def bounded_lines(handle: TextIO, limit: int = MAX_LINE_CHARS) -> Iterator[str]:
    """The handle's physical lines (line ends kept), raising LineTooLong instead of reading a huge line whole."""
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(("\n", "\r")):
            raise LineTooLong(number, line[:limit], limit)
        yield line


def raw_line_heads(path: Path, keep: int = 64, chunk: int = 1024 * 1024) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, its first `keep` bytes, whether it is blank) for every physical line, read in chunks: bounded
    memory whatever the line lengths, for counting records of files that cannot be parsed."""
    number, head, blank = 1, b"", True
    with open(path, "rb") as handle:
        while data := handle.read(chunk):
            start = 0
            while True:
                end = data.find(b"\n", start)
                piece = data[start:] if end < 0 else data[start:end]
                if len(head) < keep:
                    head += piece[:keep - len(head)]
                if blank and piece.strip():
                    blank = False
                if end < 0:
                    break
                yield number, head.rstrip(b"\r"), blank
                number, head, blank, start = number + 1, b"", True, end + 1
    if head or not blank:
        yield number, head.rstrip(b"\r"), blank


def undecodable_byte(text: str) -> int | None:
    """The first byte that was not UTF-8 in text read with errors='surrogateescape' (its index), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def not_utf8_reason(text: str, index: int) -> str:
    return (f"is not valid UTF-8: byte 0x{ord(text[index]) - 0xDC00:02X} after {text[:index][-20:]!r} "
            "(the file must be UTF-8; was it saved as Latin-1 or Windows-1252?)")


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
