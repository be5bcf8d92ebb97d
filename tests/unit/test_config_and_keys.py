"""Source YAML validation, identifier rules, object-key safety and connection parsing."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from recon.connections import parse_conn
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
