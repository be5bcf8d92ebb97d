"""Names that end up in SQL text come from the source YAMLs and the environment: each is checked against a strict
pattern when it is loaded, and refused with the YAML file and key that hold it; values are never pasted into SQL
except through the typed literals of recon.sqltext (GX query text, which takes no bind parameters)."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from conftest import REPO
from recon import sqltext
from recon.settings import InvalidIdentifier, check_connection_id, check_identifier, load_settings
from recon.sources import SourceConfigError, load_source

pytestmark = pytest.mark.unit

MALICIOUS = ("x; DROP TABLE file_manifest; --", "a`b", "name with space", "1abc", "a.b", "abc\n", "é", "",
             "a" * 49, "x' OR '1'='1")


def _source(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "dags" / "sources" / f"{name}.yml").read_text())


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A setter for a dotted key (columns[2].from, options.query_table) of a parsed YAML."""
    def apply(raw: dict[str, Any]) -> None:
        target: Any = raw
        parts = key.replace("]", "").replace("[", ".").split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        target[int(last) if last.isdigit() else last] = value
    return apply


# (base source, the key as the error names it); every field whose value is written into SQL text or names a connection
FIELDS = [
    ("stripe", "table"),
    ("stripe", "columns[0].name"),
    ("stripe", "columns[6].currency_from"),
    ("stripe", "expectations[0].column"),
    ("ledger", "table"),
    ("ledger", "columns[0].name"),
    ("ledger", "columns[1].from"),
    ("ledger", "options.connection"),
    ("ledger", "options.query_table"),
    ("ledger", "options.business_time_column"),
    ("ledger", "options.watermark_column"),
]


@pytest.mark.parametrize("value", MALICIOUS)
@pytest.mark.parametrize("base, key", FIELDS)
def test_a_malicious_identifier_in_a_source_yaml_is_refused_naming_file_and_key(tmp_path: Path, base: str, key: str,
                                                                               value: str) -> None:
    if key == "options.connection" and value == "a" * 49:
        value = "a" * 65  # connection ids may be longer than SQL names (64)
    raw = _source(base)
    assert "expectations" in raw and raw["expectations"][0].get("column"), "the base YAML changed: pick other keys"
    _set(key, value)(raw)
    path = tmp_path / f"{base}.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SourceConfigError) as refused:
        load_source(path)
    message = str(refused.value)
    assert str(path) in message
    assert key in message, message


def test_the_malicious_name_of_a_source_is_refused(tmp_path: Path) -> None:
    raw = _source("stripe")
    raw["name"] = "stripe; DROP DATABASE recon"
    path = tmp_path / "stripe.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SourceConfigError, match=r"stripe\.yml: name: invalid name"):
        load_source(path)


def test_the_declared_sources_pass(tmp_path: Path) -> None:
    for base in ("stripe", "ledger"):  # the unmodified YAMLs load: the refusals above are about the values
        path = tmp_path / f"{base}.yml"
        path.write_text(yaml.safe_dump(_source(base), sort_keys=False))
        assert load_source(path).name == base


def test_a_file_sources_header_may_be_any_text_but_a_database_column_may_not(tmp_path: Path) -> None:
    """A file's header (`from`) is matched as text, never SQL; a database source's `from` is a SELECT column."""
    raw = _source("stripe")
    raw["columns"][6]["from"] = "Gross Amount (EUR); -- fine"
    path = tmp_path / "stripe.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert load_source(path).columns[6].source == "Gross Amount (EUR); -- fine"


def test_a_database_source_needs_its_extraction_names_and_they_must_be_columns(tmp_path: Path) -> None:
    raw = _source("ledger")
    del raw["options"]["query_table"]
    path = tmp_path / "ledger.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SourceConfigError, match="needs options.query_table"):
        load_source(path)
    raw = _source("ledger")
    raw["options"]["watermark_column"] = "not_a_column"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SourceConfigError, match=r"options.watermark_column 'not_a_column' is not one of the columns"):
        load_source(path)


def test_a_column_length_must_be_a_whole_number(tmp_path: Path) -> None:
    raw = _source("stripe")
    raw["columns"][0]["length"] = "64) NOT NULL, evil INT"  # pasted into VARCHAR(...) of the DDL otherwise
    path = tmp_path / "stripe.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(SourceConfigError, match=r"columns\[0\]\.length must be a whole number"):
        load_source(path)


@pytest.mark.parametrize("value", MALICIOUS)
def test_a_malicious_namespace_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RECON_NAMESPACE", value)
    with pytest.raises(InvalidIdentifier, match="RECON_NAMESPACE"):
        load_settings()


@pytest.mark.parametrize("value", [*MALICIOUS, "Recon_Product", "a-b", None, 5])
def test_identifier_and_connection_id_patterns(value: Any) -> None:
    if value != "a" * 49:  # a valid connection id, one character too long for a SQL name
        with pytest.raises(InvalidIdentifier):
            check_connection_id(value)
    if value not in ("Recon_Product",):
        with pytest.raises(InvalidIdentifier):
            check_identifier(value)
    assert check_identifier("Recon_Product_2") == "Recon_Product_2"
    assert check_connection_id("recon_product_db") == "recon_product_db"


def test_sql_literals_take_typed_values_only() -> None:
    assert sqltext.date_literal(date(2026, 1, 5)) == "'2026-01-05'"
    assert sqltext.int_literal(42) == "42"
    assert sqltext.name_literal("stripe") == "'stripe'"
    for bad in ("2026-01-05' OR '1'='1", datetime(2026, 1, 5, 1, 2)):
        with pytest.raises(TypeError):
            sqltext.date_literal(bad)  # type: ignore[arg-type]
    for bad in ("1; DROP TABLE x", True, 1.5):
        with pytest.raises(TypeError):
            sqltext.int_literal(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentifier):
        sqltext.name_literal("x' OR '1'='1")
