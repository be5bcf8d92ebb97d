"""A header-driven CSV parser: columns matched by name (any order, unknown ones ignored), RFC 4180 quoting,
UTF-8 with or without BOM, CRLF or LF. Typed by the source's YAML column list."""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from recon.parsers.base import (
    LineTooLong,
    ParsedRow,
    ParseError,
    Row,
    bounded_lines,
    convert_value,
    parse_timestamp,
    not_utf8_reason,
    raw_line_heads,
    undecodable_byte,
)
from recon.currencies import EXPONENTS, normalize_currency, to_minor
from recon.ingest.tsv import NULL, format_value
from recon.sources import Column, Source

csv.field_size_limit(16 * 1024 * 1024)  # a quoted field may span lines; each physical line is bounded anyway

RowCheck = Callable[[Row], None]  # raises ValueError("field: reason") for a row that breaks a format rule
# Derives raw values a format computes from others (e.g. a UTC time from a local time and its zone) before
# typing; it may add keys (the record's own columns are read from the record: it does not change them) and raises
# ValueError("field: reason") like a RowCheck.
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


class RecordCount:
    """The data records a reader has read (non-blank records after the header), whatever became of them."""

    def __init__(self) -> None:
        self.records = 0


_MONEY_AMOUNT = re.compile(r"(-?)([0-9]{1,15})(?:\.([0-9]{0,6}))?")  # the common case of to_minor, done with ints
_SURROGATES = re.compile(r"[\ud800-\udfff]")  # what surrogateescape made of bytes that are not UTF-8


def _money(text: str, currency: str) -> int:
    """to_minor(text, currency) for a normalized currency code: the same value, or to_minor's own error."""
    match = _MONEY_AMOUNT.fullmatch(text)
    if match is None:
        return to_minor(text, currency)
    sign, whole, fraction = match.groups()
    scale = EXPONENTS[currency]
    fraction = fraction or ""
    if len(fraction.rstrip("0")) > scale:
        return to_minor(text, currency)  # refused there, with its message
    value = int(whole) * 10 ** scale + (int(fraction.ljust(scale, "0")[:scale]) if scale else 0)
    return -value if sign else value


def _too_long(text: str, length: int) -> str:
    raise ValueError(f"is {len(text)} characters long, more than {length}")


def _no_currency(currency_from: str | None) -> int:
    raise ValueError(f"cannot be read without a valid currency in {currency_from!r}")


def _integer(text: str) -> int:
    if not text.lstrip("-").isdigit():
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


class _Memo(dict):  # type: ignore[type-arg]
    """text -> its value, for converters that are pure functions of the text (currency codes, timestamps): a file
    repeats them. Only values are kept (an error is raised again each time); a few thousand at most (emptied when
    full): memory stays flat whatever the file size."""

    def __init__(self, convert: Callable[[str], Any], limit: int = 4096):
        super().__init__()
        self.convert, self.limit = convert, limit

    def __missing__(self, text: str) -> Any:
        value = self.convert(text)
        if len(self) >= self.limit:
            self.clear()
        self[text] = value
        return value


class _RowPlan:
    """convert_row for one file's header, compiled once per file into one function (no per-column dispatch per
    row): each column read from its position in the record (or by name from a prepared dict) and converted as
    convert_value does, in convert_row's order (money last: it needs its currency). Same values, same errors
    (naming the same field) as convert_row (tests/unit/test_fast_landing.py compares them)."""

    def __init__(self, source: Source, header: list[str], by_name: bool):
        self.names = source.column_names
        position = {c.name: i for i, c in enumerate(source.columns)}
        index = {h: i for i, h in enumerate(header)}  # the last of equal names, as dict(zip(header, record))
        scope: dict[str, Any] = {"ParseError": ParseError, "_too_long": _too_long, "_no_currency": _no_currency,
                                 "_money": _money, "_integer": _integer, "_convert_value": convert_value,
                                 "_currencies": _Memo(normalize_currency), "_timestamps": _Memo(parse_timestamp)}
        body = [f"def convert(record, prepared, file_name, line):", f"    values = [None] * {len(self.names)}"]
        self.escape: list[int] = []  # string columns whose text is not part of the record: escaped for the TSV
        for column in sorted(source.columns, key=lambda c: c.type == "money"):
            at, field, kind = position[column.name], repr(column.source), column.type
            if column.source in index:
                body.append(f"    text = record[{index[column.source]}].strip()")
            elif by_name:  # a value `prepare` adds
                body += [f"    raw = prepared.get({field})",
                         "    text = '' if raw is None else (raw if raw.__class__ is str else str(raw)).strip()"]
                if kind == "string":
                    self.escape.append(at)
            else:
                body.append("    text = ''")
            if kind == "string":
                expr = f"text if len(text) <= {column.length} else _too_long(text, {column.length})"
            elif kind == "currency":
                expr = "_currencies[text]"
            elif kind == "money":
                currency = position.get(column.currency_from or "")
                code = "None" if currency is None else f"values[{currency}]"  # a valid code, or None
                expr = f"_money(text, {code}) if {code} else _no_currency({column.currency_from!r})"
            elif kind == "integer":
                expr = "_integer(text)"
            elif kind == "timestamp":
                expr = "_timestamps[text]"
            else:
                scope[f"column_{at}"] = column
                expr = f"_convert_value(column_{at}, text, {{}})"
            body += ["    if text:", "        try:", f"            values[{at}] = {expr}",
                     "        except ValueError as exc:",
                     f"            raise ParseError(file_name, {field} + ' ' + str(exc), line=line, "
                     f"field={field}) from None"]
            if not column.nullable:
                body += ["    else:", f"        raise ParseError(file_name, {field} + ' is empty but required', "
                         f"line=line, field={field})"]
        body.append("    return values")
        exec(compile("\n".join(body), f"<row plan of {source.name}>", "exec"), scope)  # noqa: S102 - our own text
        self.convert: Callable[[list[str], dict[str, Any] | None, str, int], list[Any]] = scope["convert"]


def _csv_rows(source: Source, path: Path, file_name: str, row_check: RowCheck | None, delimiter: str,
              prepare: RawPrepare | None, count: RecordCount | None
              ) -> Iterator[tuple[int, list[Any], str, _RowPlan]]:
    """(line, typed values in the source's column order, every text they were read from joined, the plan) of
    every data record."""
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
            plan = _RowPlan(source, header, by_name=prepare is not None)
            names, width, counted = plan.names, len(header), count is not None
            line = reader.line_num + 1
            for record in reader:
                start, line = line, reader.line_num + 1
                if not record or record == [""]:
                    continue  # a blank line carries no data
                if counted:
                    count.records += 1  # type: ignore[union-attr]
                joined = " ".join(record)  # (any separator TSV does not escape)
                if not joined.isascii() and _SURROGATES.search(joined):
                    _check_utf8(file_name, header, record, start)
                if len(record) != width:
                    raise _width_error(file_name, header, record, start)
                if prepare is not None:
                    try:
                        prepared = prepare(dict(zip(header, record)))
                    except ValueError as exc:
                        raise _field_error(file_name, exc, start) from None
                    values = plan.convert(record, prepared, file_name, start)
                else:
                    values = plan.convert(record, None, file_name, start)
                if row_check is not None:
                    try:
                        row_check(dict(zip(names, values)))
                    except ValueError as exc:
                        raise _field_error(file_name, exc, start) from None
                yield start, values, joined, plan
        except LineTooLong as exc:
            raise ParseError(file_name, exc.reason(), line=exc.line,
                             field=field_at(header, exc.prefix, delimiter)) from None
        except csv.Error as exc:
            raise ParseError(file_name, f"malformed CSV: {exc}", line=line,
                             field="header" if header is None else None) from None


def parse_csv_table(source: Source, path: Path, file_name: str, row_check: RowCheck | None = None,
                    delimiter: str = ",", prepare: RawPrepare | None = None) -> Iterator[ParsedRow]:
    for start, values, _, plan in _csv_rows(source, path, file_name, row_check, delimiter, prepare, None):
        yield ParsedRow(start, dict(zip(plan.names, values)))


_ESCAPED = re.compile(r"[\\\t\n\r\0]")  # what the TSV escapes (recon.ingest.tsv)


def csv_table_tsv_lines(source: Source, path: Path, file_name: str, count: RecordCount,
                        row_check: RowCheck | None = None, delimiter: str = ",",
                        prepare: RawPrepare | None = None) -> Iterator[str]:
    """parse_csv_table's rows as the TSV lines write_tsv would write for them (the same bytes), counting the
    records read in `count` as it goes: one pass over the file for the record count and the rows."""
    formatted = _Memo(format_value)  # timestamps and dates: a file repeats them
    for start, values, joined, plan in _csv_rows(source, path, file_name, row_check, delimiter, prepare, count):
        # every text value is part of what it was read from: if that has nothing to escape, neither has the value
        if _ESCAPED.search(joined):
            texts = [format_value(v) for v in values]
        else:
            texts = [NULL if v is None else v if v.__class__ is str else str(v) if v.__class__ is int
                     else formatted[v] for v in values]
            for at in plan.escape:
                texts[at] = format_value(values[at])
        texts.append(str(start))
        yield "\t".join(texts) + "\n"


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
