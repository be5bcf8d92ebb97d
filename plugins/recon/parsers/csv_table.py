"""A header-driven CSV parser: columns matched by name (any order, unknown ones ignored), RFC 4180 quoting,
UTF-8 with or without BOM, CRLF or LF. Typed by the source's YAML column list."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable, Iterator

from recon.parsers.base import ParsedRow, ParseError, Row, convert_row
from recon.sources import Source

csv.field_size_limit(16 * 1024 * 1024)  # a single field may be large; a runaway line still fails with its line

RowCheck = Callable[[Row], None]  # raises ValueError("field: reason") for a row that breaks a format rule
# Derives raw values a format computes from others (e.g. a UTC time from a local time and its zone) before
# typing; it may add keys and raises ValueError("field: reason") like a RowCheck.
RawPrepare = Callable[[dict[str, str]], dict[str, str]]


def _field_error(file_name: str, exc: ValueError, line: int) -> ParseError:
    field, _, reason = str(exc).partition(": ")
    return ParseError(file_name, str(exc), line=line, field=field if reason else None)


def parse_csv_table(source: Source, path: Path, file_name: str, row_check: RowCheck | None = None,
                    delimiter: str = ",", prepare: RawPrepare | None = None) -> Iterator[ParsedRow]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        line = 1
        try:
            header = next(reader, None)
            if header is None:
                raise ParseError(file_name, "the file is empty: expected a header row", line=1)
            header = [h.strip() for h in header]
            missing = [c.source for c in source.columns if c.required and c.source not in header]
            if missing:
                hint = ""
                if len(header) == 1 and ("\t" in header[0] or ";" in header[0]):
                    hint = f" (the header looks delimited by something other than {delimiter!r})"
                raise ParseError(file_name, f"missing required column(s): {', '.join(missing)}{hint}", line=1,
                                 field=missing[0])
            dupes = sorted({h for h in header if h and header.count(h) > 1})
            if dupes:
                raise ParseError(file_name, f"duplicate column name(s) in header: {', '.join(dupes)}", line=1)
            line = reader.line_num + 1
            for record in reader:
                start, line = line, reader.line_num + 1
                if not record or record == [""]:
                    continue  # a blank line carries no data
                if len(record) != len(header):
                    raise ParseError(file_name, f"has {len(record)} fields, the header has {len(header)}", line=start)
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
        except UnicodeDecodeError as exc:
            raise ParseError(file_name, f"is not valid UTF-8 ({exc.reason} at byte {exc.start} of a read block)",
                             line=line) from None
        except csv.Error as exc:
            raise ParseError(file_name, f"malformed CSV: {exc}", line=line) from None
