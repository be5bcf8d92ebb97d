"""The card-number gate: every byte of an input file is searched for a full card number (recon.pan) before the file
is parsed, in every field, including the columns the parser ignores and the free text of bank statements. A file
holding one is refused whole (CardNumberFound, a ParseError naming file, line and field), with the number masked.

Each format reads its fields its own way so the message can name the field; whatever cannot be read that way (a
line too long, a CSV the csv module gives up on, XML with a DOCTYPE or not well-formed) is searched as raw text.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable, Iterator

from lxml import etree

from recon.pan import CANDIDATE_SPAN, MAX_DIGITS, CardMatch, bytes_may_hold_card_number, first_card_number
from recon.parsers import bai2, camt053
from recon.parsers.base import LineTooLong, ParseError, bounded_lines
from recon.parsers.csv_table import column_name, field_at, open_csv

# (column, value) -> True when the value is a partner's identifier known to share the card-number space
Exemption = Callable[[str, str], bool]
_RUN_CHARS = frozenset("0123456789 -.")


class CardNumberFound(ParseError):
    """A file holding what looks like a full card number. Only the masked number is ever kept."""

    def __init__(self, file_name: str, match: CardMatch, line: int, field: str | None):
        self.match = match
        super().__init__(file_name, f"holds what looks like a full card number (PAN): {match.describe()}. Card "
                         "numbers must never be loaded (PCI DSS), so the whole file is refused; the object kept in "
                         "quarantine/ holds cardholder data (docs/bad-input.md)", line=line, field=field)


def scan_raw(path: Path, file_name: str, name_field: Callable[[int, str], str | None] | None = None,
             chunk: int = 1024 * 1024) -> CardNumberFound | None:
    """Every byte as text (Latin-1: one character per byte, so digits are found in any ASCII-compatible encoding),
    in chunks: bounded memory. `name_field(line, text of the line before the number)` names the field if it can."""
    line, carry, ended, first = 1, "", False, True
    with open(path, "rb") as handle:
        while not ended:
            data = handle.read(chunk)
            ended = not data
            text = carry + data.decode("latin-1")
            # stop before a digit run that may go on in the next chunk: search up to the last character no card
            # number can contain (the carried rest starts with it, so the next search sees the run's boundary)
            cut = len(text) if ended else next((i for i in range(len(text) - 1, -1, -1)
                                                if text[i] not in _RUN_CHARS), len(text))
            match = first_card_number(text[:cut])
            if match:
                before = text[:match.start]
                start_of_line = before.rfind("\n") + 1
                number = line + before.count("\n")
                whole_line = start_of_line > 0 or first  # else the line began in an earlier chunk
                field = name_field(number, before[start_of_line:]) if name_field and whole_line else None
                return CardNumberFound(file_name, match, number, field)
            line += text[:cut].count("\n")
            carry, first = text[cut:], False
    return None


def file_may_hold_card_number(path: Path, chunk: int = 1024 * 1024) -> bool:
    """Whether any part of the file's raw bytes meets the card-number pre-filter (recon.pan.CANDIDATE): False
    means no text read from those bytes can hold a card number as long as the reading only drops or keeps
    characters that are not digits, spaces or dashes between them (a CSV that parses strictly does; see
    scan_csv). In chunks, each searched with the end of the one before: bounded memory."""
    carry = b""
    with open(path, "rb") as handle:
        while data := handle.read(chunk):
            text = carry + data
            # a digit run at the end may go on in the next chunk: it is searched with it, whole
            cut = len(text)
            while cut and 48 <= text[cut - 1] <= 57:
                cut -= 1
            if cut and bytes_may_hold_card_number(text[:cut]):
                return True
            run = text[cut:]
            carry = _context(text[:cut]) + (run if len(run) <= MAX_DIGITS else b"0" * (MAX_DIGITS + 1))
    return bytes_may_hold_card_number(carry)


def _context(searched: bytes) -> bytes:
    """The end of searched text that a candidate going on after it needs: its last CANDIDATE_SPAN bytes from the
    first that is not a digit (the character before a candidate's first group), so no digit run cut there is
    taken for a whole one."""
    tail = searched[-CANDIDATE_SPAN:]
    for at, byte in enumerate(tail):
        if not 48 <= byte <= 57:
            return tail[at:]
    return b"0" * (MAX_DIGITS + 1) if tail else b""  # (nothing searched yet: the start of the file is an edge)


def parses_strictly(path: Path, delimiter: str = ",") -> bool:
    """Whether the file reads as CSV without an error with csv's strict dialect (and no line too long)."""
    try:
        with open_csv(path) as handle:
            for _ in csv.reader(bounded_lines(handle), delimiter=delimiter, strict=True):
                pass
    except (LineTooLong, csv.Error):
        return False
    return True


def scan_csv(path: Path, file_name: str, delimiter: str = ",", exempt: Exemption | None = None
             ) -> CardNumberFound | None:
    """Every field of every record, the header too, named by its column (a lenient reader: any CSV-ish file).

    Quick answer first: if no raw byte sequence of the file meets the pre-filter and the file parses strictly,
    no field can hold a card number (a strict reading only removes the quotes around a field and halves doubled
    ones: every digit string of a field is in the raw bytes as it is, between the same kind of characters).
    Otherwise every field is searched, as a lenient reader reads it (which may join digits across a stray quote).
    """
    if not file_may_hold_card_number(path) and parses_strictly(path, delimiter):
        return None
    header: list[str] | None = None

    def search(start: int, record: list[str]) -> CardNumberFound | None:
        for index, value in enumerate(record):
            match = first_card_number(value)
            if match is None:
                continue
            column = "header" if header is None else column_name(header, index)
            if header is not None and exempt is not None and exempt(column, value):
                continue  # the whole value is the partner's own identifier
            return CardNumberFound(file_name, match, start + value[:match.start].count("\n"), column)
        return None

    def search_batch(batch: list[tuple[int, list[str]]]) -> CardNumberFound | None:
        # the pre-filter on all the batch's fields at once (joined by a character no card number holds), then
        # each field of a batch that meets it
        text = "\n".join("\n".join(record) for _, record in batch)
        if not bytes_may_hold_card_number(text.encode("utf-8", "surrogateescape")):
            return None
        return next((found for start, record in batch if (found := search(start, record)) is not None), None)

    batch: list[tuple[int, list[str]]] = []
    try:
        with open_csv(path) as handle:
            reader = csv.reader(bounded_lines(handle), delimiter=delimiter, strict=False)
            start, size = 1, 0
            for record in reader:
                if header is None:
                    found = search(start, record)
                    if found is not None:
                        return found
                    header = [h.strip() for h in record]
                else:
                    batch.append((start, record))
                    size += sum(map(len, record)) + len(record)
                    if len(batch) >= 1024 or size >= 1024 * 1024:
                        if (found := search_batch(batch)) is not None:
                            return found
                        batch, size = [], 0
                start = reader.line_num + 1
            if batch and (found := search_batch(batch)) is not None:
                return found
    except (LineTooLong, csv.Error):
        if batch and (found := search_batch(batch)) is not None:  # the records read before, as read
            return found

        def name(line: int, before: str) -> str | None:
            return "header" if line == 1 or header is None else field_at(header, before, delimiter)

        return scan_raw(path, file_name, name)
    return None


def scan_bai2(path: Path, file_name: str) -> CardNumberFound | None:
    """Every field of every physical record (16 text, 88 continuations, references, account numbers...)."""
    continues = None
    try:
        for number, raw in bai2.physical_lines(path):
            text = raw.strip()
            match = first_card_number(text)
            if match:
                return CardNumberFound(file_name, match, number, bai2.field_at(text, match.start, continues))
            if text and text[:2] != "88":
                continues = text[:2]
    except LineTooLong:
        return scan_raw(path, file_name,
                        lambda line, before: bai2.field_at(before.strip(), len(before.strip()), None))
    return None


def _element_path(stack: list[str]) -> str:
    """'Ntry/NtryDtls/TxDtls/RmtInf/Ustrd': the path from the innermost Ntry, Stmt or GrpHdr (as the YAML names
    fields), else from the root."""
    for anchor in ("Ntry", "Stmt", "GrpHdr"):
        if anchor in stack:
            at = len(stack) - 1 - stack[::-1].index(anchor)
            return "/".join(stack[at:])
    return "/".join(stack)


def _xml_texts(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, field, text) of every element text, tail, attribute, comment and processing instruction, with the
    camt.053 parser's hardening (no entities resolved, no DTD, no network, lxml's size limits)."""
    stack: list[str] = []
    events = etree.iterparse(str(path), events=("start", "end", "comment", "pi"), resolve_entities=False,
                             no_network=True, load_dtd=False, huge_tree=False, remove_comments=False,
                             remove_pis=False)
    for event, element in events:
        if event in ("comment", "pi"):
            yield element.sourceline or 1, f"XML {event} in {_element_path(stack) or 'prolog'}", str(element.text or "")
            continue
        name = etree.QName(element).localname
        if event == "start":
            stack.append(name)
            for attribute, value in element.attrib.items():
                yield element.sourceline or 1, f"{_element_path(stack)}@{etree.QName(attribute).localname}", value
            continue
        line, field = element.sourceline or 1, _element_path(stack)
        yield line, field, element.text or ""
        for child in element:
            yield child.sourceline or line, f"{field} (text after {etree.QName(child).localname})", child.tail or ""
        stack.pop()
        element.clear(keep_tail=True)


def scan_camt053(path: Path, file_name: str) -> CardNumberFound | None:
    """Every text, attribute and comment of a statement lxml may read; a file with a DOCTYPE (never parsed) or
    one that is not well-formed is searched as raw text."""
    if not camt053.has_declaration(path.read_bytes()):
        try:
            for line, field, text in _xml_texts(path):
                match = first_card_number(text)
                if match:
                    return CardNumberFound(file_name, match, line + text[:match.start].count("\n"), field)
            return None
        except etree.XMLSyntaxError:
            pass
    return scan_raw(path, file_name, lambda line, before: "XML text (the file is not read as XML: not "
                    "well-formed, or it has a DOCTYPE)")
