"""Card numbers (PANs) in text: PCI DSS says a full primary account number must never land in our tables.

A value "looks like a full card number" when a digit string in it has 13 to 19 digits (written as one run, or
grouped by single spaces or dashes as cards are printed: 4-4-4-4, 4-6-5, 4-4-4-4-3), passes the Luhn check, and
starts with a card network's prefix at a length that network issues. A longer run of digits (a 20-digit id) is not
a card, nor is a part of one; neither is a decimal fraction. Matches keep only the masked number (last four
digits): the full number is never stored, logged or put in an exception.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

# (network, prefix ranges as (low, high) of equal length, card lengths); from the networks' published IIN ranges
_NETWORKS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("Visa", (("4", "4"),), (13, 16, 19)),
    ("Mastercard", (("51", "55"), ("2221", "2720")), (16,)),
    ("American Express", (("34", "34"), ("37", "37")), (15,)),
    ("Discover", (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")), (16, 17, 18, 19)),
    ("Diners Club", (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")), (14, 15, 16, 17, 18, 19)),
    ("JCB", (("3528", "3589"),), (16, 17, 18, 19)),
    ("UnionPay", (("62", "62"),), (16, 17, 18, 19)),
    ("Maestro", (("5018", "5018"), ("5020", "5020"), ("5038", "5038"), ("5893", "5893"), ("6304", "6304"),
                 ("6759", "6759"), ("6761", "6763")), (13, 14, 15, 16, 17, 18, 19)),
    ("Mir", (("2200", "2204"),), (16, 17, 18, 19)),
)
MIN_DIGITS, MAX_DIGITS = 13, 19

# Digit groups joined by single spaces or dashes; not part of a decimal number (12.3456...) on either side.
_RUN = re.compile(r"(?<![0-9])(?<![0-9]\.)[0-9]+(?:[ -][0-9]+)*(?![0-9])(?!\.[0-9])")
_GROUP = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class CardMatch:
    """Where a card number was found in a text, and the number masked: never the number itself."""

    start: int
    end: int
    masked: str
    network: str
    digits: int

    def describe(self) -> str:
        return f"{self.masked} ({self.network}, {self.digits} digits, Luhn-valid)"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def network(digits: str) -> str | None:
    """The card network whose prefix and length this digit string has, or None."""
    for name, ranges, lengths in _NETWORKS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            if low <= digits[:len(low)] <= high:
                return name
    return None


def is_card_number(digits: str) -> bool:
    return MIN_DIGITS <= len(digits) <= MAX_DIGITS and digits.isdigit() and network(digits) is not None \
        and luhn_valid(digits)


def mask(digits: str) -> str:
    """Only the last four digits stay readable (PCI DSS allows at most the first six and the last four)."""
    return "*" * (len(digits) - 4) + digits[-4:]


def _grouping_ok(groups: list[str]) -> bool:
    """Cards are printed 4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3: the first group has 4 digits, inner groups 4 or 6."""
    if len(groups) == 1:
        return True
    return len(groups[0]) == 4 and all(len(g) in (4, 6) for g in groups[1:-1]) and 1 <= len(groups[-1]) <= 6


def _candidate(groups: list[str], first: int) -> tuple[int, str] | None:
    """The longest card number starting at groups[first]: (its last group, its digits)."""
    if len(groups[first]) > MAX_DIGITS or (len(groups[first]) != 4 and len(groups[first]) < MIN_DIGITS):
        return None  # neither a card written in one run nor the 4-digit first group of a printed one
    found, length = None, 0
    for last in range(first, min(len(groups), first + MAX_DIGITS)):
        length += len(groups[last])
        if length > MAX_DIGITS:
            break
        if length >= MIN_DIGITS and _grouping_ok(groups[first:last + 1]):
            digits = "".join(groups[first:last + 1])
            if is_card_number(digits):
                found = (last, digits)
    return found


def find_card_numbers(text: str) -> Iterator[CardMatch]:
    """Every card number in `text`, left to right (a number written grouped counts once). Linear in the text: a
    candidate spans at most 19 digits, so at most 19 groups."""
    for run in _RUN.finditer(text):
        spans = list(_GROUP.finditer(run.group()))
        groups = [g.group() for g in spans]
        first = 0
        while first < len(groups):
            found = _candidate(groups, first)
            if found is None:
                first += 1
                continue
            last, digits = found
            yield CardMatch(run.start() + spans[first].start(), run.start() + spans[last].end(), mask(digits),
                            network(digits) or "", len(digits))
            first = last + 1


def first_card_number(text: str) -> CardMatch | None:
    return next(find_card_numbers(text), None)
