"""BAI2 cash management balance report (contract 1.5): one row per 16 (transaction detail) record.

The `bai2` package reads the records (joining 88 continuations its way: a continued text field goes on after a
space) and holds the integrity rules (49/98/99 control totals, record, account and group counts). We feed it
records that carry their physical line numbers, so every refusal names a line: first each physical line must be
a record (`NN,`), then the package builds the structure, then its integrity checks run bottom-up on each trailer.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

from bai2.constants import FundsType, RecordCode
from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException
from bai2.helpers import RecordBuilderFactory
from bai2.models import Account, Bai2File, Group
from bai2.parsers import (
    AccountIdentifierParser,
    AccountParser,
    AccountTrailerParser,
    Bai2FileHeaderParser,
    Bai2FileParser,
    Bai2FileTrailerParser,
    BaseSingleParser,
    GroupHeaderParser,
    GroupParser,
    GroupTrailerParser,
    TransactionDetailParser,
)

from recon.parsers.base import (
    LineTooLong,
    ParsedRow,
    ParseError,
    bounded_lines,
    convert_row,
    not_utf8_reason,
    raw_line_heads,
    undecodable_byte,
)
from recon.sources import Source

_CODES = {code.value: code for code in RecordCode}
_TRAILER_NAME = {"49": "account trailer", "98": "group trailer", "99": "file trailer"}


class _Rows(list):
    """A record's physical rows, as the package keeps them, plus where the record starts and its raw fields
    (the package rewrites some values, e.g. a blank group currency becomes USD)."""

    line: int = 0
    fields: list[str]


class _LineRecords:
    """The package's record iterator (current_record/advance), built from our own line-checked records."""

    def __init__(self, records: list[Any]):
        self._records, self._index = records, 0
        self.current_record = records[0]

    def advance(self) -> None:
        if self._index + 1 >= len(self._records):
            raise StopIteration  # the package's own helper ends the same way; its parsers catch it
        self._index += 1
        self.current_record = self._records[self._index]


def field_at(text: str, position: int, continues: str | None) -> str:
    """Which field of a physical BAI2 line holds the character at `position` ('16 text', '03 currency'...);
    `continues` is the code of the record an 88 line continues."""
    code = text[:2]
    index = text[:position].count(",") - 1  # 0: the first field after the record code
    if code == "88":
        return f"{continues} text (88 continuation)" if continues == "16" else f"88 continuation of {continues}"
    if index < 0:
        return "record code"
    if code == "16":
        fields = text[3:].split(",")
        funds = fields[2].strip() if len(fields) > 2 else ""
        extra = _AVAILABILITY_FIELDS.get(funds, 0)
        if funds == "D" and len(fields) > 3 and fields[3].isdigit():
            extra = 1 + 2 * min(int(fields[3]), len(fields))
        names = ["type_code", "amount", "funds_type", *["availability"] * extra, "bank_reference",
                 "customer_reference"]
        return f"16 {names[index] if index < len(names) else 'text'}"
    if code == "03":
        return f"03 {['customer_account_number', 'currency'][index] if index < 2 else 'summary'}"
    config = _SIMPLE_CONFIGS.get(_CODES.get(code)) if code in _CODES else None
    if config and index < len(config):
        return f"{code} {_field_steps(config[index])[0]}"
    return f"{code} field {index + 1}"


def physical_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(number, text) of every physical line, decoded leniently: bytes that are not UTF-8 become surrogates."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        yield from enumerate(bounded_lines(handle), start=1)


def _physical_lines(path: Path, file_name: str) -> list[tuple[int, str]]:
    lines, continues = [], None
    try:
        for number, raw in physical_lines(path):
            # Trailing spaces (fixed-width records padded to the physical record length) are not data; blank lines
            # carry none either. The package's own reader strips lines the same way.
            text = raw.strip()
            if not text:
                continue
            bad = undecodable_byte(text)
            if bad is not None:
                raise ParseError(file_name, not_utf8_reason(text, bad), line=number,
                                 field=field_at(text, bad, continues))
            continues = continues if text[:2] == "88" else text[:2]
            lines.append((number, text))
    except LineTooLong as exc:
        text = exc.prefix.lstrip()
        raise ParseError(file_name, exc.reason(), line=exc.line, field=field_at(text, len(text), continues)) from None
    return lines


def count_bai2_records(path: Path) -> int:
    """The file's 16 (transaction detail) records, for the manifest's rows_read, whether or not it parses."""
    try:
        return sum(1 for _, text in physical_lines(path) if text.lstrip().startswith("16,"))
    except LineTooLong:  # a line too long to read: count from the first bytes of each line
        return sum(1 for _, head, _ in raw_line_heads(path) if head.lstrip().startswith(b"16,"))


def _records(lines: list[tuple[int, str]], file_name: str) -> list[Any]:
    """Group physical lines into records (a record plus its 88 continuations) with the package's builders."""
    grouped: list[_Rows] = []
    for number, text in lines:
        code, separator = text[:2], text[2:3]
        if code not in _CODES or separator != ",":
            raise ParseError(file_name, f"{text[:12]!r} is not a BAI2 record: a record starts with a record code "
                             f"({', '.join(sorted(_CODES))}) and a comma", line=number, field="record code")
        if code == "88" and not grouped:
            raise ParseError(file_name, "an 88 continuation cannot be the first record", line=number,
                             field="record code")
        if code != "88":
            grouped.append(_Rows())
            grouped[-1].line = number
        grouped[-1].append((_CODES[code], text[3:]))
    records = []
    for rows in grouped:
        record = RecordBuilderFactory[rows[0][0]](rows)
        _pad_defaulted_fields(record)
        rows.fields = list(record.fields)
        records.append(record)
    return records


_MIN_FIELDS = {RecordCode.file_header: 8, RecordCode.group_header: 7, RecordCode.account_identifier: 2,
               RecordCode.account_trailer: 2, RecordCode.group_trailer: 3, RecordCode.file_trailer: 3}
_AVAILABILITY_FIELDS = {"V": 2, "S": 3}


def _pad_defaulted_fields(record: Any) -> None:
    """A '/' may end a record early, defaulting the fields after it; the package expects them present."""
    fields = record.fields
    wanted = _MIN_FIELDS.get(record.code, 0)
    if record.code is RecordCode.transaction_detail:
        funds = fields[2] if len(fields) > 2 else ""
        extra = _AVAILABILITY_FIELDS.get(funds, 0)
        if funds == "D" and len(fields) > 3 and fields[3].isdigit():
            # capped: a bogus distribution count must not make us allocate for it (the package then refuses)
            extra = 1 + 2 * min(int(fields[3]), len(fields))
        wanted = 3 + extra + 3
    fields.extend([""] * (wanted - len(fields)))


def _field_steps(config: Any) -> tuple[str, Callable[[str], Any]]:
    return (config, str) if isinstance(config, str) else config


def _walk(configs: Any, fields: list[str]) -> None:
    """Read fields in order with the package's field parsers; raise _BadField naming the first that fails."""
    for config in configs:
        name, parse = _field_steps(config)
        value = fields.pop(0) if fields else ""
        try:
            if value:
                parse(value)
        except Exception as exc:  # noqa: BLE001 - any parser failure names this field
            raise _BadField(name, value, exc) from None


def _walk_availability(funds: str, fields: list[str]) -> None:
    shown = ",".join(fields[:_AVAILABILITY_FIELDS.get(funds, 1)])  # before the package pops them
    try:
        BaseSingleParser._parse_availability(FundsType(funds) if funds else None, fields)
    except Exception as exc:  # noqa: BLE001
        raise _BadField("availability", shown, exc) from None


class _BadField(Exception):
    def __init__(self, name: str, value: str, cause: Exception):
        super().__init__(name)
        self.name, self.value, self.cause = name, value, cause


_SIMPLE_CONFIGS = {
    RecordCode.file_header: Bai2FileHeaderParser.fields_config,
    RecordCode.group_header: GroupHeaderParser.fields_config,
    RecordCode.account_trailer: AccountTrailerParser.fields_config,
    RecordCode.group_trailer: GroupTrailerParser.fields_config,
    RecordCode.file_trailer: Bai2FileTrailerParser.fields_config,
}


def _locate_bad_field(record: Any) -> _BadField | None:
    """Which field of a record the package could not read (it only says e.g. 'invalid literal for int()')."""
    fields = list(record.fields)
    try:
        if record.code in _SIMPLE_CONFIGS:
            _walk(_SIMPLE_CONFIGS[record.code], fields)
        elif record.code is RecordCode.transaction_detail:
            funds = fields[2] if len(fields) > 2 else ""
            _walk(TransactionDetailParser.head_fields_config, fields)
            _walk_availability(funds, fields)
        elif record.code is RecordCode.account_identifier:
            _walk(AccountIdentifierParser.common_fields_config, fields)
            while fields and fields != [""]:
                funds = fields[3] if len(fields) > 3 else ""
                _walk(AccountIdentifierParser.summary_fields_config, fields)
                _walk_availability(funds, fields)
    except _BadField as bad:
        return bad
    return None


def _structure_error(record: Any, exc: Exception, file_name: str) -> ParseError:
    code, line = record.code.value, record.rows.line
    if isinstance(exc, ParsingException):
        return ParseError(file_name, f"records out of order: {exc}", line=line, field="record code")
    if isinstance(exc, NotSupportedYetException) and "version" in str(exc):
        return ParseError(file_name, f"{exc} (the 01 record's version number)", line=line, field="01 version_number")
    bad = _locate_bad_field(record)
    if bad is None:
        return ParseError(file_name, f"the {code} record cannot be read: {exc}", line=line, field=f"{code} record")
    return ParseError(file_name, f"{code} record: {bad.name} {bad.value!r} cannot be read ({bad.cause})", line=line,
                      field=f"{code} {bad.name}")


def _parse_structure(records: list[Any], file_name: str) -> Bai2File:
    if records[0].code is not RecordCode.file_header:
        raise ParseError(file_name, f"the file must start with an 01 file header, not {records[0].code.value}",
                         line=records[0].rows.line, field="record code")
    trailers = [i for i, record in enumerate(records) if record.code is RecordCode.file_trailer]
    if not trailers:
        raise ParseError(file_name, "the file does not end with a 99 file trailer (truncated?)",
                         line=records[-1].rows.line, field="record code")
    if trailers[0] + 1 < len(records):  # the package would stop at the 99 and never look further
        raise ParseError(file_name, "records follow the 99 file trailer", line=records[trailers[0] + 1].rows.line,
                         field="record code")
    stream = _LineRecords(records)
    try:
        return Bai2FileParser(stream, check_integrity=False).parse()
    except (ParsingException, NotSupportedYetException, ValueError, TypeError, IndexError, KeyError) as exc:
        raise _structure_error(stream.current_record, exc, file_name) from None


def _trailer_field(trailer_code: str, message: str) -> str:
    for words, name in (("number of records", "number_of_records"), ("control total", "control_total"),
                        ("number of accounts", "number_of_accounts"), ("number of groups", "number_of_groups")):
        if words in message:
            return f"{trailer_code} {name}"
    return f"{trailer_code} record"


def _check(parser_class: type, section: Any, code: str, file_name: str) -> None:
    """The package's own integrity rules for one section, reported on that section's trailer line."""
    try:
        parser_class(None, check_integrity=True).validate(section)
    except (IntegrityException, ParsingException) as exc:
        raise ParseError(file_name, f"{_TRAILER_NAME[code]} does not check: {exc}", line=section.trailer.rows.line,
                         field=_trailer_field(code, str(exc))) from None


def _verify_integrity(parsed: Bai2File, file_name: str) -> None:
    # Bottom-up, as the package does while parsing: each account, then its group, then the file.
    for group in parsed.children:
        for account in group.children:
            _check(AccountParser, account, "49", file_name)
        _check(GroupParser, group, "98", file_name)
    _check(Bai2FileParser, parsed, "99", file_name)


def _direction(type_code: str) -> str:
    number = int(type_code)
    return "credit" if 100 <= number <= 399 else "debit" if 400 <= number <= 699 else "other"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _raw_control_total(account: Account) -> str:
    # The package reads a blank 49 control total as 0; the contract keeps it null.
    return _text(account.trailer.rows.fields[0]).lstrip("+")


def _account_currency(account: Account, group: Group, default: str) -> str:
    group_currency = group.header.rows.fields[5] if len(group.header.rows.fields) > 5 else ""
    return _text(account.header.currency) or _text(group_currency) or default


def _detail_raw(detail: Any, file_name: str) -> dict[str, str]:
    line = detail.rows.line
    if detail.amount is None:
        raise ParseError(file_name, "16 record: the amount is empty", line=line, field="16 amount")
    if detail.amount < 0:
        raise ParseError(file_name, f"16 record: the amount {detail.amount} is negative (BAI2 detail amounts are "
                         "unsigned; the type code gives the direction)", line=line, field="16 amount")
    funds = detail.funds_type
    value_date = (detail.availability or {}).get("date") if funds is FundsType.value_dated else None
    return {
        "type_code": detail.type_code.code, "direction": _direction(detail.type_code.code),
        "amount_minor": str(detail.amount), "funds_type": funds.value if funds else "",
        "value_date": _iso(value_date), "bank_reference": _text(detail.bank_reference),
        "customer_reference": _text(detail.customer_reference), "text": _text(detail.text),
    }


def _rows(source: Source, parsed: Bai2File, file_name: str) -> Iterator[ParsedRow]:
    default_currency = str(source.options.get("default_currency", ""))
    section = 0
    for group in parsed.children:
        for account in group.children:
            section += 1
            common = {
                "sender_id": _text(parsed.header.sender_id), "group_as_of_date": _iso(group.header.as_of_date),
                "account_section": str(section), "account_number": _text(account.header.customer_account_number),
                "currency": _account_currency(account, group, default_currency),
                "account_summary_total_minor": str(sum(s.amount or 0 for s in account.header.summary_items)),
                "account_control_total_minor": _raw_control_total(account),
            }
            for detail in account.children:
                raw = {**common, **_detail_raw(detail, file_name)}
                yield ParsedRow(detail.rows.line, convert_row(source, raw, file_name, detail.rows.line))


def parse_bai2(source: Source, path: Path, file_name: str) -> Iterator[ParsedRow]:
    lines = _physical_lines(path, file_name)
    if not lines:
        raise ParseError(file_name, "the file is empty: expected an 01 file header", line=1, field="record code")
    parsed = _parse_structure(_records(lines, file_name), file_name)
    _verify_integrity(parsed, file_name)
    yield from _rows(source, parsed, file_name)
