"""camt.053 (bank_eu): one BkToCstmrStmt per statement date, one Stmt per currency account (EUR, KWD).

Written with xml.etree (text and attributes escaped by the library), in version 001.08 or 001.02: the two differ
here in the status (`<Sts><Cd>BOOK</Cd></Sts>` vs `<Sts>BOOK</Sts>`), the agent's BIC element and, in 001.08,
booking dates given as DtTm.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Sequence

from ..model import BankLine
from ..money import format_major
from .accounts import AccountDay

NAMESPACES: dict[str, str] = {
    "001.08": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
    "001.02": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02",
}
OWNER = "RECON FINTECH GMBH"
BANK_BIC = "COBADEFFXXX"
# (domain, family, sub-family) of the ISO bank transaction code, per purpose.
BANK_CODES: dict[str, tuple[str, str, str]] = {
    "ach_credit": ("PMNT", "RCDT", "ESCT"),
    "wire_credit": ("PMNT", "RCDT", "XBCT"),
    "interest": ("ACMT", "MCOP", "INTR"),
    "service_charge": ("ACMT", "MDOP", "CHRG"),
    "charge_reversal": ("ACMT", "MDOP", "CHRG"),
}
ADDITIONAL_INFO: dict[str, str] = {
    "ach_credit": "SEPA CREDIT TRANSFER", "wire_credit": "INCOMING PAYMENT", "interest": "INTEREST",
    "service_charge": "CHARGES", "charge_reversal": "CHARGES REVERSED",
}
_OFFSET = "+01:00"  # the bank's local time (CET)


def version_for(day_index: int) -> str:
    return "001.08" if day_index % 2 == 0 else "001.02"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _path(parent: ET.Element, tags: str, text: str) -> ET.Element:
    """`_path(x, "Tp/CdOrPrtry/Cd", "OPBD")`: nested elements, the last one holding the text."""
    for tag in tags.split("/"):
        parent = _sub(parent, tag)
    parent.text = text
    return parent


def _balance(stmt: ET.Element, code: str, amount_minor: int, currency: str, day: date) -> None:
    bal = _sub(stmt, "Bal")
    _path(bal, "Tp/CdOrPrtry/Cd", code)
    _sub(bal, "Amt", format_major(abs(amount_minor), currency), Ccy=currency)
    _sub(bal, "CdtDbtInd", "CRDT" if amount_minor >= 0 else "DBIT")
    _path(bal, "Dt/Dt", day.isoformat())


def _entry(stmt: ET.Element, line: BankLine, sequence: int, version: str) -> None:
    ntry = _sub(stmt, "Ntry")
    _sub(ntry, "NtryRef", str(sequence))
    _sub(ntry, "Amt", format_major(line.amount_minor, line.currency), Ccy=line.currency)
    _sub(ntry, "CdtDbtInd", "CRDT" if line.direction == "credit" else "DBIT")
    if line.is_reversal:
        _sub(ntry, "RvslInd", "true")
    if version == "001.08":
        _path(ntry, "Sts/Cd", line.status)
    else:
        _sub(ntry, "Sts", line.status)
    if line.status == "BOOK":
        if version == "001.08" and line.direction == "credit":
            _path(ntry, "BookgDt/DtTm", f"{line.statement_date.isoformat()}T10:15:00{_OFFSET}")
        else:
            _path(ntry, "BookgDt/Dt", line.statement_date.isoformat())
    if line.value_date is not None:
        _path(ntry, "ValDt/Dt", line.value_date.isoformat())
    _sub(ntry, "AcctSvcrRef", line.bank_reference)
    domain, family, sub_family = BANK_CODES[line.purpose]
    codes = _sub(_sub(ntry, "BkTxCd"), "Domn")
    _sub(codes, "Cd", domain)
    fmly = _sub(codes, "Fmly")
    _sub(fmly, "Cd", family)
    _sub(fmly, "SubFmlyCd", sub_family)
    details = _sub(_sub(ntry, "NtryDtls"), "TxDtls")
    # No end-to-end id is spelt NOTPROVIDED, as SEPA does (readers drop it).
    _path(details, "Refs/EndToEndId", line.reference or "NOTPROVIDED")
    if line.text_parts:
        remittance = _sub(details, "RmtInf")
        for part in line.text_parts:
            _sub(remittance, "Ustrd", part)
    _sub(ntry, "AddtlNtryInf", ADDITIONAL_INFO[line.purpose])


def render_camt053(day: date, day_index: int, accounts: Sequence[AccountDay]) -> bytes:
    version = version_for(day_index)
    created = f"{(day + timedelta(days=1)).isoformat()}T06:00:00{_OFFSET}"
    root = ET.Element("Document", {"xmlns": NAMESPACES[version]})
    report = _sub(root, "BkToCstmrStmt")
    header = _sub(report, "GrpHdr")
    _sub(header, "MsgId", f"BANKEU-{day:%Y%m%d}-001")
    _sub(header, "CreDtTm", created)
    for sequence, statement in enumerate(accounts, start=1):
        account = statement.account
        stmt = _sub(report, "Stmt")
        _sub(stmt, "Id", f"{day:%Y%m%d}-{account.currency}-{sequence:03d}")
        _sub(stmt, "ElctrncSeqNb", str(day.toordinal() - date(2000, 1, 1).toordinal()))
        _sub(stmt, "CreDtTm", created)
        period = _sub(stmt, "FrToDt")
        _sub(period, "FrDtTm", f"{day.isoformat()}T00:00:00{_OFFSET}")
        _sub(period, "ToDtTm", f"{day.isoformat()}T23:59:59{_OFFSET}")
        acct = _sub(stmt, "Acct")
        if account.is_iban:
            _path(acct, "Id/IBAN", account.number)
        else:
            _path(acct, "Id/Othr/Id", account.number)
        _sub(acct, "Ccy", account.currency)
        _path(acct, "Ownr/Nm", OWNER)
        _path(acct, "Svcr/FinInstnId/" + ("BICFI" if version == "001.08" else "BIC"), BANK_BIC)
        _balance(stmt, "OPBD", statement.opening_minor, account.currency, day)
        _balance(stmt, "CLBD", statement.closing_minor, account.currency, day)
        for entry_sequence, line in enumerate(statement.lines, start=1):
            _entry(stmt, line, entry_sequence, version)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
