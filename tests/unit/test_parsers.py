"""Parsers: typed conversion, error messages naming file/line/field, and the CSV edge cases of contract 1.3."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from recon.currencies import to_minor
from recon.parsers.base import ParseError
from recon.parsers.registry import get_parser
from recon.sources import get_source

pytestmark = pytest.mark.unit

HEADER = ("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,available_on_utc,"
          "currency,gross,fee,net,reporting_category,source_id,description")


def _parse(tmp_path: Path, text: str | bytes, name: str = "f.csv") -> list:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return list(get_parser("stripe_payout_csv")(get_source("stripe"), path, name))


def test_stripe_rows_are_typed_in_minor_units(tmp_path: Path) -> None:
    rows = _parse(tmp_path, HEADER + "\npo_1,2026-01-07 00:00:00,txn_1,2026-01-05 10:00:00,,usd,12.34,0.66,11.68,"
                                      "charge,ch_1,\"card, visa\"\n"
                  "po_1,,txn_2,2026-01-05T11:00:00Z,,jpy,-500,0,-500,refund,re_1,\n")
    assert [r.line for r in rows] == [2, 3]
    first, second = rows[0].values, rows[1].values
    assert (first["gross_minor"], first["fee_minor"], first["net_minor"]) == (1234, 66, 1168)
    assert first["currency"] == "USD" and first["description"] == "card, visa"
    assert first["available_on_utc"] is None
    assert second["gross_minor"] == -500 and second["created_utc"] == datetime(2026, 1, 5, 11)


def test_columns_matched_by_name_bom_and_crlf(tmp_path: Path) -> None:
    cols = HEADER.split(",")
    shuffled = list(reversed(cols)) + ["unknown_extra"]
    values = dict(zip(cols, "po_1,,txn_1,2026-01-05 10:00:00,,kwd,1.234,0.000,1.234,charge,ch_1,x".split(",")))
    line = ",".join(values[c] for c in reversed(cols)) + ",ignored"
    rows = _parse(tmp_path, b"\xef\xbb\xbf" + (",".join(shuffled) + "\r\n" + line + "\r\n").encode())
    assert rows[0].values["gross_minor"] == 1234 and rows[0].values["currency"] == "KWD"


def test_quoted_newline_keeps_the_starting_line_number(tmp_path: Path) -> None:
    text = (HEADER + "\npo_1,,txn_1,2026-01-05 10:00:00,,usd,1.00,0,1.00,charge,ch_1,\"two\nlines\"\n"
            "po_1,,txn_2,2026-01-05 10:00:00,,usd,abc,0,1.00,charge,ch_2,x\n")
    with pytest.raises(ParseError) as err:
        _parse(tmp_path, text, "stripe_2026-01-05.csv")
    assert err.value.line == 4 and err.value.field == "gross"
    assert "stripe_2026-01-05.csv, line 4, field 'gross'" in str(err.value)


@pytest.mark.parametrize("bad, field, words", [
    ("po_1,,txn_1,2026-01-05 10:00:00,,usd,1.001,0,1.001,charge,ch_1,x", "gross", "more decimals"),
    ("po_1,,txn_1,2026-01-05 10:00:00,,usd,\"1,000.00\",0,1000.00,charge,ch_1,x", "gross", "thousands"),
    ("po_1,,txn_1,2026-02-30 10:00:00,,usd,1.00,0,1.00,charge,ch_1,x", "created_utc", "not a timestamp"),
    ("po_1,,txn_1,2026-01-05 10:00:00,,usx,1.00,0,1.00,charge,ch_1,x", "currency", "ISO 4217"),
    ("po_1,,txn_1,2026-01-05 10:00:00,,usd,-1.00,0,-1.00,charge,ch_1,x", "gross", "positive gross"),
    ("po_1,,txn_1,2026-01-05 10:00:00,,usd,1.00,0.10,1.00,charge,ch_1,x", "net", "minus fee"),
    ("po_1,,,2026-01-05 10:00:00,,usd,1.00,0,1.00,charge,ch_1,x", "balance_transaction_id", "empty"),
])
def test_bad_values_name_their_field(tmp_path: Path, bad: str, field: str, words: str) -> None:
    with pytest.raises(ParseError) as err:
        _parse(tmp_path, HEADER + "\n" + bad + "\n")
    assert err.value.line == 2 and err.value.field == field and words in str(err.value)


def test_structural_problems(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="empty"):
        _parse(tmp_path, "")
    with pytest.raises(ParseError, match="missing required column.*created_utc"):
        _parse(tmp_path, HEADER.replace("created_utc", "created") + "\n")
    with pytest.raises(ParseError, match="other than ','"):
        _parse(tmp_path, HEADER.replace(",", ";") + "\n")
    with pytest.raises(ParseError, match="has 3 fields"):
        _parse(tmp_path, HEADER + "\na,b,c\n")
    with pytest.raises(ParseError, match="not valid UTF-8"):
        _parse(tmp_path, (HEADER + "\n").encode() + b"po_1,,txn_\xff,2026-01-05 10:00:00,,usd,1,0,1,charge,ch,x\n")
    assert _parse(tmp_path, HEADER + "\n") == []  # header only: a valid file with no rows


def test_to_minor_uses_iso_exponents() -> None:
    assert to_minor("12.34", "usd") == 1234
    assert to_minor("1234", "JPY") == 1234
    assert to_minor("1.234", "KWD") == 1234
    assert to_minor(".91", "USD") == 91
    assert to_minor("-5.00", "EUR") == -500
    with pytest.raises(ValueError):
        to_minor("12.5", "JPY")
