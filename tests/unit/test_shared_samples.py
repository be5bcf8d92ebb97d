"""Real third-party files (Stripe, Adyen, BAI2, camt.053): each is either read, with its rows and amounts checked
against the file read independently, or refused for a reason we can name."""
from __future__ import annotations

import csv
import re
import sqlite3
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, SHARED_SAMPLES
from recon.parsers.base import ParseError
from recon.parsers.registry import get_parser
from recon.sources import get_source

pytestmark = pytest.mark.unit
COPYLEFT = SHARED_SAMPLES / "copyleft" / "stripe"


def _parse(path: Path) -> list:
    return list(get_parser("stripe_payout_csv")(get_source("stripe"), path, path.name))


def test_fivetran_balance_transactions_are_refused_as_another_shape() -> None:
    # The Fivetran seed is Stripe's balance-transaction API shape (amounts in cents, `type`, `payout_id`), not the
    # itemized payout reconciliation report: refusing it beats guessing what `amount` means.
    path = FIXTURES / "samples" / "stripe" / "fivetran_dbt_stripe_balance_transaction_data.csv"
    with pytest.raises(ParseError) as err:
        _parse(path)
    assert err.value.line == 1
    assert "automatic_payout_id" in err.value.reason and "reporting_category" in err.value.reason


@pytest.mark.skipif(not COPYLEFT.exists(), reason="shared/samples/copyleft is not beside this clone")
@pytest.mark.parametrize("name", ["smashpig_payout_reconciliation_itemized_settlement_report.csv",
                                  "wmf_crm_payments_activity_shuffled_columns.csv"])
def test_report_exports_without_utc_columns_are_refused(name: str) -> None:
    # These carry `created`/`available_on` (the report's own time zone, not stated in the file) instead of
    # `created_utc`/`available_on_utc`; loading them would shift business dates by an unknown offset.
    path = COPYLEFT / name
    header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert "created" in header and "created_utc" not in header
    with pytest.raises(ParseError) as err:
        _parse(path)
    assert err.value.field == "created_utc" and err.value.line == 1


@pytest.mark.skipif(not COPYLEFT.exists(), reason="shared/samples/copyleft is not beside this clone")
def test_smashpig_report_with_utc_columns_is_refused_for_its_inconsistent_payout_row(tmp_path: Path) -> None:
    # With the time columns declared UTC, the file's one real defect shows: its payout row has gross 24 and net
    # 23.05 with fee 0. We refuse it naming that line; without that row every other line reads, and the counts
    # and totals agree with the file read independently with the csv module.
    text = (COPYLEFT / "smashpig_payout_reconciliation_itemized_settlement_report.csv").read_text(encoding="utf-8-sig")
    header, rest = text.split("\n", 1)
    header = header.replace("created,", "created_utc,").replace("available_on,", "available_on_utc,")
    fixed = tmp_path / "smashpig_utc.csv"
    fixed.write_text(header + "\n" + rest)
    with pytest.raises(ParseError) as err:
        _parse(fixed)
    assert (err.value.line, err.value.field) == (8, "net") and "(2305) is not gross (2400)" in err.value.reason

    lines = fixed.read_text().splitlines()
    without_payout = tmp_path / "smashpig_lines.csv"
    without_payout.write_text("\n".join(lines[:7] + lines[8:]) + "\n")
    rows = [r.values for r in _parse(without_payout)]
    raw = list(csv.DictReader(without_payout.open()))
    assert len(rows) == len(raw) == len(lines) - 2
    assert sum(r["net_minor"] for r in rows) == int(sum(Decimal(r["net"]) for r in raw) * 100)
    assert {"charge", "refund", "fee", "dispute_reversal"} <= {r["reporting_category"] for r in rows}


# ------------------------------------------------------------------------------------------------------------------
# BAI2, camt.053 and Adyen samples. Every file of these formats has a decided outcome (OUTCOMES): loaded (its row
# count and amounts checked against the file read independently: regexes, the csv module, the stdlib XML parser),
# or refused with the reason asserted. Permissive files are byte-for-byte copies under tests/fixtures/samples/;
# copyleft files are only read from ../shared/samples/copyleft/ and their tests skip when it is absent.

COPYLEFT_ROOT = SHARED_SAMPLES / "copyleft"
needs_copyleft = pytest.mark.skipif(not COPYLEFT_ROOT.exists(),
                                    reason="shared/samples/copyleft is not beside this clone")
SOURCE_OF = {"bai2": "bank_us", "camt053": "bank_eu", "adyen_settlement": "adyen"}
LOADED, REFUSED = "loaded", "refused"
OUTCOMES = {  # (license folder, format folder, file) -> outcome; the reasons are in the tests below
    ("permissive", "bai2", "moj_account_trailer_amount_blank.bai2"): LOADED,  # no 16 records: 0 rows
    ("permissive", "bai2", "moj_citidirect_gbp_fps_88_continuations.bai2"): LOADED,
    ("permissive", "bai2", "moj_natwest_gbp_multi_status_88_split_text.bai2"): LOADED,  # HH:MM:SS header time is fine
    ("permissive", "bai2", "moj_svb_us_multi_group_88_summary.bai2"): LOADED,
    ("permissive", "bai2", "moov_cad_two_accounts_fixed_width_text.txt"): LOADED,
    ("permissive", "bai2", "moov_gs_style_ach_wire_returns_88_continuations.txt"): REFUSED,  # 88:EREF; totals wrong
    ("permissive", "bai2", "moov_spec_section3_funds_distribution.txt"): LOADED,
    ("permissive", "camt053", "genkgo_camt053_v02_multi_statement.xml"): LOADED,
    ("permissive", "camt053", "genkgo_camt053_v08_multi_balance_types_dttm.xml"): REFUSED,  # OPBD EUR, CLBD SEK
    ("copyleft", "camt053", "oca_camt053_v02_abnamro_style_reversal_batch_return.xml"): REFUSED,  # GX: unbalanced
    ("copyleft", "camt053", "oca_camt053_v04_swiss_chf_batch_txdtls_isr.xml"): LOADED,
    ("copyleft", "adyen_settlement", "oca_settlement_detail_report_batch_238.csv"): LOADED,
    ("copyleft", "adyen_settlement", "oca_settlement_detail_report_batch_380.csv"): LOADED,
    ("copyleft", "adyen_settlement", "smashpig_settlement_detail_report_inr_net_debit_extended_cols.csv"): LOADED,
    ("copyleft", "adyen_settlement", "smashpig_settlement_detail_report_reordered_columns.csv"): LOADED,
    ("copyleft", "adyen_settlement", "wmf_crm_settlement_detail_report_batch_1128.csv"): LOADED,
    ("copyleft", "adyen_settlement", "wmf_crm_settlement_detail_report_batch_2_deposit_correction.csv"): LOADED,
}


def _sample(license_folder: str, fmt: str, name: str) -> Path:
    if license_folder == "permissive":
        return FIXTURES / "samples" / fmt / name  # our own copy: these tests run in any clone
    return COPYLEFT_ROOT / fmt / name


def _read(fmt: str, path: Path) -> list[dict[str, Any]]:
    source = get_source(SOURCE_OF[fmt])
    return [r.values for r in get_parser(source.format)(source, path, path.name)]


def _refusal(fmt: str, path: Path) -> ParseError:
    with pytest.raises(ParseError) as err:
        _read(fmt, path)
    return err.value


def _line_of(path: Path, pattern: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                if re.search(pattern, line))


def _unexpected_rows(source_name: str, rows: list[dict[str, Any]]) -> dict[str, list[tuple]]:
    """Run the YAML's GX unexpected_rows queries on the rows, in SQLite, with {batch} rendered as GX renders it
    for a query asset (a derived table aliased `subselect`)."""
    source = get_source(source_name)
    con = sqlite3.connect(":memory:")
    con.execute(f"CREATE TABLE landed ({', '.join(source.column_names)})")
    for row in rows:
        values = [v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v
                  for v in (row[c] for c in source.column_names)]
        con.execute(f"INSERT INTO landed VALUES ({', '.join('?' * len(values))})", values)
    batch = "(SELECT * FROM landed) AS subselect"
    return {spec["description"]: con.execute(spec["unexpected_rows_query"].format(batch=batch)).fetchall()
            for spec in source.expectations if spec["type"] == "unexpected_rows"}


def _no_unexpected_rows(source_name: str, rows: list[dict[str, Any]]) -> None:
    found = _unexpected_rows(source_name, rows)
    assert found and all(v == [] for v in found.values()), found


def test_every_sample_of_these_formats_has_a_decided_outcome() -> None:
    present = {(lic, fmt, p.name) for lic in ("permissive", "copyleft") for fmt in SOURCE_OF
               for p in (SHARED_SAMPLES / lic / fmt).glob("*") if p.is_file()}
    if not SHARED_SAMPLES.exists():
        pytest.skip("shared/samples is not beside this clone")
    assert present - set(OUTCOMES) == set(), "a new sample needs a decided outcome and a test"


def test_permissive_fixtures_are_byte_for_byte_copies_with_their_source_noted() -> None:
    readme = (FIXTURES / "samples" / "README.md").read_text()
    for lic, fmt, name in OUTCOMES:
        if lic != "permissive":
            assert not (FIXTURES / "samples" / fmt / name).exists(), f"copyleft {name} must not be copied"
            continue
        copy = FIXTURES / "samples" / fmt / name
        assert copy.exists() and f"`{fmt}/{name}`" in readme
        shared = SHARED_SAMPLES / lic / fmt / name
        if shared.exists():
            assert copy.read_bytes() == shared.read_bytes(), f"{copy} is no longer a byte-for-byte copy"


# --- BAI2 ---------------------------------------------------------------------------------------------------------

def _bai2_details(path: Path) -> list[tuple[int, str, int]]:
    """(physical line, type code, amount) of each 16 record, by regex over the file's lines."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = re.match(r"16,(\d{3}),([+-]?\d+)", line)
        if match:
            found.append((number, match.group(1), int(match.group(2))))
    return found


@pytest.mark.parametrize("name", sorted(n for (lic, fmt, n), o in OUTCOMES.items() if fmt == "bai2" and o == LOADED))
def test_bai2_samples_load_with_the_files_16_records(name: str) -> None:
    path = _sample("permissive", "bai2", name)
    rows = _read("bai2", path)
    details = _bai2_details(path)
    assert len(rows) == len(details)
    assert sum(r["amount_minor"] for r in rows) == sum(amount for _, _, amount in details)
    assert [r["type_code"] for r in rows] == [code for _, code, _ in details]
    assert {r["direction"] for r in rows} <= {"credit", "debit"}
    _no_unexpected_rows("bank_us", rows)  # the GX control-total check agrees with the parser's


def test_bai2_blank_control_totals_load_as_null_with_no_rows() -> None:
    path = _sample("permissive", "bai2", "moj_account_trailer_amount_blank.bai2")
    assert re.findall(r"^49,,", path.read_text(), re.M) and _read("bai2", path) == []


def test_bai2_citidirect_continuations_become_the_text() -> None:
    path = _sample("permissive", "bai2", "moj_citidirect_gbp_fps_88_continuations.bai2")
    (row,) = _read("bai2", path)
    continuations = [line[3:].strip() for line in path.read_text().splitlines() if line.startswith("88,")]
    assert row["text"] == " ".join(continuations) and row["currency"] == "GBP"
    assert (row["bank_reference"], row["customer_reference"]) == ("1234567890", "RP12312312312312")
    assert (row["funds_type"], row["value_date"]) == ("V", date(2015, 7, 15))


def test_bai2_natwest_text_split_mid_word_and_group_without_currency() -> None:
    path = _sample("permissive", "bai2", "moj_natwest_gbp_multi_status_88_split_text.bai2")
    assert "14:59:35" in path.read_text().splitlines()[0]  # clock time, not HHMM: the header still reads
    rows = _read("bai2", path)
    assert {r["currency"] for r in rows} == {"GBP"}  # the 02 currency is empty; the 03 says GBP
    assert rows[-1]["text"].endswith("INTERNATIONAL-5373 CLIE NT SECCY AC TFR")  # joined with a space
    assert {r["direction"] for r in rows} == {"credit", "debit"}


def test_bai2_svb_two_groups_and_cad_sections_keep_their_dates() -> None:
    svb = _read("bai2", _sample("permissive", "bai2", "moj_svb_us_multi_group_88_summary.bai2"))
    assert [(r["account_section"], r["group_as_of_date"]) for r in svb] == [(1, date(2022, 2, 1)),
                                                                            (2, date(2022, 2, 2))]
    cad = _read("bai2", _sample("permissive", "bai2", "moov_cad_two_accounts_fixed_width_text.txt"))
    assert {r["account_section"] for r in cad} == {1, 2} and {r["currency"] for r in cad} == {"CAD"}
    assert all(r["funds_type"] == "V" and r["value_date"] in (date(2006, 3, 16), date(2006, 3, 17)) for r in cad)
    assert cad[0]["text"] == "RETURNED CHEQUE"  # fixed-width padding is not data
    spec = _read("bai2", _sample("permissive", "bai2", "moov_spec_section3_funds_distribution.txt"))
    assert spec[0]["currency"] == "USD"  # neither 03 nor 02 names one: the source's default_currency


def test_bai2_gs_sample_is_refused_for_its_malformed_88_and_then_for_its_totals(tmp_path: Path) -> None:
    path = _sample("permissive", "bai2", "moov_gs_style_ach_wire_returns_88_continuations.txt")
    error = _refusal("bai2", path)
    assert (error.line, error.field) == (_line_of(path, r"^88:EREF"), "record code")
    assert "is not a BAI2 record" in error.reason
    # Repaired, the file is still refused: its second account's 49 declares more records than it has (and a
    # negative control total its amounts cannot reach).
    lines = path.read_text().splitlines()
    repaired = tmp_path / path.name
    repaired.write_text("\n".join(re.sub(r"^88:", "88,", line) for line in lines))
    error = _refusal("bai2", repaired)
    start = _line_of(path, r"^03,107049932,")
    trailer = next(n for n in range(start, len(lines) + 1) if lines[n - 1].startswith("49,"))
    declared = int(lines[trailer - 1].split(",")[2].rstrip("/"))
    assert (error.line, error.field) == (trailer, "49 number_of_records")
    assert f"expected {declared}, found {trailer - start + 1}" in error.reason
    assert int(lines[trailer - 1].split(",")[1]) < 0


# --- camt.053 -----------------------------------------------------------------------------------------------------

def _camt_entries(path: Path) -> list[list[tuple[str, Decimal, str, str]]]:
    """Per Stmt: (currency, amount, CdtDbtInd, status) of each Ntry, read with the stdlib XML parser."""
    root = ElementTree.parse(path).getroot()
    statements = []
    for stmt in root.iterfind(".//{*}Stmt"):
        entries = []
        for ntry in stmt.findall("{*}Ntry"):
            amt = ntry.find("{*}Amt")
            status = ntry.find("{*}Sts")
            code = status.find("{*}Cd") if status is not None else None
            entries.append((amt.get("Ccy"), Decimal(amt.text), ntry.find("{*}CdtDbtInd").text,
                            (code if code is not None else status).text.strip()))
        statements.append(entries)
    return statements


def _camt_balance(path: Path, statement: int, code: str) -> int:
    stmt = ElementTree.parse(path).getroot().findall(".//{*}Stmt")[statement - 1]
    for bal in stmt.findall("{*}Bal"):
        if bal.find("{*}Tp/{*}CdOrPrtry/{*}Cd").text == code:
            value = int(Decimal(bal.find("{*}Amt").text) * 100)
            return -value if bal.find("{*}CdtDbtInd").text == "DBIT" else value
    raise AssertionError(code)


def _check_camt_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    statements = _camt_entries(path)
    assert len(rows) == sum(len(s) for s in statements)
    expected = [(ccy, int(amount * 100), {"CRDT": "credit", "DBIT": "debit"}[ind], sts)
                for s in statements for ccy, amount, ind, sts in s]
    assert [(r["currency"], r["amount_minor"], r["direction"], r["entry_status"]) for r in rows] == expected
    assert [r["statement_sequence"] for r in rows] == [n for n, s in enumerate(statements, start=1) for _ in s]


def test_camt_genkgo_v02_two_statements_chain_their_balances() -> None:
    path = _sample("permissive", "camt053", "genkgo_camt053_v02_multi_statement.xml")
    rows = _read("camt053", path)
    _check_camt_rows(path, rows)
    assert [(r["opening_balance_minor"], r["closing_balance_minor"]) for r in rows] == [
        (_camt_balance(path, 1, "OPBD"), _camt_balance(path, 1, "CLBD")),
        (_camt_balance(path, 2, "OPBD"), _camt_balance(path, 2, "CLBD"))]
    assert rows[0]["closing_balance_minor"] == rows[1]["opening_balance_minor"]
    assert [r["end_to_end_id"] for r in rows] == ["000000001", "000000002"]
    _no_unexpected_rows("bank_eu", rows)  # opening + booked credits - booked debits = closing, per statement


def test_camt_genkgo_v08_is_refused_for_balances_in_two_currencies(tmp_path: Path) -> None:
    path = _sample("permissive", "camt053", "genkgo_camt053_v08_multi_balance_types_dttm.xml")
    error = _refusal("camt053", path)
    assert (error.line, error.field) == (_line_of(path, r'<Amt Ccy="SEK">27\.00'), "Bal[CLBD]/Amt@Ccy")
    assert "different currencies (opening EUR, closing SEK)" in error.reason
    # With its CLBD put in the statement's currency, the v08 structure reads: nested Sts/Cd, BookgDt/DtTm with an
    # offset, the account as Othr/Id; and the statement balances (18.15 + 8.85 = 27.00).
    repaired = tmp_path / path.name
    repaired.write_text(re.sub(r'<Amt Ccy="SEK">27\.00</Amt>(\s*)<CdtDbtInd>DBIT',
                               r'<Amt Ccy="EUR">27.00</Amt>\1<CdtDbtInd>CRDT', path.read_text()))
    (row,) = _read("camt053", repaired)
    _check_camt_rows(repaired, [row])
    assert (row["entry_status"], row["booking_date"], row["value_date"]) == ("BOOK", date(2014, 12, 31),
                                                                           date(2015, 1, 2))
    assert (row["account_id"], row["bank_reference"]) == ("NL26VAYB8060476890", "AAAASESS-FP-CN_98765/01")
    assert (row["end_to_end_id"], row["remittance_text"]) == ("MUELL/FINP/RA12345", None)  # Strd only, no Ustrd
    _no_unexpected_rows("bank_eu", [row])


@needs_copyleft
def test_camt_oca_v02_reads_but_its_statement_does_not_balance() -> None:
    # The parser reads the three entries (the reversal flagged); the bank_eu GX gate then quarantines the file,
    # because opening + booked credits - booked debits is not the closing balance.
    path = _sample("copyleft", "camt053", "oca_camt053_v02_abnamro_style_reversal_batch_return.xml")
    rows = _read("camt053", path)
    _check_camt_rows(path, rows)
    assert [r["is_reversal"] for r in rows] == [0, 1, 0]
    assert rows[1]["end_to_end_id"] == "TESTBANK/NL/20141229/01206408 TESTBANK/NL/20141229/01206407"
    opening, closing = _camt_balance(path, 1, "OPBD"), _camt_balance(path, 1, "CLBD")
    booked = sum(int(a * 100) * (1 if d == "CRDT" else -1) for _, a, d, s in _camt_entries(path)[0] if s == "BOOK")
    assert opening + booked != closing
    (unbalanced,) = [v for k, v in _unexpected_rows("bank_eu", rows).items() if "closing" in k]
    assert unbalanced == [(1, opening, closing, booked)]


@needs_copyleft
def test_camt_oca_v04_swiss_statement_loads() -> None:
    path = _sample("copyleft", "camt053", "oca_camt053_v04_swiss_chf_batch_txdtls_isr.xml")
    assert "camt.053.001.04" in path.read_text()
    (row,) = _read("camt053", path)
    _check_camt_rows(path, [row])
    assert (row["entry_reference"], row["account_currency"], row["end_to_end_id"]) == ("012345678", None, None)
    assert row["additional_info"].startswith("CRÉDIT GROUPÉ BVR")
    _no_unexpected_rows("bank_eu", [row])


# --- Adyen --------------------------------------------------------------------------------------------------------

ADYEN_MONEY = {"gross_debit_minor": "Gross Debit (GC)", "gross_credit_minor": "Gross Credit (GC)",
               "net_debit_minor": "Net Debit (NC)", "net_credit_minor": "Net Credit (NC)",
               "commission_minor": "Commission (NC)", "markup_minor": "Markup (NC)",
               "scheme_fees_minor": "Scheme Fees (NC)", "interchange_minor": "Interchange (NC)"}
UTC_OFFSET_HOURS = {"CET": 1, "PST": -8, "PDT": -7}  # every sample row is in CET winter time, PST or PDT


def _adyen_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _minor(text: str, currency: str = "USD") -> int:  # JPY is the only sample currency without 2 decimals
    return int(Decimal(text).scaleb(0 if currency == "JPY" else 2)) if text else 0


@needs_copyleft
@pytest.mark.parametrize("name", sorted(n for (lic, fmt, n) in OUTCOMES if fmt == "adyen_settlement"))
def test_adyen_samples_load_every_row_with_the_files_amounts(name: str) -> None:
    path = _sample("copyleft", "adyen_settlement", name)
    rows, raw = _read("adyen_settlement", path), _adyen_csv(path)
    assert len(rows) == len(raw)
    assert Counter(r["type"] for r in rows) == Counter(r["Type"] for r in raw)
    for column, header in ADYEN_MONEY.items():
        currency = "Gross Currency" if "(GC)" in header else "Net Currency"
        assert sum(r[column] or 0 for r in rows) == sum(_minor(r[header], r[currency]) for r in raw), column
    for row, line in zip(rows, raw):
        local = datetime.strptime(line["Creation Date"], "%Y-%m-%d %H:%M:%S")
        assert row["created_utc"] == local - timedelta(hours=UTC_OFFSET_HOURS[line["TimeZone"]])
        assert row["psp_reference"] == (line["Psp Reference"] or None)
        assert row["batch_number"] == int(line["Batch Number"])


@needs_copyleft
@pytest.mark.parametrize("name, payouts", [
    ("oca_settlement_detail_report_batch_380.csv", {"USD"}),
    ("wmf_crm_settlement_detail_report_batch_1128.csv", {"USD", "CAD"}),
    ("wmf_crm_settlement_detail_report_batch_2_deposit_correction.csv", {"USD"}),
    ("oca_settlement_detail_report_batch_238.csv", set()),  # Balancetransfers in and out, a fee: no payout
])
def test_adyen_payout_rows_equal_the_net_of_their_lines(name: str, payouts: set[str]) -> None:
    path = _sample("copyleft", "adyen_settlement", name)
    rows, raw = _read("adyen_settlement", path), _adyen_csv(path)
    net: dict[str, int] = defaultdict(int)
    paid: dict[str, int] = {}
    for line in raw:  # read independently: the csv module and Decimal
        if line["Type"] == "MerchantPayout":
            paid[line["Net Currency"]] = _minor(line["Net Debit (NC)"])
        else:
            net[line["Net Currency"]] += _minor(line["Net Credit (NC)"]) - _minor(line["Net Debit (NC)"])
    assert set(paid) == payouts
    parsed_paid = {r["net_currency"]: r["net_debit_minor"] for r in rows if r["type"] == "MerchantPayout"}
    parsed_net: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["type"] != "MerchantPayout":
            parsed_net[r["net_currency"]] += (r["net_credit_minor"] or 0) - (r["net_debit_minor"] or 0)
    assert parsed_paid == paid and dict(parsed_net) == dict(net)
    assert all(paid[c] == net[c] for c in paid)
    if not payouts:
        assert net == {"EUR": 0} and {"Balancetransfer", "Fee"} == {r["type"] for r in rows}


@needs_copyleft
def test_adyen_quirks_read_as_adyen_means_them() -> None:
    wmf = _read("adyen_settlement", _sample("copyleft", "adyen_settlement",
                                            "wmf_crm_settlement_detail_report_batch_1128.csv"))
    settled = next(r for r in wmf if r["modification_reference"] == "10SYZ12345678910")
    assert (settled["net_credit_minor"], settled["commission_minor"], settled["scheme_fees_minor"]) == (91, None, 4)
    fx = next(r for r in wmf if r["gross_currency"] == "JPY")
    assert (fx["gross_credit_minor"], fx["net_currency"], fx["exchange_rate"]) == (3158, "USD", "0.006733333333333")
    deposit = _read("adyen_settlement", _sample("copyleft", "adyen_settlement",
                                                "wmf_crm_settlement_detail_report_batch_2_deposit_correction.csv"))
    payout = deposit[-1]  # says EUR gross, pays USD: the payout's currency is its net currency
    assert (payout["type"], payout["gross_currency"], payout["gross_debit_minor"], payout["gross_credit_minor"],
            payout["net_currency"], payout["net_debit_minor"]) == ("MerchantPayout", "EUR", None, None, "USD", 176)
    inr = _read("adyen_settlement", _sample("copyleft", "adyen_settlement",
                                            "smashpig_settlement_detail_report_inr_net_debit_extended_cols.csv"))
    assert [(r["type"], r["gross_currency"], r["gross_credit_minor"], r["net_currency"], r["net_debit_minor"])
            for r in inr] == [("Settled", "INR", 1000, "USD", 3)]  # fees above the gross: a net debit
    path = _sample("copyleft", "adyen_settlement", "smashpig_settlement_detail_report_reordered_columns.csv")
    assert next(csv.reader(path.open()))[-1] == "Psp Reference"
    assert _read("adyen_settlement", path)[0]["psp_reference"] == "5364893193133131"
