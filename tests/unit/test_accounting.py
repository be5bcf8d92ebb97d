"""Row accounting without services: each format's record counter (the manifest's rows_read) agrees with its parser
on every file that parses and still counts the files the parser refuses; the land step refuses a file whose
parser output does not match that count; a file's numbers must add up; runaway lines are refused in bounded memory.
The gate on the warehouse is tested in tests/integration/test_accounting_gate.py."""
from __future__ import annotations

import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from conftest import FIXTURES, SHARED_SAMPLES
from recon import generator
from recon.ingest.accounting import FileAccount
from recon.ingest.land import _parse_to_tsv
from recon.parsers.base import ParsedRow, ParseError
from recon.parsers.registry import RECORD_COUNTERS, count_records, find_card_number, get_parser
from recon.sources import all_sources, get_source

pytestmark = pytest.mark.unit
SOURCES = {"stripe_payout_csv": "stripe", "adyen_settlement_csv": "adyen", "bai2": "bank_us", "camt053": "bank_eu"}
FOLDERS = {"stripe": "stripe_payout_csv", "adyen": "adyen_settlement_csv", "adyen_settlement": "adyen_settlement_csv",
           "bank_us": "bai2", "bai2": "bai2", "bank_eu": "camt053", "camt053": "camt053"}
STRIPE_HEADER = ("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,"
                 "available_on_utc,currency,gross,fee,net,reporting_category,source_id,description\n")


def _stripe_line(txn: str, gross: str = "10.00") -> str:
    return f"po_1,,{txn},2026-01-05 10:00:00,,usd,{gross},0.00,{gross},charge,ch_{txn},x\n"


def _files() -> list[tuple[str, Path]]:
    roots = [FIXTURES / "samples", SHARED_SAMPLES / "permissive", SHARED_SAMPLES / "copyleft"]
    found = []
    for path in sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()):
        kind = next((FOLDERS[part] for part in reversed(path.parts) if part in FOLDERS), None)
        if kind is not None:
            found.append((kind, path))
    return found


def test_every_file_format_has_a_record_counter() -> None:
    assert {s.format for s in all_sources().values() if s.kind == "file"} <= set(RECORD_COUNTERS)
    with pytest.raises(KeyError, match="no record counter for format 'mt940'"):
        count_records("mt940", FIXTURES / "samples" / "README.md")


def test_counters_agree_with_the_parsers_on_every_sample() -> None:
    parsed = refused = 0
    for kind, path in _files():
        counted = count_records(kind, path)
        try:
            rows = list(get_parser(kind)(get_source(SOURCES[kind]), path, path.name))
        except ParseError:
            refused += 1
            continue
        parsed += 1
        assert counted == len(rows), (path, counted, len(rows))
    assert parsed >= 10 and refused >= 1


def test_counters_agree_with_the_parsers_on_generated_data(tmp_path: Path) -> None:
    generator.generate(tmp_path, days=5, per_day=150, seed=11, start=date(2026, 1, 5))
    checked = 0
    for path in sorted((tmp_path / "s3").rglob("*.*")):
        kind = FOLDERS[path.parts[-5]]
        rows = list(get_parser(kind)(get_source(SOURCES[kind]), path, path.name))
        assert count_records(kind, path) == len(rows), path
        checked += 1
    assert checked == 20


@pytest.mark.parametrize("kind, text, expected", [
    # CSV: non-blank records after the header, whatever their content; quoted newlines stay one record
    ("stripe_payout_csv", STRIPE_HEADER + _stripe_line("a") + "\n" + _stripe_line("b", "1O.00") + _stripe_line("c"), 3),
    ("stripe_payout_csv", STRIPE_HEADER + 'po_1,,a,2026-01-05,,usd,1,0,1,charge,ch,"two\nlines"\n', 1),
    ("stripe_payout_csv", "", 0),
    ("stripe_payout_csv", STRIPE_HEADER, 0),
    ("stripe_payout_csv", STRIPE_HEADER.replace(",", ";") + "a;b\nc;d\n", 2),
    # BAI2: 16 records, also when a trailer does not check
    ("bai2", "01,S,R,260105,0800,F1,,,2/\n16,165,1,,,,x/\n88,more\n16,165,2,,,,y/\n99,3,1,99/\n", 2),
    # camt.053: Ntry elements; with a DOCTYPE (never parsed) or not well-formed: Ntry start tags
    ("camt053", "<Document><Stmt><Ntry/><Ntry><A/></Ntry></Stmt></Document>", 2),
    ("camt053", '<!DOCTYPE d [<!ENTITY e "x">]><Document><Stmt><Ntry>&e;</Ntry><ns:Ntry x="1"/></Stmt>', 2),
    ("camt053", "<Document><Stmt><Ntry><NtryRef>1</NtryRef></Ntry><Ntry>", 2),
])
def test_refused_files_are_still_counted(tmp_path: Path, kind: str, text: str, expected: int) -> None:
    path = tmp_path / "f.dat"
    path.write_text(text)
    assert count_records(kind, path) == expected


def test_a_parser_that_drops_a_row_is_refused_at_land(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(STRIPE_HEADER + _stripe_line("a") + _stripe_line("b"))
    stripe = get_source("stripe")
    real = get_parser("stripe_payout_csv")

    def drops_the_last_row(source, file_path, file_name):  # a parser defect: one record silently skipped
        return iter(list(real(source, file_path, file_name))[:-1])

    with pytest.raises(ParseError, match="the parser produced 1 rows but the file holds 2 records"):
        _parse_to_tsv(stripe, path, path.name, tmp_path / "out.tsv", drops_the_last_row, count_records(
            "stripe_payout_csv", path))
    written = _parse_to_tsv(stripe, path, path.name, tmp_path / "out.tsv", real, 2)
    assert written.rows == 2
    # the card-number gate runs first: a parser never sees a file holding one
    path.write_text(STRIPE_HEADER + _stripe_line("a").replace(",x\n", ",4111111111111111\n"))

    def never_called(*_: object) -> list[ParsedRow]:
        raise AssertionError("parsed a file holding a card number")

    with pytest.raises(ParseError, match=r"full card number \(PAN\): \*+1111"):
        _parse_to_tsv(stripe, path, path.name, tmp_path / "out.tsv", never_called, 1)


@pytest.mark.parametrize("numbers, status, problem", [
    ((5, 5, 0, 0), "loaded", None),
    ((5, 0, 0, 5), "quarantined", None),
    ((0, 0, 0, 0), "duplicate", None),
    ((7, 2, 5, 0), "loaded", None),  # a ledger extraction: 2 new versions, 5 already present
    ((5, 4, 0, 0), "loaded", "rows read 5 != rows published 4 + rows quarantined 0 (+1)"),
    ((5, 0, 0, 6), "quarantined", "rows read 5 != rows published 0 + rows quarantined 6 (-1)"),
    ((7, 2, 4, 0), "loaded", "rows read 7 != rows published 2 + rows already present 4 + rows quarantined 0"),
    ((5, None, 0, 0), "loaded", "has no row counts"),
    ((5, 5, 0, 0), "landed", "is not finished"),
])
def test_a_file_must_add_up(numbers: tuple, status: str, problem: str | None) -> None:
    account = FileAccount(7, "stripe_2026-01-05.csv", status, *numbers)
    if problem is None:
        assert account.problem() is None
    else:
        assert f"file 7 (stripe_2026-01-05.csv, {status})" in account.problem() and problem in account.problem()


def _peak_bytes(action) -> tuple[int, object]:
    tracemalloc.start()
    try:
        try:
            result: object = action()
        except ParseError as exc:
            result = exc
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind, prefix, suffix, field", [
    ("stripe_payout_csv", STRIPE_HEADER + _stripe_line("a").rstrip("x\n"), "\n" + _stripe_line("b"), "description"),
    ("bai2", "01,S,R,260105,0800,F1,,,2/\n02,R,B,1,260105,2400,USD,2/\n16,165,1,,BANKREF,CUST,", "\n99,1,1,3/\n",
     "16 text"),
])
def test_a_runaway_line_is_refused_in_bounded_memory(tmp_path: Path, kind: str, prefix: str, suffix: str,
                                                     field: str) -> None:
    size = 20 * 1024 * 1024
    path = tmp_path / "big"
    path.write_bytes(prefix.encode() + b"z" * size + suffix.encode())
    line = prefix.count("\n") + 1
    source = get_source(SOURCES[kind])
    peak, error = _peak_bytes(lambda: list(get_parser(kind)(source, path, path.name)))
    assert isinstance(error, ParseError) and (error.line, error.field) == (line, field)
    assert "longer than 1048576 characters" in error.reason
    assert peak < size / 2, f"parsing held {peak} bytes for a {size}-byte line"
    peak, counted = _peak_bytes(lambda: count_records(kind, path))
    assert counted == (2 if kind == "stripe_payout_csv" else 1) and peak < size / 2
    peak, found = _peak_bytes(lambda: find_card_number(kind, path, path.name))
    assert found is None and peak < size / 2
