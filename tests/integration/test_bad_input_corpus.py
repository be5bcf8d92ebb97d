"""The bad-input corpus through the real ingest path: each case's file is uploaded to the moto S3 bucket beside a
good file of the same source and business date, then the ingest DAG's own steps run (discover, land, audit,
publish with its row-accounting gate, archive). For every case: the expected outcome (loaded, quarantined,
duplicate, correction), the reason naming file, line and field, no row of a refused file in landing or staging,
the good file loaded, every file's rows accounted (read = published + quarantined), and no card number in clear
anywhere. The operators' table of these outcomes is docs/bad-input.md; the small files are in
tests/fixtures/bad_inputs/, the big ones are made here. Each case has its own business date, so one reset serves
the whole module."""
from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import pytest
from test_ingest import HEADER, _ingest, _line, _query  # the stripe helpers of the ingest tests
from test_ingest_banks_and_adyen import ADYEN_HEADER, ADYEN_ROWS
from unit.test_parsers_bai2 import VALID as BAI2_VALID
from unit.test_parsers_camt053 import _document as camt053_document

from conftest import FIXTURES
from recon import s3
from recon.settings import load_settings

pytestmark = pytest.mark.integration
BAD = FIXTURES / "bad_inputs"
FIRST_DAY = date(2026, 3, 2)
TEN_MB = 10 * 1024 * 1024
FULL_PANS = ("4111111111111111", "5555555555554444", "378282246310005", "4012888888881881", "4000056655665556")
SRC_TABLES = {"stripe": "stripe_payout_lines", "adyen": "adyen_settlement_lines", "bank_us": "bank_us_statement_lines",
              "bank_eu": "bank_eu_statement_lines"}
EXTENSIONS = {"stripe": "csv", "adyen": "csv", "bank_us": "bai2", "bank_eu": "xml"}


def _good(source: str, tag: str) -> tuple[bytes, int]:
    """A valid file of the source, unique to `tag` (so no two are duplicates), and its row count."""
    if source == "stripe":
        return (HEADER + _line(f"txn_{tag}_1", source_id=f"ch_{tag}_1") + _line(f"txn_{tag}_2", "7.50",
                                                                                  f"ch_{tag}_2")).encode(), 2
    if source == "adyen":
        return (ADYEN_HEADER + "\n".join(r.replace("ORD-1", f"ORD-{tag}") for r in ADYEN_ROWS) + "\n").encode(), 4
    if source == "bank_us":
        return BAI2_VALID.replace("F001", f"G{zlib.crc32(tag.encode()):08X}").encode(), 4  # the 01 file id
    return camt053_document(2).replace("MSG-2026-01-05", f"MSG-{tag}").encode(), 4


def _fixture(relative: str) -> Callable[[], bytes]:
    return lambda: (BAD / relative).read_bytes()


def _ten_mb_csv_line() -> bytes:
    # line 2 is one 10 MB record: its description never ends before the line limit
    return (HEADER + _line("big_1").rstrip("x\n") + "x" * TEN_MB + "\n").encode()


def _ten_mb_xml_line() -> bytes:
    # a statement written on one line (legal XML) whose remittance text is 10 MB
    text = camt053_document(2).replace("MSG-2026-01-05", "MSG-BIG").replace("\n", "")
    return text.replace("<Ustrd>second part</Ustrd>", f"<Ustrd>{'y' * TEN_MB}</Ustrd>", 1).encode()


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    body: Callable[[], bytes]
    expected: str  # loaded | quarantined | duplicate | correction
    rows_read: int
    fragments: tuple[str, ...] = ()  # in the manifest reason (the file name, line and field, the cause)
    name: str | None = None  # the object's name when not the fixture's own
    rows_published: int = 0
    first: Callable[[], bytes] | None = None  # duplicate / correction: the file delivered in an earlier run...
    first_name: str | None = None  # ...under this name (default: the same name)
    check: Callable[[int], None] | None = None  # more about the loaded rows (gets the bad file's id)

    def object_name(self) -> str:
        return self.name or f"{self.id}.{EXTENSIONS[self.source]}"


def _quoted_value_kept(file_id: int) -> None:
    rows = _query("SELECT description, _row_number FROM {raw}.src_stripe_payout_lines WHERE _file_id = %s "
                  "ORDER BY _row_number", file_id)
    assert rows == [('Refund, partial; see "ticket 7"\nsecond line', 2), ("x", 4)]


def _extra_columns_ignored(file_id: int) -> None:
    rows = _query("SELECT balance_transaction_id, gross_minor FROM {raw}.src_stripe_payout_lines WHERE _file_id = %s "
                  "ORDER BY _row_number", file_id)
    assert rows == [("ex_1", 1000), ("ex_2", 1000)]


def _reference_kept(file_id: int) -> None:
    assert _query("SELECT psp_reference FROM {raw}.src_adyen_settlement_lines WHERE _file_id = %s AND "
                  "type = 'Settled'", file_id) == [("4716098852529990",)]


CASES = [
    Case("empty_file", "stripe", _fixture("stripe/empty.csv"), "quarantined", 0,
         ("empty_file.csv, line 1, field 'header'", "the file is empty")),
    Case("header_only", "stripe", _fixture("stripe/header_only.csv"), "loaded", 0),
    Case("zero_rows_after_header", "stripe", _fixture("stripe/zero_rows_after_header.csv"), "loaded", 0),
    Case("truncated_last_line", "stripe", _fixture("stripe/truncated_last_line.csv"), "quarantined", 2,
         ("line 3, field 'available_on_utc'", "has 4 fields, the header has 12", "truncated")),
    Case("missing_required_column", "stripe", _fixture("stripe/missing_required_column.csv"), "quarantined", 1,
         ("line 1, field 'fee'", "missing required column(s): fee")),
    Case("unknown_extra_columns", "stripe", _fixture("stripe/unknown_extra_columns.csv"), "loaded", 2,
         rows_published=2, check=_extra_columns_ignored),
    Case("wrong_delimiter", "stripe", _fixture("stripe/wrong_delimiter.csv"), "quarantined", 1,
         ("line 1, field 'balance_transaction_id'", "delimited by something other than ','")),
    Case("non_utf8_bytes", "stripe", _fixture("stripe/non_utf8.csv"), "quarantined", 2,
         ("line 3, field 'description'", "not valid UTF-8: byte 0xE9")),
    Case("bom", "stripe", _fixture("stripe/bom.csv"), "loaded", 2, rows_published=2),
    Case("crlf", "stripe", _fixture("stripe/crlf.csv"), "loaded", 2, rows_published=2),
    Case("quoted_commas_newlines", "stripe", _fixture("stripe/quoted_commas_newlines.csv"), "loaded", 2,
         rows_published=2, check=_quoted_value_kept),
    Case("amount_thousands_separator", "stripe", _fixture("stripe/amount_thousands_separator.csv"), "quarantined", 2,
         ("line 3, field 'gross'", "'1,234.00' is not a decimal amount")),
    Case("amount_letters", "stripe", _fixture("stripe/amount_letters.csv"), "quarantined", 2,
         ("line 3, field 'fee'", "'O.30' is not a decimal amount")),
    Case("impossible_date", "stripe", _fixture("stripe/impossible_date.csv"), "quarantined", 2,
         ("line 3, field 'created_utc'", "'2026-02-30 10:00:00' is not a timestamp")),
    Case("ten_mb_single_line", "stripe", _ten_mb_csv_line, "quarantined", 1,
         ("line 2, field 'description'", "longer than 1048576 characters")),
    Case("pan_in_unknown_column", "stripe", _fixture("stripe/pan_in_unknown_column.csv"), "quarantined", 2,
         ("line 3, field 'card_number'", "full card number (PAN): ************1111 (Visa")),
    Case("pan_in_description", "stripe", _fixture("stripe/pan_in_description.csv"), "quarantined", 2,
         ("line 3, field 'description'", "************4444 (Mastercard")),
    Case("pan_in_reserved_column", "adyen", _fixture("adyen/pan_in_reserved_column.csv"), "quarantined", 4,
         ("line 3, field 'Reserved4'", "***********0005 (American Express")),
    Case("reference_shaped_like_a_card", "adyen", _fixture("adyen/reference_shaped_like_a_card.csv"), "loaded", 4,
         rows_published=4, check=_reference_kept),
    Case("bai2_wrong_record_count", "bank_us", _fixture("bank_us/wrong_record_count.bai2"), "quarantined", 4,
         ("line 16, field '99 number_of_records'", "expected 16, found 15")),
    Case("bai2_wrong_group_control_total", "bank_us", _fixture("bank_us/wrong_group_control_total.bai2"),
         "quarantined", 4, ("line 15, field '98 control_total'", "expected 266300, found 266200")),
    Case("bai2_pan_in_continuation_text", "bank_us", _fixture("bank_us/pan_in_continuation_text.bai2"),
         "quarantined", 4, ("line 8, field '16 text (88 continuation)'", "************1881 (Visa")),
    Case("camt053_entity_bomb", "bank_eu", _fixture("bank_eu/entity_bomb.xml"), "quarantined", 4,
         ("line 2, field 'DOCTYPE'", "billion laughs")),
    Case("camt053_external_entity", "bank_eu", _fixture("bank_eu/external_entity.xml"), "quarantined", 4,
         ("line 2, field 'DOCTYPE'", "external entity", "XXE")),
    Case("camt053_unknown_namespace", "bank_eu", _fixture("bank_eu/unknown_namespace.xml"), "quarantined", 4,
         ("line 2, field 'Document'", "'urn:example:acme:statement:v1' is not an ISO 20022 message")),
    Case("camt053_pan_in_remittance", "bank_eu", _fixture("bank_eu/pan_in_remittance.xml"), "quarantined", 4,
         ("line 27, field 'Ntry/NtryDtls/TxDtls/RmtInf/Ustrd'", "************5556 (Visa")),
    Case("camt053_ten_mb_single_line", "bank_eu", _ten_mb_xml_line, "quarantined", 4,
         ("line 1, field 'XML'", "exceeds the XML parser's safety limits", "Text node too long")),
    Case("key_with_dot_dot", "stripe", lambda: _good("stripe", "dotdot")[0], "quarantined", 0,
         ("unsafe object key: file name contains '..'",), name="report..2026-03.csv"),
    Case("key_not_nfc_unicode", "stripe", lambda: _good("stripe", "nfd")[0], "quarantined", 0,
         ("unsafe object key: file name has control or non-normalized Unicode",), name="rapport_e\u0301te.csv"),
    Case("key_with_bidi_override", "stripe", lambda: _good("stripe", "bidi")[0], "quarantined", 0,
         ("unsafe object key: file name has control or non-normalized Unicode",), name="report\u202evsc.exe.csv"),
    Case("same_bytes_new_name", "stripe", lambda: _good("stripe", "dup")[0], "duplicate", 0,
         ("same bytes as file",), name="report_copy.csv", first=lambda: _good("stripe", "dup")[0],
         first_name="report.csv"),
    Case("correction_same_name_new_bytes", "stripe", lambda: _good("stripe", "corr_v2")[0], "correction", 2,
         name="report.csv", rows_published=2, first=lambda: _good("stripe", "corr_v1")[0]),
]
RESULTS: dict[str, dict] = {}


def _put(source: str, day: date, name: str, body: bytes) -> str:
    key = f"inbound/{source}/{day:%Y/%m/%d}/{name}"
    s3.client().put_object(Bucket=load_settings().bucket, Key=key, Body=body)
    return key


def _manifest(source: str, day: date) -> list[dict]:
    columns = ("file_id", "object_key", "file_name", "status", "reason", "rows_read", "rows_published",
               "rows_already_present", "rows_quarantined", "duplicate_of", "supersedes", "archived_key")
    rows = _query(f"SELECT {', '.join(columns)} FROM {{raw}}.file_manifest WHERE source = %s AND business_date = %s "
                  "ORDER BY file_id", source, day)
    return [dict(zip(columns, row)) for row in rows]


def _texts_that_could_leak(source: str, day: date) -> str:
    """Everything an operator reads about the day: manifest reasons, step logs, run metrics."""
    texts = [r[0] or "" for r in _query("SELECT reason FROM {raw}.file_manifest WHERE business_date = %s", day)]
    texts += [r[0] or "" for r in _query("SELECT detail FROM {raw}.ingest_runs WHERE business_date = %s", day)]
    texts += [r[0] or "" for r in _query("SELECT detail FROM {raw}.pipeline_runs WHERE business_date = %s", day)]
    return "\n".join(texts)


@pytest.fixture(scope="module")
def corpus_namespace(stack: None) -> None:
    from recon.stack import manager

    manager.reset()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, corpus_namespace: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    day = FIRST_DAY + timedelta(days=CASES.index(case))
    good_body, good_rows = _good(case.source, case.id)
    good_name = f"good_{case.id}.{EXTENSIONS[case.source]}"
    expected_rows = good_rows + case.rows_published  # what staging must hold for the day at the end
    if case.first is not None:  # the earlier delivery, loaded by an earlier run with its own good file
        _put(case.source, day, case.first_name or case.object_name(), case.first())
        early_body, early_rows = _good(case.source, f"{case.id}_early")
        _put(case.source, day, f"earlier_{good_name}", early_body)
        _ingest(case.source, day)
        expected_rows += early_rows + (good_rows if case.expected == "duplicate" else 0)  # the original stays
    bad_key = _put(case.source, day, case.object_name(), case.body())
    _put(case.source, day, good_name, good_body)
    _ingest(case.source, day)

    files = _manifest(case.source, day)
    bad = [f for f in files if f["object_key"] == bad_key][-1]
    good = next(f for f in files if f["file_name"] == good_name)
    # the day's good file loaded, whatever happened to the bad one
    assert (good["status"], good["rows_read"], good["rows_published"]) == ("loaded", good_rows, good_rows)
    # the bad file's outcome, reason and numbers
    status = {"correction": "loaded"}.get(case.expected, case.expected)
    assert bad["status"] == status, bad
    for fragment in case.fragments:
        assert fragment in (bad["reason"] or ""), (fragment, bad["reason"])
    if status == "quarantined" and not bad["reason"].startswith("unsafe object key"):
        assert bad["reason"].startswith(f"{case.object_name()}, line "), bad["reason"]  # file, line (field) first
    assert bad["rows_read"] == case.rows_read
    assert bad["rows_published"] == case.rows_published
    assert bad["rows_quarantined"] == (case.rows_read if status == "quarantined" else 0)
    if case.expected == "duplicate":
        original = next(f for f in files if f["file_id"] == bad["duplicate_of"])
        assert (original["file_name"], original["status"]) == (case.first_name, "loaded")
    if case.expected == "correction":
        earlier = next(f for f in files if f["file_id"] == bad["supersedes"])
        assert earlier["status"] == "superseded" and earlier["file_name"] == case.object_name()
    if case.check is not None:
        case.check(bad["file_id"])

    # every file of the day accounted for: rows read = published + already present + quarantined
    for f in files:
        assert None not in (f["rows_read"], f["rows_published"], f["rows_already_present"], f["rows_quarantined"]), f
        assert f["rows_read"] == f["rows_published"] + f["rows_already_present"] + f["rows_quarantined"], f
    # staging holds exactly the rows of the day's loaded files: nothing partial, nothing twice
    table = SRC_TABLES[case.source]
    loaded = {f["file_id"]: f["rows_published"] for f in files if f["status"] == "loaded"}
    published = dict(_query(f"SELECT _file_id, COUNT(*) FROM {{raw}}.src_{table} WHERE business_date = %s "
                            "GROUP BY _file_id", day))
    assert published == {k: v for k, v in loaded.items() if v}
    refused = [f["file_id"] for f in files if f["status"] in ("quarantined", "duplicate")]
    for file_id in refused:
        assert _query(f"SELECT COUNT(*) FROM {{raw}}.landing_{table} WHERE _file_id = %s", file_id) == [(0,)]
        assert _query(f"SELECT COUNT(*) FROM {{raw}}.src_{table} WHERE _file_id = %s", file_id) == [(0,)]
    duplicates = _query(f"SELECT COUNT(*) - COUNT(DISTINCT _file_id, _row_number) FROM {{raw}}.src_{table} "
                        "WHERE business_date = %s", day)[0][0]
    assert duplicates == 0
    # the bad file is archived where its outcome says, never left in inbound/
    folder = "quarantine" if status == "quarantined" else "processed"
    assert (bad["archived_key"] or "").startswith(f"{folder}/{case.source}/{day:%Y/%m/%d}/"), bad["archived_key"]
    # no card number in clear in what operators read, nor in the logs
    leaks = _texts_that_could_leak(case.source, day) + "\n" + caplog.text
    for pan in FULL_PANS:
        assert pan not in re.sub(r"[ -]", "", leaks)
    RESULTS[case.id] = {"source": case.source, "outcome": case.expected, "status": bad["status"],
                        "reason": bad["reason"] or "", "expected_rows": expected_rows,
                        "published_rows": sum(published.values()), "rows_read": sum(f["rows_read"] for f in files),
                        "rows_accounted": sum(f["rows_published"] + f["rows_already_present"] + f["rows_quarantined"]
                                              for f in files),
                        "duplicates": duplicates}


def test_corpus_totals(corpus_namespace: None) -> None:
    """The closing figures over the whole corpus: every case ran, rows lost 0, duplicates created 0."""
    if len(RESULTS) != len(CASES):
        pytest.skip(f"only {len(RESULTS)} of {len(CASES)} cases ran (run the whole module for the totals)")
    outcomes: dict[str, int] = {}
    for result in RESULTS.values():
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
    lost = sum(r["expected_rows"] - r["published_rows"] for r in RESULTS.values())
    unaccounted = sum(r["rows_read"] - r["rows_accounted"] for r in RESULTS.values())
    duplicates = sum(r["duplicates"] for r in RESULTS.values())
    print(f"\nbad-input corpus: {len(CASES)} cases, outcomes {outcomes}, rows lost {lost}, rows unaccounted "
          f"{unaccounted}, duplicates created {duplicates}")
    for case_id, result in RESULTS.items():
        print(f"  {case_id:34} {result['source']:8} {result['outcome']:12} {result['reason'][:110]}")
    assert (lost, unaccounted, duplicates) == (0, 0, 0)
    assert sum(outcomes.values()) == len(CASES) >= 30
