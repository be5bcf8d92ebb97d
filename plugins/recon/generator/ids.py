"""Realistic, unique ids drawn from the seeded RNG (never uuid4 or the clock, so output is reproducible)."""
from __future__ import annotations

import random
import string

ALPHANUMERIC = string.ascii_letters + string.digits


class IdFactory:
    """Hands out ids like `ch_3Nq...` (prefix + N characters) and guarantees no id is handed out twice."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def new(self, prefix: str, length: int = 24, alphabet: str = ALPHANUMERIC) -> str:
        while True:
            candidate = prefix + "".join(self._rng.choices(alphabet, k=length))
            if candidate not in self._seen:
                self._seen.add(candidate)
                return candidate

    def number(self, length: int) -> str:
        """A `length`-digit decimal string with no leading zero (Adyen PSP references, bank references)."""
        while True:
            candidate = str(self._rng.randrange(10 ** (length - 1), 10**length))
            if candidate not in self._seen:
                self._seen.add(candidate)
                return candidate
