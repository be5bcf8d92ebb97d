"""Source YAML validation, identifier rules, object-key safety and connection parsing."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from recon import paths
from recon.connections import parse_conn
from recon.parsers.registry import get_parser
from recon.s3 import date_prefix, key_problem
from recon.settings import check_identifier
from recon.sources import SourceConfigError, all_sources, load_source

pytestmark = pytest.mark.unit


def test_declared_sources_load() -> None:
    sources = all_sources()
    assert {"ledger", "stripe"} <= set(sources)
    stripe = sources["stripe"]
    assert stripe.kind == "file" and stripe.table == "stripe_payout_lines" and stripe.grace_days == 3
    assert stripe.column("gross_minor").currency_from == "currency"
    assert sources["ledger"].kind == "database"


@pytest.mark.parametrize("path", sorted(paths.sources_dir().glob("*.yml")), ids=lambda p: p.name)
def test_every_source_yaml_loads_and_its_format_has_a_parser(path: Path) -> None:
    source = load_source(path)
    if source.kind == "file":  # database sources are extracted with SQL, not parsed
        assert callable(get_parser(source.format))
    for spec in source.expectations:
        assert spec.get("type"), f"{path.name}: an expectation without a type"
        if spec["type"] == "unexpected_rows":
            query = spec["unexpected_rows_query"]
            assert spec.get("description") and "{batch}" in query
            # GX fills {batch} with str.format (no other braces allowed) and aliases it itself when the query
            # has no JOIN: an alias of ours after {batch} would be a syntax error.
            assert query.format(batch="B")
            if " JOIN " not in query.upper():
                after = query.split("{batch}", 1)[1].split()
                assert not after or after[0].upper() in {"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", ")"}


def test_the_new_sources_declare_the_reconciliation_settings() -> None:
    sources = all_sources()
    assert {"adyen", "bank_us", "bank_eu"} <= set(sources)
    adyen = sources["adyen"]
    assert (adyen.format, adyen.table, adyen.s3_prefix, adyen.grace_days) == (
        "adyen_settlement_csv", "adyen_settlement_lines", "inbound/adyen", 3)
    spec = {"processor": "adyen", "amount_tolerance_minor": 0, "bank_grace_days": 3, "value_date_window_days": 5,
            "payout_reference_pattern": r"(?i)batch\s*[0-9]+"}
    assert {k: adyen.options.get(k) for k in spec} == spec
    assert not adyen.column("created_utc").required and adyen.column("psp_reference").required
    assert adyen.column("net_debit_minor").currency_from == "net_currency"
    assert (sources["bank_us"].format, sources["bank_us"].table) == ("bai2", "bank_us_statement_lines")
    assert {k: sources["bank_us"].options.get(k) for k in ("bank", "default_currency")} == {"bank": True,
                                                                                          "default_currency": "USD"}
    assert (sources["bank_eu"].format, sources["bank_eu"].table) == ("camt053", "bank_eu_statement_lines")
    assert sources["bank_eu"].options.get("bank") is True and "processor" not in sources["bank_eu"].options
    for name in ("adyen", "bank_us", "bank_eu"):
        assert sources[name].schedule == sources["stripe"].schedule
        assert sources[name].start_date == sources["stripe"].start_date


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(body)
    return path


@pytest.mark.parametrize("body, message", [
    ("name: x\nkind: file\nformat: csv_table\ntable: t\ncolumns: []\n", "named after the source"),
    ("name: bad\nkind: ftp\nformat: csv_table\ntable: t\ncolumns: []\n", "kind 'ftp'"),
    ("name: bad\nkind: file\nformat: csv_table\ntable: t; DROP TABLE x\ncolumns: []\n", "invalid table"),
    ("name: bad\nkind: file\nformat: csv_table\ntable: t\ncolumns: [{name: a, type: money}]\n", "currency_from"),
    ("name: bad\nkind: file\nformat: csv_table\ntable: t\ncolumns: [{name: a, type: blob}]\n", "type 'blob'"),
    ("name: bad\nkind: file\nformat: csv_table\ntable: t\ncolumns: []\ns3_prefix: ../etc\n", "s3_prefix"),
    ("name: bad\nkind: file\nformat: csv_table\ntable: t\ncolumns: []\ngrace: 3\n", "unknown keys"),
    ("name: bad\nkind: file\n", "missing required key 'format'"),
])
def test_bad_source_yaml_is_refused_with_a_reason(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises((SourceConfigError, ValueError), match=message):
        load_source(_write(tmp_path, "bad", body))


def test_identifiers_are_strict() -> None:
    assert check_identifier("stripe_payout_lines") == "stripe_payout_lines"
    for bad in ("a-b", "1abc", "a b", "x`y", "t;drop", ""):
        with pytest.raises(ValueError):
            check_identifier(bad)


@pytest.mark.parametrize("key, problem", [
    ("inbound/stripe/2026/01/05/report.csv", None),
    ("inbound/stripe/2026/01/05/..", "'..'"),
    ("inbound/stripe/2026/01/05/sub/report.csv", "sub-folder"),
    ("inbound/stripe/2026/01/05/re\u0301port.csv", "non-normalized"),
    ("inbound/stripe/2026/01/05/rep\x00ort.csv", "control"),
    ("inbound/stripe/2026/01/05/r\u00e9port.csv", "characters outside"),
    ("inbound/other/2026/01/05/report.csv", "outside"),
])
def test_object_keys_are_checked(key: str, problem: str | None) -> None:
    found = key_problem(key, date_prefix("inbound/stripe", date(2026, 1, 5)))
    assert found is None if problem is None else problem in found


def test_connection_uris_and_json() -> None:
    conn = parse_conn("recon_warehouse", "mysql://u%40x:p%2Fw@db.example:3307/recon_raw")
    assert (conn.login, conn.password, conn.host, conn.port, conn.schema) == ("u@x", "p/w", "db.example", 3307,
                                                                               "recon_raw")
    assert "p/w" not in conn.masked()
    s3 = parse_conn("recon_s3", "aws://k:s@/?endpoint_url=http%3A%2F%2Fminio%3A9000&region_name=eu-west-1")
    assert s3.extra == {"endpoint_url": "http://minio:9000", "region_name": "eu-west-1"}
    js = parse_conn("x", '{"conn_type": "mysql", "host": "h", "port": 1, "extra": {"a": 1}}')
    assert js.host == "h" and js.extra == {"a": 1}
