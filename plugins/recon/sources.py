"""Source declarations: one YAML file per source in `dags/sources/`. Sources are data, not code."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from recon import paths
from recon.arrival import (DEFAULT_EXPECTED_BY, DEFAULT_POKE_INTERVAL_SECONDS, POKE_INTERVAL_RANGE, ExpectedBy,
                           parse_expected_by)
from recon.settings import InvalidIdentifier, check_connection_id, check_identifier

COLUMN_TYPES = {"string", "currency", "money", "integer", "timestamp", "date"}
KINDS = {"file", "database"}


class SourceConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    source: str  # the header (file) or column (database) it is read from
    required: bool = True  # the header/column must be present in the input
    nullable: bool = False  # an empty value is allowed
    length: int = 64
    currency_from: str | None = None  # money: the column (output name) holding its currency

    @property
    def sql_type(self) -> str:
        return {
            "string": f"VARCHAR({self.length})",
            "currency": "CHAR(3)",
            "money": "BIGINT",
            "integer": "BIGINT",
            "timestamp": "DATETIME(6)",
            "date": "DATE",
        }[self.type]


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    kind: str
    format: str
    table: str
    columns: tuple[Column, ...]
    s3_prefix: str
    schedule: str
    start_date: date
    grace_days: int
    expectations: tuple[dict[str, Any], ...]
    options: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    # file sources: when the day's file is due, and how often the ingest DAG's wait step looks for it.
    # None for database sources, which are extracted when the run starts (nothing to wait for).
    expected_by: ExpectedBy | None = None
    poke_interval_seconds: int = DEFAULT_POKE_INTERVAL_SECONDS

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def role(self) -> str:
        """ledger (the product database), processor (options.processor) or bank (options.bank)."""
        if self.kind == "database":
            return "ledger"
        if self.options.get("processor"):
            return "processor"
        return "bank" if self.options.get("bank") else "other"

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _identifier(value: Any, where: str, key: str) -> str:
    """A name the loader pastes into SQL text (table, column): the strict pattern, or an error naming file and key."""
    try:
        return check_identifier(value, key)
    except InvalidIdentifier as exc:
        raise SourceConfigError(f"{where}: {key}: {exc}") from None


def _whole_number(value: Any, where: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SourceConfigError(f"{where}: {key} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _parse_column(raw: Any, where: str, index: int, kind: str) -> Column:
    key = f"columns[{index}]"
    if not isinstance(raw, dict):
        raise SourceConfigError(f"{where}: {key} must be a mapping (name, type, ...), got {raw!r}")
    name = _identifier(raw.get("name", ""), where, f"{key}.name")
    ctype = raw.get("type", "string")
    if ctype not in COLUMN_TYPES:
        raise SourceConfigError(f"{where}: column {name}: type {ctype!r} is not one of {sorted(COLUMN_TYPES)}")
    if ctype == "money" and not raw.get("currency_from"):
        raise SourceConfigError(f"{where}: {key}.currency_from: column {name} is money and needs the column "
                                "holding its currency")
    currency_from = raw.get("currency_from")
    if currency_from is not None:
        currency_from = _identifier(currency_from, where, f"{key}.currency_from")
    # a file source's `from` is a header of the file (any text, never SQL); a database source's is a column of the
    # queried table, pasted into the extraction's SELECT
    source = raw.get("from", name)
    source = _identifier(source, where, f"{key}.from") if kind == "database" else str(source)
    return Column(name=name, type=ctype, source=source, required=bool(raw.get("required", True)),
                  nullable=bool(raw.get("nullable", False)),
                  length=_whole_number(raw.get("length", 64), where, f"{key}.length", 1, 16383),
                  currency_from=currency_from)


def _check_database_options(options: dict[str, Any], columns: tuple[Column, ...], where: str) -> None:
    """A database source's extraction: the connection id and every name that goes into its SQL, refused at load
    time with the file and key (never pasted into SQL unchecked)."""
    try:
        check_connection_id(options.get("connection", "recon_product_db"), "connection id")
    except InvalidIdentifier as exc:
        raise SourceConfigError(f"{where}: options.connection: {exc}") from None
    names = {c.name for c in columns}
    for key in ("query_table", "business_time_column", "watermark_column"):
        if key not in options:
            raise SourceConfigError(f"{where}: a database source needs options.{key}")
        value = _identifier(options[key], where, f"options.{key}")
        if key != "query_table" and value not in names:
            raise SourceConfigError(f"{where}: options.{key} {value!r} is not one of the columns {sorted(names)}")


def _check_expectations(expectations: Any, where: str) -> tuple[dict[str, Any], ...]:
    if not isinstance(expectations, (list, tuple)):
        raise SourceConfigError(f"{where}: expectations must be a list, got {type(expectations).__name__}")
    for index, spec in enumerate(expectations):
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            raise SourceConfigError(f"{where}: expectations[{index}] must be a mapping with a type")
        if "column" in spec:
            _identifier(spec["column"], where, f"expectations[{index}].column")
    return tuple(expectations)


_INT_OPTIONS = ("amount_tolerance_minor", "bank_grace_days", "value_date_window_days")


def _check_options(options: dict[str, Any], where: str) -> None:
    """Reconciliation settings are read by dbt from SQL: refuse a bad value here, with the file that holds it."""
    for key in _INT_OPTIONS:
        if key in options and (not isinstance(options[key], int) or options[key] < 0):
            raise SourceConfigError(f"{where}: options.{key} must be a whole number >= 0, got {options[key]!r}")
    for key in ("payout_reference_pattern", "payout_token_pattern"):
        pattern = options.get(key)
        if pattern is None:
            continue
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise SourceConfigError(f"{where}: options.{key} {pattern!r} is not a regular expression: {exc}") from None
        if len(str(pattern)) > 255:  # the width of the column in source_settings
            raise SourceConfigError(f"{where}: options.{key} is longer than 255 characters")
    if options.get("processor") and options.get("bank"):
        raise SourceConfigError(f"{where}: a source is a processor or a bank, not both")


def _arrival(raw: dict[str, Any], kind: str, where: str) -> tuple[ExpectedBy | None, int]:
    """expected_by and poke_interval_seconds: file sources only, refused with the file and key when wrong."""
    if kind != "file":
        for key in ("expected_by", "poke_interval_seconds"):
            if key in raw:
                raise SourceConfigError(f"{where}: {key} applies to file sources only (a {kind} source is read "
                                        "when its run starts; there is no file to wait for)")
        return None, DEFAULT_POKE_INTERVAL_SECONDS
    try:
        expected = parse_expected_by(raw.get("expected_by", DEFAULT_EXPECTED_BY))
    except ValueError as exc:
        raise SourceConfigError(f"{where}: expected_by {exc}") from None
    poke = raw.get("poke_interval_seconds", DEFAULT_POKE_INTERVAL_SECONDS)
    low, high = POKE_INTERVAL_RANGE
    if isinstance(poke, bool) or not isinstance(poke, int) or not low <= poke <= high:
        raise SourceConfigError(f"{where}: poke_interval_seconds must be a whole number from {low} to {high}, "
                                f"got {poke!r}")
    return expected, poke


def load_source(path: Path) -> Source:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SourceConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SourceConfigError(f"{path}: expected a mapping at the top level")
    where = str(path)
    for key in ("name", "kind", "format", "table", "columns"):
        if key not in raw:
            raise SourceConfigError(f"{where}: missing required key {key!r}")
    name = _identifier(raw["name"], where, "name")
    if path.stem != name:
        raise SourceConfigError(f"{where}: the file must be named after the source ({name}.yml)")
    if raw["kind"] not in KINDS:
        raise SourceConfigError(f"{where}: kind {raw['kind']!r} is not one of {sorted(KINDS)}")
    if not isinstance(raw["columns"], list):
        raise SourceConfigError(f"{where}: columns must be a list")
    columns = tuple(_parse_column(c, where, i, raw["kind"]) for i, c in enumerate(raw["columns"]))
    names = {c.name for c in columns}
    for col in columns:
        if col.currency_from and col.currency_from not in names:
            raise SourceConfigError(f"{where}: column {col.name}: currency_from {col.currency_from!r} is not a column")
    prefix = str(raw.get("s3_prefix", f"inbound/{name}")).strip("/")
    if not re.match(r"^[A-Za-z0-9_/-]+$", prefix) or ".." in prefix:
        raise SourceConfigError(f"{where}: s3_prefix {prefix!r} may hold letters, digits, _, - and / only")
    known = {"name", "description", "kind", "format", "table", "columns", "s3_prefix", "schedule", "start_date",
             "grace_days", "expectations", "options", "expected_by", "poke_interval_seconds"}
    unknown = set(raw) - known
    if unknown:
        raise SourceConfigError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(known)})")
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise SourceConfigError(f"{where}: options must be a mapping")
    _check_options(options, where)
    expected_by, poke_interval = _arrival(raw, raw["kind"], where)
    if raw["kind"] == "database":
        _check_database_options(options, columns, where)
    elif "connection" in options or "query_table" in options:
        raise SourceConfigError(f"{where}: options.connection and options.query_table apply to database sources only")
    table = _identifier(raw["table"], where, "table")
    expectations = _check_expectations(raw.get("expectations") or (), where)
    grace_days = _whole_number(raw.get("grace_days", 3), where, "grace_days", 0, 366)
    start = raw.get("start_date", date(2026, 1, 1))
    return Source(
        name=name,
        description=str(raw.get("description", "")),
        kind=raw["kind"],
        format=str(raw["format"]),
        table=table,
        columns=columns,
        s3_prefix=prefix,
        schedule=str(raw.get("schedule", "0 0 * * *")),
        start_date=start if isinstance(start, date) else date.fromisoformat(str(start)),
        grace_days=grace_days,
        expectations=expectations,
        options=dict(options),
        path=path,
        expected_by=expected_by,
        poke_interval_seconds=poke_interval,
    )


@lru_cache(maxsize=8)
def _load_all(directory: str) -> dict[str, Source]:
    found = {}
    for path in sorted(Path(directory).glob("*.yml")):
        source = load_source(path)
        found[source.name] = source
    return found


def all_sources() -> dict[str, Source]:
    return _load_all(str(paths.sources_dir()))


def get_source(name: str) -> Source:
    sources = all_sources()
    if name not in sources:
        raise SourceConfigError(f"unknown source {name!r}; declared sources: {', '.join(sorted(sources)) or 'none'}"
                                f" (in {paths.sources_dir()})")
    return sources[name]
