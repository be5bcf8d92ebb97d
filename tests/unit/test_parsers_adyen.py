"""Adyen settlement details report parser (contract 1.4): typing, UTC conversion, per-type rules, and errors that
name line and field."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest

from recon.parsers.base import ParseError
from recon.parsers.registry import get_parser
from recon.sources import get_source

pytestmark = pytest.mark.unit

HEADER = ["Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
          "Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)",
          "Gross Credit (GC)", "Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)",
          "Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)", "Batch Number"]
SETTLED = {"Company Account": "RECON_COMPANY", "Merchant Account": "RECON_MERCHANT", "Psp Reference": "PSP1",
           "Merchant Reference": "order-1", "Payment Method": "visa", "Creation Date": "2026-01-05 10:00:00",
           "TimeZone": "CET", "Type": "Settled", "Modification Reference": "MOD1", "Gross Currency": "EUR",
           "Gross Credit (GC)": "10.00", "Exchange Rate": "1", "Net Currency": "EUR", "Net Credit (NC)": "9.70",
           "Commission (NC)": "0.10", "Markup (NC)": "0.05", "Scheme Fees (NC)": "0.05", "Interchange (NC)": "0.10",
           "Batch Number": "1001"}
FEE = {**SETTLED, "Psp Reference": "", "Merchant Reference": "", "Payment Method": "", "Type": "Fee",
       "Modification Reference": "Transaction Fees January 05 2026", "Gross Currency": "", "Gross Credit (GC)": "",
       "Exchange Rate": "", "Net Credit (NC)": "", "Net Debit (NC)": "0.30", "Commission (NC)": "",
       "Markup (NC)": "", "Scheme Fees (NC)": "", "Interchange (NC)": ""}
PAYOUT = {**FEE, "Type": "MerchantPayout", "Modification Reference": "TX1XT batch 1001, RECON_MERCHANT",
          "Net Debit (NC)": "9.40"}


def _csv(rows: list[dict[str, str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue()


def _parse(tmp_path: Path, text: str, name: str = "adyen_settlement_detail_report_batch_1001.csv") -> list:
    path = tmp_path / name
    path.write_text(text)
    return list(get_parser("adyen_settlement_csv")(get_source("adyen"), path, name))


def test_rows_are_typed_and_every_type_is_kept(tmp_path: Path) -> None:
    misc = {**FEE, "Type": "MiscCosts", "Modification Reference": "", "Net Debit (NC)": "1"}
    rows = _parse(tmp_path, _csv([SETTLED, FEE, misc, PAYOUT]))
    assert [r.line for r in rows] == [2, 3, 4, 5]
    settled, fee, misc_row, payout = (r.values for r in rows)
    assert settled["type"] == "Settled" and settled["psp_reference"] == "PSP1"
    assert (settled["gross_currency"], settled["gross_credit_minor"], settled["gross_debit_minor"]) == ("EUR", 1000,
                                                                                                     None)
    assert (settled["net_credit_minor"], settled["commission_minor"], settled["interchange_minor"]) == (970, 10, 10)
    assert settled["batch_number"] == 1001 and settled["exchange_rate"] == "1"
    assert settled["creation_date_local"] == "2026-01-05 10:00:00" and settled["time_zone"] == "CET"
    assert fee["psp_reference"] is None and fee["gross_currency"] is None and fee["net_debit_minor"] == 30
    assert misc_row["type"] == "MiscCosts" and misc_row["modification_reference"] is None
    assert payout["net_debit_minor"] == 940


@pytest.mark.parametrize("zone, local, utc", [
    ("CET", "2026-01-05 10:00:00", datetime(2026, 1, 5, 9)),      # winter: UTC+1
    ("CET", "2026-07-05 10:00:00", datetime(2026, 7, 5, 8)),      # summer: IANA CET is UTC+2 (CEST)
    ("UTC", "2026-07-05 10:00:00", datetime(2026, 7, 5, 10)),
    ("Europe/Amsterdam", "2026-07-05 00:30:00", datetime(2026, 7, 4, 22, 30)),  # crosses the date line
    ("America/Los_Angeles", "2026-01-05 20:00:00", datetime(2026, 1, 6, 4)),
    ("PST", "2016-02-18 16:10:51", datetime(2016, 2, 19, 0, 10, 51)),        # abbreviations Adyen writes
    ("PDT", "2025-09-11 11:44:20", datetime(2025, 9, 11, 18, 44, 20)),
    ("CET", "2026-10-25 02:30:00", datetime(2026, 10, 25, 0, 30)),  # autumn fold: the first (summer) occurrence
])
def test_creation_date_is_converted_to_utc(tmp_path: Path, zone: str, local: str, utc: datetime) -> None:
    rows = _parse(tmp_path, _csv([{**SETTLED, "TimeZone": zone, "Creation Date": local}]))
    assert rows[0].values["created_utc"] == utc


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def test_columns_by_name_extra_columns_and_adyen_amount_quirks(tmp_path: Path) -> None:
    # Psp Reference moved last, unknown columns around, `.91` with no leading zero, and `""` for empty fields
    header = [h for h in HEADER if h != "Psp Reference"] + ["Reserved4", "Metadata", "Psp Reference"]
    text = _csv([SETTLED], header).splitlines()[0] + "\n"
    values = {**SETTLED, "Net Credit (NC)": ".91", "Markup (NC)": "", "Reserved4": "", "Metadata": '{"a": "b, c"}'}
    cells = ['""' if h in ("Markup (NC)", "Reserved4") else _cell(values.get(h, "")) for h in header]
    rows = _parse(tmp_path, text + ",".join(cells) + "\n")
    row = rows[0].values
    assert row["psp_reference"] == "PSP1" and row["net_credit_minor"] == 91 and row["markup_minor"] is None


def test_minor_units_follow_the_currency(tmp_path: Path) -> None:
    jpy = {**SETTLED, "Gross Currency": "JPY", "Gross Credit (GC)": "3158", "Exchange Rate": "0.006733333333333",
           "Net Currency": "KWD", "Net Credit (NC)": "0.642", "Commission (NC)": "0.005", "Markup (NC)": "",
           "Scheme Fees (NC)": "", "Interchange (NC)": ""}
    row = _parse(tmp_path, _csv([jpy]))[0].values
    assert (row["gross_credit_minor"], row["net_credit_minor"], row["commission_minor"]) == (3158, 642, 5)


@pytest.mark.parametrize("change, field, words", [
    ({"Gross Credit (GC)": ""}, "Gross Credit (GC)", "a Settled row needs a Gross Credit (GC)"),
    ({"Psp Reference": ""}, "Psp Reference", "a Settled row needs a Psp Reference"),
    ({"Type": "ChargebackReversed", "Gross Credit (GC)": ""}, "Gross Credit (GC)", "ChargebackReversed"),
    ({"Type": "ChargebackReversed", "Modification Reference": ""}, "Modification Reference", "ChargebackReversed"),
    ({"Type": "Refunded", "Gross Credit (GC)": ""}, "Gross Debit (GC)", "a Refunded row needs a Gross Debit (GC)"),
    ({"Type": "Refunded", "Gross Credit (GC)": "", "Gross Debit (GC)": "5", "Modification Reference": ""},
     "Modification Reference", "a Refunded row needs a Modification Reference"),
    ({"Type": "Chargeback", "Gross Credit (GC)": ""}, "Gross Debit (GC)", "a Chargeback row needs a Gross Debit"),
    ({"Type": "Chargeback", "Gross Credit (GC)": "", "Gross Debit (GC)": "5", "Modification Reference": ""},
     "Modification Reference", "Chargeback row needs a Modification Reference"),
    ({"Type": "MerchantPayout", "Net Credit (NC)": ""}, "Net Debit (NC)", "a MerchantPayout row needs a Net Debit"),
    ({"Net Credit (NC)": "-9.70"}, "Net Credit (NC)", "is negative"),
    ({"TimeZone": "Mars/Olympus"}, "TimeZone", "not a known time zone"),
    ({"TimeZone": "CST"}, "TimeZone", "not a known time zone"),           # ambiguous: US Central or China
    ({"TimeZone": "../../etc/passwd"}, "TimeZone", "not a known time zone"),
    ({"TimeZone": ""}, "TimeZone", "empty"),
    ({"Creation Date": "05/01/2026 10:00"}, "Creation Date", "not a date and time"),
    ({"Creation Date": "2026-03-29 02:30:00"}, "Creation Date", "does not exist in CET"),  # spring-forward gap
    ({"Gross Credit (GC)": "10.001"}, "Gross Credit (GC)", "more decimals than EUR"),
    ({"Gross Currency": "EURO"}, "Gross Currency", "ISO 4217"),
    ({"Net Currency": ""}, "Net Currency", "empty"),
    ({"Batch Number": "10a"}, "Batch Number", "not a whole number"),
    ({"Merchant Account": "M" * 129}, "Merchant Account", "more than 128"),
])
def test_bad_rows_name_line_and_field(tmp_path: Path, change: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(ParseError) as err:
        _parse(tmp_path, _csv([SETTLED, FEE, {**SETTLED, **change}]), "batch_7.csv")
    assert (err.value.line, err.value.field) == (4, field)
    assert words in err.value.reason and str(err.value).startswith(f"batch_7.csv, line 4, field {field!r}")


def test_transaction_types_with_their_amounts_read(tmp_path: Path) -> None:
    debit = {**SETTLED, "Gross Credit (GC)": "", "Gross Debit (GC)": "2.00", "Net Credit (NC)": "",
             "Net Debit (NC)": "2.00"}
    rows = _parse(tmp_path, _csv([{**debit, "Type": "Refunded"}, {**debit, "Type": "Chargeback"},
                                  {**SETTLED, "Type": "ChargebackReversed", "Psp Reference": ""}]))
    assert [(r.values["type"], r.values["gross_debit_minor"], r.values["gross_credit_minor"]) for r in rows] == [
        ("Refunded", 200, None), ("Chargeback", 200, None), ("ChargebackReversed", None, 1000)]


def test_required_headers(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as err:
        _parse(tmp_path, _csv([SETTLED], [h for h in HEADER if h != "Batch Number"]))
    assert (err.value.line, err.value.field) == (1, "Batch Number") and "missing required column" in err.value.reason
    assert _parse(tmp_path, _csv([])) == []  # a header alone is a valid, empty batch
