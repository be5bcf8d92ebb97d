"""The fast paths of landing a big CSV keep every check: the card-number pre-filters never miss what the exact
search finds, the one-pass TSV is byte for byte what the parser + write_tsv wrote, with the same errors, and the
record count is the lenient reader's."""
from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest

from recon.currencies import to_minor
from recon.ingest.tsv import format_value, write_tsv, write_tsv_lines
from recon.pan import CANDIDATE, _candidate, _GROUP, _RUN, bytes_may_hold_card_number, first_card_number
from recon.parsers.adyen import add_created_utc, check_adyen_row
from recon.parsers.base import ParseError
from recon.parsers.card_scan import file_may_hold_card_number, scan_csv
from recon.parsers.csv_table import RecordCount, _money, count_csv_records
from recon.parsers.registry import PARSERS, TSV_LINES
from recon.parsers.stripe import check_stripe_row
from recon.sources import get_source

pytestmark = pytest.mark.unit

CARDS = ("4111111111111111", "5555555555554444", "378282246310005", "6011000990139424", "3530111333300000",
         "2223000048400011", "6200000000000005", "5018000000000009", "4222222222222", "4111 1111 1111 1111",
         "4111-1111-1111-1111", "3782 822463 10005", "30569309025904", "2200000000000004")


def _exact(text: str) -> bool:
    """find_card_numbers without its pre-filter."""
    for run in _RUN.finditer(text):
        groups = [g.group() for g in _GROUP.finditer(run.group())]
        if any(_candidate(groups, first) for first in range(len(groups))):
            return True
    return False


def test_the_pre_filters_never_miss_a_card_number() -> None:
    rng = random.Random(20260105)
    alphabet = "0123456789 -.,ab\n\""
    hits = 0
    for _ in range(30_000):
        parts = []
        for _ in range(rng.randint(1, 6)):
            draw = rng.random()
            if draw < 0.3:
                parts.append(rng.choice(CARDS))
            elif draw < 0.6:
                parts.append("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 22))))
            else:
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))))
        text = "".join(parts)
        exact = _exact(text)
        hits += exact
        assert (first_card_number(text) is not None) == exact, text
        if exact:
            assert CANDIDATE.search(text) and bytes_may_hold_card_number(text.encode()), text
    assert hits > 3_000


def test_the_raw_pre_filter_skips_ids_and_dates_that_cannot_be_cards() -> None:
    assert not bytes_may_hold_card_number(b"txn_20260105000000001,2026-01-05 00:00:00,ch_202601050000000000,12.34")
    assert not bytes_may_hold_card_number(b"1005000000000000123,9000010000000001,order-20260105-123456")
    assert bytes_may_hold_card_number(b"x,4111111111111111,y") and bytes_may_hold_card_number(b"4111 1111 1111 1")


def test_a_card_number_across_the_raw_chunks_is_found(tmp_path: Path) -> None:
    clean = tmp_path / "clean.csv"
    clean.write_bytes(b"a,b\n" + b"1" * 1000 + b",2026-01-05\n" + b"5" * 40 + b"\n")
    for chunk in (*range(1, 30), *range(30, 120, 7)):  # the long digit runs cut at every place
        assert not file_may_hold_card_number(clean, chunk=chunk)
    first = tmp_path / "first.csv"
    first.write_bytes(b"4111111111111111,x\n")
    assert all(file_may_hold_card_number(first, chunk=chunk) for chunk in range(1, 30))
    for offset in range(0, 40, 3):
        path = tmp_path / f"f{offset}.csv"
        path.write_bytes(b"a,b\n" + b"x," * 100 + b"1" * 100 + b"," + b"y" * offset + b",4111 1111 1111 1111\n")
        for chunk in (*range(1, 30), *range(30, 120, 7)):  # the number cut at every place
            assert file_may_hold_card_number(path, chunk=chunk)


def test_a_stray_quote_that_joins_digits_is_still_searched(tmp_path: Path) -> None:
    # the lenient reader reads '"4111111"111111111' as 4111111111111111: not in the raw bytes as one run
    path = tmp_path / "q.csv"
    path.write_text('id,description\n1,"4111111"111111111\n')
    assert not file_may_hold_card_number(path)
    found = scan_csv(path, "q.csv")
    assert found is not None and found.line == 2 and found.field == "description"


def test_a_card_number_after_many_records_names_its_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    rows = [f"{i},text {i}" for i in range(5000)]
    rows[4321] = "4321,paid with 5555 5555 5555 4444"
    path.write_text("id,note\n" + "\n".join(rows) + "\n")
    found = scan_csv(path, "late.csv")
    assert found is not None and (found.line, found.field) == (4323, "note")


@pytest.mark.parametrize("text, currency", [
    ("12.34", "USD"), ("-12.34", "USD"), ("12.3", "USD"), ("12.", "USD"), ("12", "JPY"), ("12.0", "JPY"),
    ("1.234", "KWD"), ("-0.00", "EUR"), ("0.50", "CLF"), ("10.590", "USD"), ("123456789012345.5", "USD"),
])
def test_money_fast_path_is_to_minor(text: str, currency: str) -> None:
    assert _money(text, currency) == to_minor(text, currency)


@pytest.mark.parametrize("text, currency", [("12.345", "USD"), ("1.5", "JPY"), ("+1", "USD"), (".5", "USD"),
                                            ("1,000.00", "USD"), ("1e3", "USD"), ("--1", "USD")])
def test_money_fast_path_refuses_as_to_minor(text: str, currency: str) -> None:
    try:
        expected = to_minor(text, currency)
    except ValueError as exc:
        with pytest.raises(ValueError) as got:
            _money(text, currency)
        assert str(got.value) == str(exc)
    else:
        assert _money(text, currency) == expected


def test_timestamps_format_as_strftime_did() -> None:
    for value in (datetime(2026, 1, 5), datetime(2026, 1, 5, 1, 2, 3, 4), datetime(999, 1, 1, 0, 0, 0, 5)):
        assert format_value(value) == value.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_adyen_created_utc_is_unchanged() -> None:
    for local, zone, utc in (("2021-01-05 00:21:32", "CET", "2021-01-04 23:21:32"),
                             ("2021-01-05 00:21:32", "UTC", "2021-01-05 00:21:32"),
                             ("2021-07-05 00:21:32", "PDT", "2021-07-05 07:21:32"),
                             ("2021-1-5 0:21:32", "UTC", "2021-01-05 00:21:32")):
        assert add_created_utc({"Creation Date": local, "TimeZone": zone})["created_utc"] == utc
    for local, zone in (("2021-03-28 02:30:00", "Europe/Amsterdam"), ("2021-02-30 00:00:00", "UTC"),
                        ("2021-01-05 00:00:00", "CST")):
        with pytest.raises(ValueError):
            add_created_utc({"Creation Date": local, "TimeZone": zone})


STRIPE_HEADER = ("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,"
                 "available_on_utc,currency,gross,fee,net,reporting_category,source_id,description\n")


def _stripe(i: int, description: str = "x", gross: str = "10.00") -> str:
    return (f"po_1,2026-01-07 00:00:00,txn_{i},2026-01-05T10:00:00Z,,usd,{gross},0.50,"
            f"{float(gross) - 0.5:.2f},charge,ch_{i},{description}\n")


def _both(tmp_path: Path, source_name: str, body: str) -> tuple[object, object]:
    """(old, new): the parser's rows through write_tsv, and the one-pass TSV lines; each the file's bytes and
    count, or the error's text."""
    source = get_source(source_name)
    path = tmp_path / "in.csv"
    path.write_text(body, newline="")
    results = []
    for kind in ("old", "new"):
        out = tmp_path / f"{kind}.tsv"
        try:
            if kind == "old":
                rows = ((r.line, r.values) for r in PARSERS[source.format](source, path, "in.csv"))
                written = write_tsv(out, source.column_names, rows)
                results.append((out.read_bytes(), written.rows, count_csv_records(path), written.sha256))
            else:
                count = RecordCount()
                written = write_tsv_lines(out, TSV_LINES[source.format](source, path, "in.csv", count), batch=3)
                results.append((out.read_bytes(), written.rows, count.records, written.sha256))
        except ParseError as exc:
            results.append(str(exc))
    return results[0], results[1]


@pytest.mark.parametrize("body", [
    STRIPE_HEADER + "".join(_stripe(i) for i in range(10)),
    STRIPE_HEADER + _stripe(1, "tab\there") + _stripe(2, "back\\slash \\N") + _stripe(3, '"quoted, with\nnewline"'),
    STRIPE_HEADER + _stripe(1) + "\n\n" + _stripe(2, "café") + "\r\n",
    STRIPE_HEADER + _stripe(1) + _stripe(2, gross="1.234"),
    STRIPE_HEADER + _stripe(1) + _stripe(2).replace("usd", "usx"),
    STRIPE_HEADER + _stripe(1) + _stripe(2).replace("2026-01-05T10:00:00Z", "2026-02-30 10:00:00"),
    STRIPE_HEADER + _stripe(1) + _stripe(2).replace(",charge,", ",refund,"),
    STRIPE_HEADER + _stripe(1) + "po_1,2026-01-07\n",
    STRIPE_HEADER + _stripe(1) + '1,"a"b\n',
    STRIPE_HEADER.replace("currency,", "") + "x\n",
    "",
])
def test_the_one_pass_tsv_is_the_parsers_tsv(tmp_path: Path, body: str) -> None:
    old, new = _both(tmp_path, "stripe", body)
    assert old == new


ADYEN_HEADER = ("Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,"
                "TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,"
                "Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),"
                "Interchange (NC),Batch Number\n")
ADYEN_ROWS = [
    "RC,RM,1111111111111111,ORD-1,visa,2026-01-05 00:30:00,CET,Settled,1111111111111111,EUR,,100.00,1,EUR,,98.00,"
    "1.00,0.50,0.30,0.20,1001",
    "RC,RM,1111111111111111,ORD-1,visa,2026-01-05 09:00:00,UTC,Refunded,3333333333333333,EUR,20.00,,1,EUR,20.00,,,,,,"
    "1001",
    "RC,RM,,Fees,,2026-01-05 23:00:00,CET,Fee,,EUR,,,,EUR,0.50,,,,,,1001",
    "RC,RM,,,,2026-01-05 23:59:00,PST,MerchantPayout,,EUR,,,,EUR,77.50,,,,,,1001",
]


def test_the_one_pass_adyen_tsv_is_the_parsers_tsv(tmp_path: Path) -> None:
    good = ADYEN_HEADER + "\n".join(ADYEN_ROWS) + "\n"
    old, new = _both(tmp_path, "adyen", good)
    assert old == new and isinstance(new, tuple) and new[1] == len(ADYEN_ROWS)
    for bad in (good.replace("UTC", "Mars/Base", 1), good.replace(",Settled,", ",Settled\t,", 1)):
        old, new = _both(tmp_path, "adyen", bad)
        assert old == new


def test_row_checks_still_apply() -> None:
    with pytest.raises(ValueError):
        check_stripe_row({"reporting_category": "charge", "gross_minor": -1, "fee_minor": 0, "net_minor": -1,
                          "source_id": "ch_1"})
    with pytest.raises(ValueError):
        check_adyen_row({"type": "Settled", "gross_credit_minor": None, "psp_reference": "1"})
