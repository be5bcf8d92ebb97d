"""BAI2 parser (contract 1.5): one row per 16 record, 88 continuations joined, control totals and record counts
verified by the bai2 package, and every refusal naming its physical line and field."""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from recon.parsers.base import ParseError
from recon.parsers.registry import get_parser
from recon.sources import Source, get_source

pytestmark = pytest.mark.unit

# Account 1: summaries 100000 + 115000 + 20000 + 5000, details 15000 + 5000 + 0 -> 260000 over 8 records.
# Account 2: summary 5000, detail 1200 -> 6200 over 3 records. Group 266200, 2 accounts, 13 records; file 15.
VALID = """01,SENDER1,RECEIVER1,260105,0800,F001,,,2/
02,RECEIVER1,BANK1,1,260105,2400,USD,2/
03,ACC-USD,,010,100000,,,015,115000,,/
88,100,20000,2,,400,5000,1,/
16,165,15000,V,260106,,BANKREF1,CUSTREF1,PAYOUT BATCH 1001 FROM

88,ADYEN RECON MERCHANT
88,REMITTANCE po_1AbC
16,475,5000,0,BANKREF2,,Check paid/
16,890,0,,BANKREF3,,info/
49,260000,8/
03,ACC-JPY,JPY,010,5000,,/
16,195,1200,,BANKREF4,CUST4,JPY wire/
49,6200,3/
98,266200,2,13/
99,266200,1,15/
"""
LINE = {text.split("/")[0]: number for number, text in enumerate(VALID.splitlines(), start=1)}


def _parse(tmp_path: Path, text: str, source: Source | None = None, name: str = "bank_us_2026-01-05.bai2") -> list:
    path = tmp_path / name
    path.write_text(text)
    return list(get_parser("bai2")(source or get_source("bank_us"), path, name))


def _refused(tmp_path: Path, text: str) -> ParseError:
    with pytest.raises(ParseError) as err:
        _parse(tmp_path, text)
    assert err.value.line is not None and err.value.field, f"{err.value} names no line or field"
    return err.value


def test_one_typed_row_per_16_record(tmp_path: Path) -> None:
    rows = _parse(tmp_path, VALID)
    assert [r.line for r in rows] == [5, 9, 10, 13]  # physical lines of the 16 records (a blank line counts)
    first, check, info, jpy = (r.values for r in rows)
    assert first == {
        "sender_id": "SENDER1", "group_as_of_date": date(2026, 1, 5), "account_section": 1,
        "account_number": "ACC-USD", "currency": "USD", "type_code": "165", "direction": "credit",
        "amount_minor": 15000, "funds_type": "V", "value_date": date(2026, 1, 6), "bank_reference": "BANKREF1",
        "customer_reference": "CUSTREF1", "text": "PAYOUT BATCH 1001 FROM ADYEN RECON MERCHANT REMITTANCE po_1AbC",
        "account_summary_total_minor": 240000, "account_control_total_minor": 260000,
    }
    assert (check["direction"], check["funds_type"], check["value_date"], check["text"]) == ("debit", "0", None,
                                                                                          "Check paid")
    assert check["customer_reference"] is None
    assert (info["direction"], info["amount_minor"], info["type_code"]) == ("other", 0, "890")
    assert (jpy["account_section"], jpy["currency"], jpy["account_summary_total_minor"]) == (2, "JPY", 5000)
    assert jpy["account_control_total_minor"] == 6200


def test_88_continuations_join_text_across_records(tmp_path: Path) -> None:
    # A 16 record that ends with '/' starts its text in the 88; a text split over several 88s is joined with a
    # space (the bai2 package's rule), so a token that a bank splits mid-word reads as two words.
    text = VALID.replace("16,475,5000,0,BANKREF2,,Check paid/", "16,475,5000,0,BANKREF2,/\n88,CHECK 123\n88,PAID")
    text = text.replace("49,260000,8/", "49,260000,10/").replace("98,266200,2,13/", "98,266200,2,15/")
    text = text.replace("99,266200,1,15/", "99,266200,1,17/")
    rows = _parse(tmp_path, text)
    assert rows[1].values["text"] == "CHECK 123 PAID" and rows[1].values["customer_reference"] is None
    assert rows[1].line == 9 and rows[2].line == 12


def test_currency_falls_back_to_group_then_default(tmp_path: Path) -> None:
    text = VALID.replace("260105,2400,USD,2/", "260105,2400,,2/")
    rows = _parse(tmp_path, text, dataclasses.replace(get_source("bank_us"), options={"bank": True,
                                                                                      "default_currency": "CAD"}))
    assert [r.values["currency"] for r in rows] == ["CAD", "CAD", "CAD", "JPY"]
    with pytest.raises(ParseError) as err:
        _parse(tmp_path, text, dataclasses.replace(get_source("bank_us"), options={"bank": True}))
    assert (err.value.line, err.value.field) == (5, "currency") and "empty" in err.value.reason


@pytest.mark.parametrize("availability, funds", [("S,10000,3000,2000", "S"), ("D,2,0,10000,1,5000", "D"),
                                                   ("Z", "Z"), ("", None)])
def test_funds_types_with_availability_fields(tmp_path: Path, availability: str, funds: str | None) -> None:
    row = _parse(tmp_path, VALID.replace("V,260106,,BANKREF1", f"{availability},BANKREF1"))[0].values
    assert (row["funds_type"], row["value_date"], row["bank_reference"]) == (funds, None, "BANKREF1")
    assert row["customer_reference"] == "CUSTREF1" and row["text"].startswith("PAYOUT BATCH 1001")


def test_defaulted_trailing_fields_and_blank_control_total(tmp_path: Path) -> None:
    # '/' may end a record early; the fields after it are defaulted. A blank 49 total is kept as null (and is
    # checked as 0, as the bai2 package reads it: here the account sums to 0).
    text = VALID.replace("16,890,0,,BANKREF3,,info/", "16,890,0/")
    info = _parse(tmp_path, text)[2].values
    assert (info["funds_type"], info["bank_reference"], info["text"]) == (None, None, None)
    blank = ("01,S,R,260105,0800,F1,,,2/\n02,R,B,1,260105,,USD,2/\n03,A1,,/\n16,165,0,,,,zero/\n49,,3/\n"
             "98,0,1,5/\n99,0,1,7/\n")
    row = _parse(tmp_path, blank)[0].values
    assert row["account_control_total_minor"] is None and row["account_summary_total_minor"] == 0


@pytest.mark.parametrize("old, new, field, words", [
    ("49,260000,8/", "49,260001,8/", "49 control_total", "expected 260001, found 260000"),
    ("49,260000,8/", "49,260000,9/", "49 number_of_records", "expected 9, found 8"),
    ("49,6200,3/", "49,-6200,3/", "49 control_total", "expected -6200, found 6200"),
    ("98,266200,2,13/", "98,266201,2,13/", "98 control_total", "group control total"),
    ("98,266200,2,13/", "98,266200,3,13/", "98 number_of_accounts", "expected 3, found 2"),
    ("98,266200,2,13/", "98,266200,2,12/", "98 number_of_records", "expected 12, found 13"),
    ("99,266200,1,15/", "99,266199,1,15/", "99 control_total", "file control total"),
    ("99,266200,1,15/", "99,266200,2,15/", "99 number_of_groups", "expected 2, found 1"),
    ("99,266200,1,15/", "99,266200,1,16/", "99 number_of_records", "expected 16, found 15"),
])
def test_wrong_control_totals_and_counts_are_refused_on_their_trailer(tmp_path: Path, old: str, new: str,
                                                                      field: str, words: str) -> None:
    error = _refused(tmp_path, VALID.replace(old, new))
    assert (error.line, error.field) == (LINE[old.split("/")[0]], field)
    assert words in error.reason and "does not check" in error.reason


@pytest.mark.parametrize("old, new, line, field, words", [
    ("88,REMITTANCE po_1AbC", "88:REMITTANCE po_1AbC", 8, "record code", "is not a BAI2 record"),
    ("16,165,15000,V", "16,1X5,15000,V", 5, "16 type_code", "'1X5'"),
    ("16,165,15000,V", "16,165,15O00,V", 5, "16 amount", "'15O00'"),
    ("16,165,15000,V", "16,165,15000,X", 5, "16 funds_type", "'X'"),
    ("V,260106,,", "V,261306,,", 5, "16 availability", "261306"),
    ("V,260106,,BANKREF1", "D,999999999999,0,6,,BANKREF1", 5, "16 availability", "999999999999"),  # no huge list
    ("1,260105,2400,USD", "1,260230,2400,USD", 2, "02 as_of_date", "'260230'"),
    ("F001,,,2/", "F001,,,3/", 1, "01 version_number", "version"),
    ("49,260000,8/", "49,26OOOO,8/", 11, "49 account_control_total", "'26OOOO'"),
])
def test_unreadable_records_name_line_and_field(tmp_path: Path, old: str, new: str, line: int, field: str,
                                                words: str) -> None:
    error = _refused(tmp_path, VALID.replace(old, new))
    assert (error.line, error.field) == (line, field) and words in error.reason


def test_structure_errors(tmp_path: Path) -> None:
    error = _refused(tmp_path, "")
    assert error.line == 1 and "empty" in error.reason
    error = _refused(tmp_path, VALID.replace("99,266200,1,15/\n", ""))
    assert (error.line, error.field) == (LINE["98,266200,2,13"], "record code") and "99 file trailer" in error.reason
    error = _refused(tmp_path, VALID + "16,165,1,,,,stray/\n")
    assert error.line == len(VALID.splitlines()) + 1 and "follow the 99" in error.reason
    error = _refused(tmp_path, "88,orphan\n" + VALID)
    assert (error.line, error.field) == (1, "record code") and "first record" in error.reason
    error = _refused(tmp_path, VALID.replace("03,ACC-JPY,JPY,010,5000,,/\n", ""))  # a 16 without its 03
    assert error.line == LINE["16,195,1200,,BANKREF4,CUST4,JPY wire"] - 1 and "out of order" in error.reason
    bad = tmp_path / "latin1.bai2"
    bad.write_bytes(VALID.encode().replace(b"BANKREF4", b"BANK\xffREF4"))
    with pytest.raises(ParseError) as err:
        list(get_parser("bai2")(get_source("bank_us"), bad, bad.name))
    assert (err.value.line, err.value.field) == (13, "16 bank_reference")
    assert "UTF-8" in err.value.reason and "0xFF" in err.value.reason


def test_negative_detail_amount_is_refused_even_when_totals_agree(tmp_path: Path) -> None:
    text = VALID.replace("16,165,15000,V", "16,165,-15000,V").replace("49,260000,8/", "49,230000,8/")
    text = text.replace("98,266200,", "98,236200,").replace("99,266200,", "99,236200,")
    error = _refused(tmp_path, text)
    assert (error.line, error.field) == (5, "16 amount") and "negative" in error.reason


def test_text_longer_than_the_column_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, VALID.replace("88,REMITTANCE po_1AbC", "88," + "X" * 2100))
    assert (error.line, error.field) == (5, "text") and "more than 2048" in error.reason
