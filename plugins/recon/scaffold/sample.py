"""`--from-sample`: the columns of a CSV partner file, from its header, typed by what its first rows hold.

Only the header and the shape of the values are used; no value of the partner's file is written anywhere (it may
hold customer data)."""
from __future__ import annotations

import csv
import re
from pathlib import Path

from recon.currencies import normalize_currency
from recon.parsers.base import parse_timestamp
from recon.scaffold.columns import ColumnSpec
from recon.scaffold.formats import ScaffoldError

ROWS_READ = 500  # enough rows to see empty cells and the widest values, cheap on a big file
_LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,17})")  # leading zeros mean an identifier, not a number
_DECIMAL = re.compile(r"[-+]?[0-9]+\.[0-9]+")
_CURRENCY_HINT = re.compile(r"(currency|ccy|curr)", re.I)


def column_name(header: str, taken: set[str]) -> str:
    """'Gross Credit (GC)' -> gross_credit_gc: a valid, unique column name (recon.settings.check_identifier)."""
    name = re.sub(r"[^a-z0-9]+", "_", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", header).lower()).strip("_")
    if not name or not name[0].isalpha():
        name = f"col_{name}".rstrip("_")
    name = name[:48]
    unique, n = name, 2
    while unique in taken:
        unique = f"{name[:44]}_{n}"
        n += 1
    taken.add(unique)
    return unique


def _is_currency(values: list[str], header: str) -> bool:
    try:
        codes = {normalize_currency(v) for v in values}
    except ValueError:
        return False
    # a lone code such as ALL or TOP may be a word: without a currency-like header, want two different codes
    return bool(codes) and (bool(_CURRENCY_HINT.search(header)) or len(codes) >= 2)


def _is_timestamp(values: list[str]) -> bool:
    try:
        return all(parse_timestamp(v) is not None for v in values)
    except ValueError:
        return False


def _infer_type(values: list[str], header: str) -> str:
    if not values:
        return "string"
    if all(_DATE.fullmatch(v) for v in values):
        return "date"
    if all(_INTEGER.fullmatch(v) for v in values):
        return "integer"
    if all(_DECIMAL.fullmatch(v) or _INTEGER.fullmatch(v) for v in values):
        return "decimal"
    if _is_currency(values, header):
        return "currency"
    if all(re.match(r"\d{4}-\d{2}-\d{2}[ T]\d", v) for v in values) and _is_timestamp(values):
        return "timestamp"
    return "string"


def _currency_for(header: str, currencies: dict[str, str]) -> str | None:
    """The currency column of a money column: the one whose header shares a word with it, else the only one."""
    words = set(re.findall(r"[a-z]+", header.lower())) - {"amount", "currency", "ccy", "minor"}
    for currency_header, name in currencies.items():
        if words & set(re.findall(r"[a-z]+", currency_header.lower())):
            return name
    return next(iter(currencies.values())) if len(currencies) == 1 else None


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            rows = [r for _, r in zip(range(ROWS_READ), reader) if r and r != [""]]
    except FileNotFoundError:
        raise ScaffoldError(f"--from-sample {path}: no such file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ScaffoldError(f"--from-sample {path}: not a UTF-8 CSV file ({exc})") from None
    if not any(header):
        raise ScaffoldError(f"--from-sample {path}: the file is empty; give a CSV file with a header row")
    if len(header) == 1 and ("\t" in header[0] or ";" in header[0]):
        raise ScaffoldError(f"--from-sample {path}: the header looks delimited by something other than ','; the csv "
                            "format reads comma-separated files (a new delimiter needs a parser, see "
                            "docs/adding-a-source.md)")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes or "" in header:
        raise ScaffoldError(f"--from-sample {path}: the header has empty or duplicate column names "
                            f"({', '.join(dupes) or 'empty'}): the csv parser matches columns by name")
    return header, rows


def columns_from_sample(path: Path) -> list[ColumnSpec]:
    header, rows = _read(path)
    taken: set[str] = set()
    columns: list[tuple[str, str, str, list[str], bool]] = []  # header, name, type, values, has empties
    for index, head in enumerate(header):
        cells = [r[index].strip() if index < len(r) else "" for r in rows]
        values = [c for c in cells if c]
        kind = _infer_type(values, head)
        name = column_name(head, taken)
        columns.append((head, name, kind, values, len(values) < len(cells)))
    currencies = {head: name for head, name, kind, _, _ in columns if kind == "currency"}
    specs = []
    for head, name, kind, values, has_empty in columns:
        note = "" if rows else "no data row in the sample: check the type"
        spec = ColumnSpec(name=name, type=kind, source=head, nullable=has_empty)
        if kind == "decimal":
            currency = _currency_for(head, currencies)
            if currency:
                minor = name if name.endswith("_minor") else column_name(f"{name}_minor", taken)
                spec = ColumnSpec(name=minor, type="money", source=head, nullable=has_empty, currency_from=currency,
                                  comment="" if len(currencies) == 1 else "TODO: check currency_from")
            else:
                spec = ColumnSpec(name=name, type="string", source=head, nullable=has_empty, length=32,
                                  comment="TODO: decimal amounts; name their currency column to make it money")
        elif kind == "string":
            widest = max((len(v) for v in values), default=0)
            length = next((n for n in _LENGTHS if n >= 2 * widest), _LENGTHS[-1])
            spec = ColumnSpec(name=name, type="string", source=head, nullable=has_empty, length=length)
        if note and not spec.comment:
            spec = ColumnSpec(**{**spec.__dict__, "comment": note})
        specs.append(spec)
    return specs
