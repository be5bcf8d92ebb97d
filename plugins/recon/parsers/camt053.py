"""ISO 20022 camt.053 bank-to-customer statement (contract 1.5): one row per `Ntry`.

Elements are matched by local name, so camt.053.001.02 to .08 read alike (the contract names 02 and 08; the
versions between have the same statement and entry structure; 08 nests the status as `Sts/Cd`). Other message
types are refused by name. The XML is untrusted: a DOCTYPE (the carrier of XXE and entity-expansion attacks)
is refused before lxml sees the file, and lxml itself runs with entity resolution, DTD loading and network off.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any, Iterator

from lxml import etree

from recon.currencies import to_minor
from recon.parsers.base import ParsedRow, ParseError, convert_row
from recon.sources import Source

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(?P<message>[a-z]{4}\.\d{3}\.\d{3}\.\d{2})$")
SUPPORTED = tuple(f"camt.053.001.{n:02d}" for n in range(2, 9))
_DECLARATION = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
              (codecs.BOM_UTF16_BE, "utf-16"))
_DIRECTIONS = {"CRDT": "credit", "DBIT": "debit"}
_BOOLEANS = {"true": "1", "1": "1", "false": "0", "0": "0"}
_OPENING, _CLOSING = ("OPBD", "PRCD"), ("CLBD",)  # PRCD (previous closing booked) is an opening balance too


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def _find(element: Any, path: str) -> Any:
    """`find` by local names ('Acct/Id/IBAN'), whatever the namespace."""
    return None if element is None else element.find("/".join(f"{{*}}{part}" for part in path.split("/")))


def _findall(element: Any, path: str) -> list[Any]:
    return element.findall("/".join(f"{{*}}{part}" for part in path.split("/")))


def _text(element: Any, path: str | None = None) -> str:
    found = _find(element, path) if path else element
    return "" if found is None or found.text is None else found.text.strip()


def _line(element: Any) -> int:
    return element.sourceline or 1


def _text_for_scan(data: bytes) -> str:
    """The file as text, good enough to find markup: UTF-16/32 decoded, anything ASCII-compatible byte for byte."""
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if data[:2] in (b"<\x00", b"\x00<"):  # UTF-16 without a BOM
        return data.decode("utf-16-le" if data[:1] == b"<" else "utf-16-be", errors="replace")
    return data.decode("latin-1")


_EXTERNAL = re.compile(r"<!(?:DOCTYPE|ENTITY)[^>]*\b(?:SYSTEM|PUBLIC)\b", re.IGNORECASE)


def _declaration_kind(text: str) -> str:
    """What the declarations would do if a parser honoured them, named for the operator."""
    if _EXTERNAL.search(text):
        return "an external entity or DTD (XXE: it would make the parser read a local file or a URL)"
    if re.search(r"<!ENTITY", text, re.IGNORECASE):
        return "an entity declaration (entity expansion: nested entities are a 'billion laughs' memory bomb)"
    return "a DOCTYPE"


def has_declaration(data: bytes) -> bool:
    """Whether the file declares a DOCTYPE or an entity: such a file is never given to an XML parser."""
    return _DECLARATION.search(_text_for_scan(data)) is not None


def _refuse_declarations(data: bytes, file_name: str) -> None:
    # Checked before any XML parser runs: an entity declaration is never expanded, not even once.
    text = _text_for_scan(data)
    found = _DECLARATION.search(text)
    if found:
        line = text[:found.start()].count("\n") + 1
        raise ParseError(file_name, f"contains a <!{found.group(1).upper()}> declaration with "
                         f"{_declaration_kind(text[found.start():])}; DTDs and entities are refused (XXE / "
                         "entity-expansion protection), camt.053 needs neither", line=line, field="DOCTYPE")


def _load(path: Path, file_name: str) -> Any:
    data = path.read_bytes()
    _refuse_declarations(data, file_name)
    try:
        root = etree.fromstring(data, parser=_hardened_parser())
    except etree.XMLSyntaxError as exc:
        # lxml's own limits (text nodes of 10 MB, nesting depth) guard memory: say so rather than "not well-formed"
        limit = "limit" in exc.msg.lower() or "huge" in exc.msg.lower()
        reason = (f"exceeds the XML parser's safety limits ({exc.msg})" if limit
                  else f"is not well-formed XML: {exc.msg}")
        raise ParseError(file_name, reason, line=exc.lineno or 1, field="XML") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # e.g. a UTF-16 file the byte scan missed
        raise ParseError(file_name, "has a DOCTYPE; DTDs are refused (XXE / entity-expansion protection)", line=1,
                         field="DOCTYPE")
    return root


def _check_message(root: Any, file_name: str) -> Any:
    name = etree.QName(root)
    match = _NAMESPACE.match(name.namespace or "")
    if name.namespace and not match:
        raise ParseError(file_name, f"namespace {name.namespace!r} is not an ISO 20022 message; expected "
                         f"{SUPPORTED[0]} to {SUPPORTED[-1]}", line=_line(root), field="Document")
    if match and match.group("message") not in SUPPORTED:
        raise ParseError(file_name, f"message type {match.group('message')} is not supported; this source reads "
                         f"{SUPPORTED[0]} to {SUPPORTED[-1]} (bank-to-customer statements)", line=_line(root),
                         field="Document")
    statement = _find(root, "BkToCstmrStmt")
    if name.localname != "Document" or statement is None:
        raise ParseError(file_name, f"is not a camt.053 statement: expected Document/BkToCstmrStmt, found "
                         f"{name.localname}", line=_line(root), field="BkToCstmrStmt")
    return statement


def _balance(bal: Any, file_name: str) -> tuple[str, int]:
    """(currency, signed minor units) of one Bal; DBIT balances are negative."""
    amount = _find(bal, "Amt")
    if amount is None:
        raise ParseError(file_name, "a balance has no Amt", line=_line(bal), field="Bal/Amt")
    currency, indicator = (amount.get("Ccy") or "").strip().upper(), _find(bal, "CdtDbtInd")
    if _text(indicator) not in _DIRECTIONS:
        raise ParseError(file_name, f"balance CdtDbtInd {_text(indicator)!r} is not CRDT or DBIT",
                         line=_line(bal if indicator is None else indicator), field="Bal/CdtDbtInd")
    try:
        minor = to_minor(_text(amount), currency)
    except ValueError as exc:
        raise ParseError(file_name, f"balance Amt {_text(amount)!r} {currency!r} cannot be read: {exc}",
                         line=_line(amount), field="Bal/Amt") from None
    return currency, -minor if _text(indicator) == "DBIT" else minor


def _booked_balance(stmt: Any, codes: tuple[str, ...], file_name: str) -> tuple[str, int, Any] | None:
    """The first of `codes` the statement carries, as (currency, signed minor units, its Bal element)."""
    for code in codes:
        found = [bal for bal in _findall(stmt, "Bal") if _text(bal, "Tp/CdOrPrtry/Cd") == code]
        if len(found) > 1:
            raise ParseError(file_name, f"a second {code} balance in one statement", line=_line(found[1]),
                             field=f"Bal[{code}]")
        if found:
            return (*_balance(found[0], file_name), found[0])
    return None


def _balances(stmt: Any, file_name: str) -> dict[str, str]:
    """The statement's booked opening and closing balances (either may be missing) in their one currency."""
    opening = _booked_balance(stmt, _OPENING, file_name)
    closing = _booked_balance(stmt, _CLOSING, file_name)
    if opening and closing and opening[0] != closing[0]:
        raise ParseError(file_name, f"the booked balances are in different currencies (opening {opening[0]}, "
                         f"closing {closing[0]}): the statement cannot be balanced",
                         line=_line(_find(closing[2], "Amt")), field="Bal[CLBD]/Amt@Ccy")
    return {
        "Stmt/Bal@Ccy": (opening or closing or ("",))[0],
        "Stmt/Bal[OPBD]": str(opening[1]) if opening else "",
        "Stmt/Bal[CLBD]": str(closing[1]) if closing else "",
    }


def _statement_fields(stmt: Any, sequence: int, message_id: str, file_name: str) -> dict[str, str]:
    account = _find(stmt, "Acct")
    account_id = _text(account, "Id/IBAN") or _text(account, "Id/Othr/Id")
    return {
        "GrpHdr/MsgId": message_id, "Stmt/Id": _text(stmt, "Id"), "statement_sequence": str(sequence),
        "Stmt/Acct/Id": account_id, "Stmt/Acct/Ccy": _text(account, "Ccy"), **_balances(stmt, file_name),
    }


def _coded(entry: Any, name: str, allowed: dict[str, str], file_name: str, default: str | None = None) -> str:
    element = _find(entry, name)
    value = _text(element)
    if element is None and default is not None:
        return default
    key = value if value in allowed else value.lower()
    if key not in allowed:
        raise ParseError(file_name, f"Ntry/{name} {value!r} is not one of {', '.join(allowed)}",
                         line=_line(element if element is not None else entry), field=f"Ntry/{name}")
    return allowed[key]


def _date_of(entry: Any, name: str) -> str:
    # Dt, or the date as written in DtTm (the bank's own calendar day, not converted to UTC)
    return _text(entry, f"{name}/Dt") or _text(entry, f"{name}/DtTm")[:10]


def _status(entry: Any) -> str:
    # v02-07: <Sts>BOOK</Sts>; v08: <Sts><Cd>BOOK</Cd></Sts> (or a proprietary <Prtry>)
    return _text(entry, "Sts/Cd") or _text(entry, "Sts/Prtry") or _text(entry, "Sts")


def _joined(values: list[str]) -> str:
    return " ".join(v for v in values if v)


def _entry_fields(entry: Any, sequence: int, file_name: str) -> dict[str, str]:
    amount = _find(entry, "Amt")
    if amount is not None and _text(amount).startswith("-"):
        raise ParseError(file_name, f"Ntry/Amt {_text(amount)!r} is negative; the direction belongs in CdtDbtInd",
                         line=_line(amount), field="Ntry/Amt")
    end_to_end = [_text(e) for e in _findall(entry, "NtryDtls/TxDtls/Refs/EndToEndId")]
    return {
        "entry_sequence": str(sequence), "Ntry/NtryRef": _text(entry, "NtryRef"),
        "Ntry/AcctSvcrRef": _text(entry, "AcctSvcrRef"),
        "Ntry/Amt@Ccy": "" if amount is None else (amount.get("Ccy") or ""),
        "Ntry/Amt": _text(amount) if amount is not None else "",
        "Ntry/CdtDbtInd": _coded(entry, "CdtDbtInd", _DIRECTIONS, file_name),
        "Ntry/RvslInd": _coded(entry, "RvslInd", _BOOLEANS, file_name, default="0"),
        "Ntry/Sts": _status(entry), "Ntry/BookgDt": _date_of(entry, "BookgDt"), "Ntry/ValDt": _date_of(entry, "ValDt"),
        "Ntry/NtryDtls/TxDtls/Refs/EndToEndId": _joined([e for e in end_to_end if e.upper() != "NOTPROVIDED"]),
        "Ntry//RmtInf/Ustrd": _joined([_text(u) for u in entry.iterfind(".//{*}RmtInf/{*}Ustrd")]),
        "Ntry/AddtlNtryInf": _text(entry, "AddtlNtryInf"),
    }


_NTRY_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Ntry[\s/>]")


def count_camt053_records(path: Path) -> int:
    """The file's Ntry (entry) elements, for the manifest's rows_read, whether or not it parses. A file lxml may
    read (no DOCTYPE, well-formed) is counted by element; any other by its Ntry start tags, without parsing."""
    data = path.read_bytes()
    if not has_declaration(data):
        try:
            root = etree.fromstring(data, parser=_hardened_parser())
            return sum(1 for element in root.iter() if isinstance(element.tag, str)
                       and etree.QName(element).localname == "Ntry")
        except etree.XMLSyntaxError:
            pass
    return len(_NTRY_TAG.findall(data))


def parse_camt053(source: Source, path: Path, file_name: str) -> Iterator[ParsedRow]:
    statement_root = _check_message(_load(path, file_name), file_name)
    message_id = _text(statement_root, "GrpHdr/MsgId")
    for number, stmt in enumerate(_findall(statement_root, "Stmt"), start=1):
        common = _statement_fields(stmt, number, message_id, file_name)
        for sequence, entry in enumerate(_findall(stmt, "Ntry"), start=1):
            raw = {**common, **_entry_fields(entry, sequence, file_name)}
            yield ParsedRow(_line(entry), convert_row(source, raw, file_name, _line(entry)))
