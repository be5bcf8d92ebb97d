"""camt.053 parser (contract 1.5): one row per Ntry across versions 001.02-001.08, a hardened XML parser (no DTD,
no entities, no network), and refusals that name line and field."""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from recon.parsers import camt053
from recon.parsers.base import ParseError
from recon.parsers.registry import get_parser
from recon.sources import get_source

pytestmark = pytest.mark.unit

ENTRY = """<Ntry>
        <NtryRef>{ref}</NtryRef>
        <Amt Ccy="{ccy}">{amount}</Amt>
        <CdtDbtInd>{direction}</CdtDbtInd>
        {reversal}
        {status}
        <BookgDt>{booked}</BookgDt>
        <ValDt><Dt>2026-01-06</Dt></ValDt>
        <AcctSvcrRef>BANKREF-{ref}</AcctSvcrRef>
        <NtryDtls>
          <TxDtls><Refs><EndToEndId>BATCH 1001</EndToEndId></Refs>
            <RmtInf><Ustrd>Adyen payout</Ustrd><Ustrd>batch 1001</Ustrd></RmtInf></TxDtls>
          <TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
            <RmtInf><Ustrd>second part</Ustrd></RmtInf></TxDtls>
        </NtryDtls>
        <AddtlNtryInf>SEPA CT</AddtlNtryInf>
      </Ntry>"""
BALANCE = """<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{ccy}">{amount}</Amt>
        <CdtDbtInd>{direction}</CdtDbtInd><Dt><Dt>2026-01-05</Dt></Dt></Bal>"""


def _status(version: int, code: str) -> str:
    return f"<Sts><Cd>{code}</Cd></Sts>" if version >= 8 else f"<Sts>{code}</Sts>"


def _entry(version: int, ref: str, amount: str, direction: str, status: str = "BOOK", reversal: str = "",
           ccy: str = "EUR", booked: str = "<Dt>2026-01-05</Dt>") -> str:
    return ENTRY.format(ref=ref, ccy=ccy, amount=amount, direction=direction, status=_status(version, status),
                        reversal=f"<RvslInd>{reversal}</RvslInd>" if reversal else "", booked=booked)


def _document(version: int = 2, namespace: str | None = None) -> str:
    ns = namespace if namespace is not None else f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version:02d}"
    eur = "\n      ".join([
        BALANCE.format(code="OPBD", ccy="EUR", amount="1000.00", direction="CRDT"),
        BALANCE.format(code="OPAV", ccy="SEK", amount="5.00", direction="DBIT"),  # not booked: ignored
        BALANCE.format(code="CLBD", ccy="EUR", amount="2300.00", direction="CRDT"),
        _entry(version, "E1", "1500.00", "CRDT", reversal="false"),
        _entry(version, "E2", "200.00", "DBIT", reversal="true", booked="<DtTm>2026-01-05T23:30:00+01:00</DtTm>"),
        _entry(version, "E3", "50.00", "CRDT", status="PDNG"),
    ])
    kwd = "\n      ".join([
        BALANCE.format(code="PRCD", ccy="KWD", amount="1.000", direction="DBIT"),
        BALANCE.format(code="CLBD", ccy="KWD", amount="0.500", direction="CRDT"),
        _entry(version, "K1", "1.500", "CRDT", ccy="KWD"),
    ])
    xmlns = f' xmlns="{ns}"' if ns else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document{xmlns}>
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-2026-01-05</MsgId><CreDtTm>2026-01-05T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-EUR-1</Id>
      <Acct><Id><IBAN>NL26VAYB8060476890</IBAN></Id><Ccy>EUR</Ccy></Acct>
      {eur}
    </Stmt>
    <Stmt>
      <Id>STMT-KWD-1</Id>
      <Acct><Id><Othr><Id>KW-ACC-9</Id></Othr></Id></Acct>
      {kwd}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def _parse(tmp_path: Path, text: str | bytes, name: str = "bank_eu_2026-01-05.xml") -> list:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return list(get_parser("camt053")(get_source("bank_eu"), path, name))


def _refused(tmp_path: Path, text: str | bytes) -> ParseError:
    with pytest.raises(ParseError) as err:
        _parse(tmp_path, text)
    assert err.value.line is not None and err.value.field, f"{err.value} names no line or field"
    return err.value


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


@pytest.mark.parametrize("version", [2, 3, 4, 5, 6, 7, 8])
def test_every_supported_version_reads_alike(tmp_path: Path, version: int) -> None:
    text = _document(version)
    rows = _parse(tmp_path, text)
    assert [r.line for r in rows] == [_line_of(text, "<Ntry>", n) for n in (1, 2, 3, 4)]
    first, reversal, pending, kwd = (r.values for r in rows)
    assert first == {
        "message_id": "MSG-2026-01-05", "statement_id": "STMT-EUR-1", "statement_sequence": 1,
        "account_id": "NL26VAYB8060476890", "account_currency": "EUR", "entry_sequence": 1, "entry_reference": "E1",
        "bank_reference": "BANKREF-E1", "currency": "EUR", "amount_minor": 150000, "direction": "credit",
        "is_reversal": 0, "entry_status": "BOOK", "booking_date": date(2026, 1, 5), "value_date": date(2026, 1, 6),
        "end_to_end_id": "BATCH 1001", "remittance_text": "Adyen payout batch 1001 second part",
        "additional_info": "SEPA CT", "balance_currency": "EUR", "opening_balance_minor": 100000,
        "closing_balance_minor": 230000,
    }
    # DtTm keeps the bank's own calendar day (23:30 at +01:00 is still the 5th)
    assert (reversal["direction"], reversal["is_reversal"], reversal["booking_date"]) == ("debit", 1, date(2026, 1, 5))
    assert (pending["entry_status"], pending["is_reversal"], pending["entry_sequence"]) == ("PDNG", 0, 3)
    assert (kwd["statement_sequence"], kwd["entry_sequence"], kwd["account_id"], kwd["account_currency"]) == (
        2, 1, "KW-ACC-9", None)
    # KWD has 3 decimals; PRCD stands in for a missing OPBD; a DBIT balance is negative
    assert (kwd["amount_minor"], kwd["opening_balance_minor"], kwd["closing_balance_minor"]) == (1500, -1000, 500)


def test_a_document_without_namespace_is_read(tmp_path: Path) -> None:
    assert len(_parse(tmp_path, _document(2, namespace=""))) == 4


@pytest.mark.parametrize("namespace, words", [
    ("urn:iso:std:iso:20022:tech:xsd:camt.052.001.02", "message type camt.052.001.02 is not supported"),
    ("urn:iso:std:iso:20022:tech:xsd:camt.054.001.08", "message type camt.054.001.08 is not supported"),
    ("urn:iso:std:iso:20022:tech:xsd:camt.053.001.13", "message type camt.053.001.13 is not supported"),
    ("urn:iso:std:iso:20022:tech:xsd:pain.001.001.03", "message type pain.001.001.03 is not supported"),
    ("http://example.com/statement", "is not an ISO 20022 message"),
])
def test_other_messages_are_refused_by_name(tmp_path: Path, namespace: str, words: str) -> None:
    error = _refused(tmp_path, _document(2, namespace=namespace))
    assert (error.line, error.field) == (2, "Document") and words in error.reason


def test_a_document_that_is_not_a_statement_is_refused(tmp_path: Path) -> None:
    text = _document(2).replace("BkToCstmrStmt>", "BkToCstmrAcctRpt>")
    error = _refused(tmp_path, text)
    assert error.field == "BkToCstmrStmt" and "not a camt.053 statement" in error.reason


@pytest.mark.parametrize("old, new, needle, field, words", [
    ("<CdtDbtInd>CRDT</CdtDbtInd>\n        <RvslInd>false", "<CdtDbtInd>CRED</CdtDbtInd>\n        <RvslInd>false",
     "<CdtDbtInd>CRED", "Ntry/CdtDbtInd", "'CRED' is not one of CRDT, DBIT"),
    ("<RvslInd>true</RvslInd>", "<RvslInd>yes</RvslInd>", "<RvslInd>yes", "Ntry/RvslInd", "'yes'"),
    ('<Amt Ccy="EUR">1500.00</Amt>', '<Amt Ccy="EUR">-1500.00</Amt>', "-1500.00", "Ntry/Amt", "negative"),
    ('<Amt Ccy="EUR">1500.00</Amt>', '<Amt Ccy="EUR">1500.001</Amt>', "<Ntry>", "Ntry/Amt", "more decimals"),
    ('<Amt Ccy="EUR">1500.00</Amt>', '<Amt Ccy="EUX">1500.00</Amt>', "<Ntry>", "Ntry/Amt@Ccy", "ISO 4217"),
    ('<Amt Ccy="EUR">1500.00</Amt>', '<Amt>1500.00</Amt>', "<Ntry>", "Ntry/Amt@Ccy", "empty"),
    ("<Sts>BOOK</Sts>", "", "<Ntry>", "Ntry/Sts", "empty"),
    ("<ValDt><Dt>2026-01-06</Dt>", "<ValDt><Dt>2026-13-06</Dt>", "<Ntry>", "Ntry/ValDt", "not a date"),
    ("<EndToEndId>BATCH 1001</EndToEndId>", "<EndToEndId>" + "E" * 1025 + "</EndToEndId>", "<Ntry>",
     "Ntry/NtryDtls/TxDtls/Refs/EndToEndId", "more than 1024"),
    ("<MsgId>MSG-2026-01-05</MsgId>", "<MsgId></MsgId>", "<Ntry>", "GrpHdr/MsgId", "empty"),
    ('<Amt Ccy="EUR">2300.00</Amt>', '<Amt Ccy="USD">2300.00</Amt>', '"USD">2300.00', "Bal[CLBD]/Amt@Ccy",
     "different currencies (opening EUR, closing USD)"),
    ('<Amt Ccy="EUR">2300.00</Amt>\n        <CdtDbtInd>CRDT', '<Amt Ccy="EUR">2300.00</Amt>\n        <CdtDbtInd>X',
     "<CdtDbtInd>X", "Bal/CdtDbtInd", "not CRDT or DBIT"),
    ('<Amt Ccy="EUR">2300.00</Amt>', '<Amt Ccy="EUR">2,300.00</Amt>', "2,300.00", "Bal/Amt", "not a decimal"),
    ("<Cd>OPAV</Cd>", "<Cd>OPBD</Cd>", "<Cd>OPBD</Cd>", "Bal[OPBD]", "a second OPBD"),
])
def test_bad_entries_and_balances_name_line_and_field(tmp_path: Path, old: str, new: str, needle: str, field: str,
                                                      words: str) -> None:
    text = _document(2)
    assert old in text
    changed = text.replace(old, new, 1)
    error = _refused(tmp_path, changed)
    occurrence = 2 if field == "Bal[OPBD]" else 1  # the second OPBD is the one refused
    assert (error.line, error.field) == (_line_of(changed, needle, occurrence), field)
    assert words in error.reason


def test_malformed_xml_names_its_line(tmp_path: Path) -> None:
    text = _document(2).replace("</Id>\n      <Acct>", "</Idx>\n      <Acct>", 1)
    error = _refused(tmp_path, text)
    assert error.field == "XML" and error.line == _line_of(text, "</Idx>") and "well-formed" in error.reason
    assert _refused(tmp_path, b"").field == "XML"


# --- hardening: untrusted XML never resolves entities, loads DTDs or touches the network ---

def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    return secret


def test_xxe_is_refused_and_nothing_is_read(tmp_path: Path) -> None:
    secret = _secret(tmp_path)
    body = _document(2).split("\n", 1)[1].replace("MSG-2026-01-05", "&xxe;")
    text = f'<?xml version="1.0"?>\n<!DOCTYPE Document [\n  <!ENTITY xxe SYSTEM "file://{secret}">\n]>\n{body}'
    error = _refused(tmp_path, text)
    assert (error.line, error.field) == (2, "DOCTYPE") and "XXE" in error.reason
    assert "TOP-SECRET" not in str(error)


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/camt.dtd">',                      # external DTD (network)
    '<!DOCTYPE Document [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',      # parameter entity
    '<!doctype Document>',
])
def test_any_doctype_is_refused(tmp_path: Path, doctype: str) -> None:
    text = f'<?xml version="1.0"?>\n{doctype}\n' + _document(2).split("\n", 1)[1]
    error = _refused(tmp_path, text)
    assert (error.line, error.field) == (2, "DOCTYPE")


def _billion_laughs(encoding: str) -> bytes:
    entities = "".join(f'  <!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">\n' for i in range(1, 10))
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE Document [\n  <!ENTITY lol0 "lol">\n{entities}]>\n'
            + _document(2).split("\n", 1)[1].replace("MSG-2026-01-05", "&lol9;"))
    return text.encode(encoding.lower().replace("utf-16", "utf-16"))


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16"])
def test_billion_laughs_is_refused_without_expanding(tmp_path: Path, encoding: str) -> None:
    started = time.monotonic()
    error = _refused(tmp_path, _billion_laughs(encoding))
    assert (error.line, error.field) == (2, "DOCTYPE") and "entity" in error.reason
    assert time.monotonic() - started < 1.0  # 10^9 "lol"s were never built


def test_the_xml_parser_itself_is_hardened(tmp_path: Path) -> None:
    # Defence in depth, should a DOCTYPE ever get past the byte scan: lxml with our settings does not read the
    # external entity (and does not fetch DTDs).
    secret = _secret(tmp_path)
    doc = (f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]><d>&xxe;</d>').encode()
    root = etree.fromstring(doc, parser=camt053._hardened_parser())
    assert "TOP-SECRET" not in etree.tostring(root).decode()
