"""A header-driven CSV parser: columns matched by name (any order, unknown ones ignored), RFC 4180 quoting,
UTF-8 with or without BOM, CRLF or LF. Typed by the source's YAML column list."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable, Iterator, TextIO

from recon.parsers.base import (
    LineTooLong,
    ParsedRow,
    ParseError,
    Row,
    bounded_lines,
    convert_row,
    not_utf8_reason,
    raw_line_heads,
    undecodable_byte,
)
from recon.sources import Source

csv.field_size_limit(16 * 1024 * 1024)  # a quoted field may span lines; each physical line is bounded anyway

RowCheck = Callable[[Row], None]  # raises ValueError("field: reason") for a row that breaks a format rule
# Derives raw values a format computes from others (e.g. a UTC time from a local time and its zone) before
# typing; it may add keys and raises ValueError("field: reason") like a RowCheck.
RawPrepare = Callable[[dict[str, str]], dict[str, str]]


def open_csv(path: Path) -> TextIO:
    """UTF-8 (a BOM is dropped); bytes that are not UTF-8 become surrogates, so a check can name their line and
    field instead of the decoder failing somewhere in a read block."""
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def column_name(header: list[str], index: int) -> str:
    return header[index] if index < len(header) and header[index] else f"column {index + 1}"


def field_at(header: list[str] | None, line_prefix: str, delimiter: str) -> str:
    """The column a position falls in, from the start of its line (header None: the header line itself)."""
    if header is None:
        return "header"
    fields = next(csv.reader([line_prefix], delimiter=delimiter, strict=False), [""])
    return column_name(header, max(len(fields) - 1, 0))


def _field_error(file_name: str, exc: ValueError, line: int) -> ParseError:
    field, _, reason = str(exc).partition(": ")
    return ParseError(file_name, str(exc), line=line, field=field if reason else None)


def _check_utf8(file_name: str, header: list[str] | None, record: list[str], line: int) -> None:
    for index, value in enumerate(record):
        bad = undecodable_byte(value)
        if bad is not None:
            raise ParseError(file_name, f"{not_utf8_reason(value, bad)}", line=line,
                             field="header" if header is None else column_name(header, index))


def _check_header(source: Source, file_name: str, header: list[str], delimiter: str) -> None:
    missing = [c.source for c in source.columns if c.required and c.source not in header]
    if missing:
        hint = ""
        if len(header) == 1 and ("\t" in header[0] or ";" in header[0]):
            hint = f" (the header looks delimited by something other than {delimiter!r})"
        raise ParseError(file_name, f"missing required column(s): {', '.join(missing)}{hint}", line=1,
                         field=missing[0])
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise ParseError(file_name, f"duplicate column name(s) in header: {', '.join(dupes)}", line=1, field=dupes[0])


def _width_error(file_name: str, header: list[str], record: list[str], line: int) -> ParseError:
    if len(record) < len(header):
        first_missing = column_name(header, len(record))
        return ParseError(file_name, f"has {len(record)} fields, the header has {len(header)}: the fields from "
                          f"{first_missing!r} on are missing (a truncated line?)", line=line, field=first_missing)
    return ParseError(file_name, f"has {len(record)} fields, the header has {len(header)} (an unquoted "
                      f"delimiter in a value?)", line=line, field=column_name(header, len(header)))


def parse_csv_table(source: Source, path: Path, file_name: str, row_check: RowCheck | None = None,
                    delimiter: str = ",", prepare: RawPrepare | None = None) -> Iterator[ParsedRow]:
    with open_csv(path) as handle:
        reader = csv.reader(bounded_lines(handle), delimiter=delimiter, strict=True)
        line, header = 1, None
        try:
            first = next(reader, None)
            if first is None:
                raise ParseError(file_name, "the file is empty: expected a header row", line=1, field="header")
            _check_utf8(file_name, None, first, 1)
            header = [h.strip() for h in first]
            _check_header(source, file_name, header, delimiter)
            line = reader.line_num + 1
            for record in reader:
                start, line = line, reader.line_num + 1
                if not record or record == [""]:
                    continue  # a blank line carries no data
                _check_utf8(file_name, header, record, start)
                if len(record) != len(header):
                    raise _width_error(file_name, header, record, start)
                raw = dict(zip(header, record))
                if prepare is not None:
                    try:
                        raw = prepare(raw)
                    except ValueError as exc:
                        raise _field_error(file_name, exc, start) from None
                row = convert_row(source, raw, file_name, start)
                if row_check is not None:
                    try:
                        row_check(row)
                    except ValueError as exc:
                        raise _field_error(file_name, exc, start) from None
                yield ParsedRow(start, row)
        except LineTooLong as exc:
            raise ParseError(file_name, exc.reason(), line=exc.line,
                             field=field_at(header, exc.prefix, delimiter)) from None
        except csv.Error as exc:
            raise ParseError(file_name, f"malformed CSV: {exc}", line=line,
                             field="header" if header is None else None) from None


def count_csv_records(path: Path, delimiter: str = ",") -> int:
    """The data records of a CSV file as a lenient reader counts them (non-blank records after the header), for
    the manifest's rows_read, whether or not the file parses. A file that cannot be read as CSV at all (a line
    too long) counts its non-blank physical lines after the first."""
    try:
        with open_csv(path) as handle:
            reader = csv.reader(bounded_lines(handle), delimiter=delimiter, strict=False)
            if next(reader, None) is None:
                return 0
            return sum(1 for record in reader if record and record != [""])
    except (LineTooLong, csv.Error):
        return max(sum(1 for _, _, blank in raw_line_heads(path) if not blank) - 1, 0)
