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
from typing import Any, Iterator

try:  # the raw pre-filter's vector arithmetic (numpy comes with Great Expectations); loaded here, not mid-scan
    import numpy as np
except ImportError:  # pragma: no cover - without it every byte goes to the exact search
    np = None

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


def _lengths_by_prefix() -> dict[int, frozenset[int]]:
    """Two-digit prefix (10..99) -> the lengths a card number starting with it may have (any network's)."""
    found: dict[int, set[int]] = {}
    for _, ranges, lengths in _NETWORKS:
        for low, high in ranges:
            first = int(low[:2]) if len(low) >= 2 else int(low) * 10
            last = int(high[:2]) if len(high) >= 2 else int(high) * 10 + 9
            for prefix in range(first, last + 1):
                found.setdefault(prefix, set()).update(lengths)
    return {prefix: frozenset(lengths) for prefix, lengths in found.items()}


# A necessary condition for a card number, cheap to test (the pre-filter of every search; never a substitute for
# it): a digit group of 13 to 19 digits, bounded by non-digits, whose first two digits and length a network issues,
# or a 4-digit group, a separator, a 4- or 6-digit group, a separator and a digit (a card written grouped has at
# least three groups: 4 + at most 6 digits are fewer than 13). Whatever find_card_numbers finds matches it
# (tests/unit/test_card_numbers.py checks that on random text).
LENGTHS_BY_PREFIX = _lengths_by_prefix()


def _candidate_pattern() -> str:
    by_first: dict[str, dict[tuple[int, ...], list[str]]] = {}
    for prefix, lengths in sorted(LENGTHS_BY_PREFIX.items()):
        first, second = divmod(prefix, 10)
        by_first.setdefault(str(first), {}).setdefault(tuple(sorted(lengths)), []).append(str(second))
    single = "|".join(
        first + "(?:" + "|".join(f"[{''.join(seconds)}][0-9]{{{min(lengths) - 2},{max(lengths) - 2}}}"
                                 for lengths, seconds in sorted(groups.items())) + ")"
        for first, groups in sorted(by_first.items()))
    return rf"(?<![0-9])(?:[0-9]{{4}}[ -][0-9]{{4}}(?:[0-9]{{2}})?[ -][0-9]|(?:{single})(?![0-9]))"


# ({min,max}: a superset of each prefix's exact lengths, which is all a pre-filter needs)
CANDIDATE = re.compile(_candidate_pattern())
_PREFILTER_MAX_CHARS = 4096  # the regex is quick on a field; a long text (a raw chunk) is searched directly


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
    if len(text) < MIN_DIGITS or (len(text) <= _PREFILTER_MAX_CHARS and CANDIDATE.search(text) is None):
        return  # no digit string in it can be a card number (the pre-filter's condition is necessary)
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


_ALLOWED: Any = None  # numpy bool array [prefix 0..99, length 0..MAX_DIGITS], made on first use


def _allowed_table() -> Any:
    table = np.zeros((100, MAX_DIGITS + 1), dtype=bool)
    for prefix, lengths in LENGTHS_BY_PREFIX.items():
        table[prefix, sorted(lengths)] = True
    return table


def bytes_may_hold_card_number(data: bytes) -> bool:
    """CANDIDATE's condition on raw bytes (digits are the same bytes in every ASCII-compatible encoding), vectorized
    with numpy: a megabyte in milliseconds, where the regex takes a second. False means no card number can be in
    `data`; True means search it (find_card_numbers). Both edges of `data` count as non-digits, so a caller
    reading a file in pieces overlaps them by CANDIDATE_SPAN bytes."""
    global _ALLOWED
    if np is None:  # pragma: no cover
        return True
    if len(data) < MIN_DIGITS:
        return False
    if _ALLOWED is None:
        _ALLOWED = _allowed_table()
    raw = np.frombuffer(data, dtype=np.uint8)
    is_digit = (raw - 48) < 10  # uint8 wraps below '0'
    bounds = np.flatnonzero(is_digit[1:] != is_digit[:-1]) + 1  # where a digit run starts or ends
    if is_digit[0]:
        bounds = np.concatenate(([0], bounds))
    if is_digit[-1]:
        bounds = np.concatenate((bounds, [len(raw)]))
    starts, ends = bounds[0::2], bounds[1::2]  # ends: one past each run's last digit
    if not len(starts):
        return False
    lengths = ends - starts
    long = (lengths >= MIN_DIGITS) & (lengths <= MAX_DIGITS)
    if long.any():
        at = starts[long]
        prefixes = (raw[at].astype(np.intp) - 48) * 10 + (raw[at + 1].astype(np.intp) - 48)
        if _ALLOWED[prefixes, lengths[long]].any():
            return True
    # grouped: runs i, i+1, i+2 with len(i) == 4 and len(i+1) in (4, 6), each followed by one separator
    if len(starts) < 3:
        return False
    after = np.append(raw, np.uint8(0))[ends[:-1]]  # the byte after each run but the last
    separated = ((after == 32) | (after == 45)) & (starts[1:] == ends[:-1] + 1)
    grouped = (lengths[:-2] == 4) & separated[:-1] & ((lengths[1:-1] == 4) | (lengths[1:-1] == 6)) & separated[1:]
    return bool(grouped.any())


CANDIDATE_SPAN = 64  # more than any CANDIDATE match with the character before it
