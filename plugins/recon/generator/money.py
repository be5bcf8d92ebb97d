"""Currencies the generator uses and how their amounts are written.

Kept local (not recon.currencies) so the generator stays a standalone, stdlib-only tool whose output is an
independent reference for the loader's parsing.
"""
from __future__ import annotations

import random

# ISO 4217 exponents: JPY and KWD are here on purpose, to exercise 0- and 3-decimal currencies.
EXPONENTS: dict[str, int] = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}

# Weighted towards USD, like a US fintech's book.
CURRENCY_WEIGHTS: tuple[tuple[str, int], ...] = (("USD", 60), ("EUR", 25), ("JPY", 10), ("KWD", 5))

# Typical card-payment sizes in MAJOR units, so amounts look plausible in every currency.
_RANGE_MAJOR: dict[str, tuple[int, int]] = {"USD": (5, 500), "EUR": (5, 400), "JPY": (500, 60_000), "KWD": (1, 150)}


def pick_currency(rng: random.Random) -> str:
    codes = [code for code, _ in CURRENCY_WEIGHTS]
    weights = [weight for _, weight in CURRENCY_WEIGHTS]
    return rng.choices(codes, weights=weights)[0]


def other_currency(rng: random.Random, currency: str) -> str:
    return rng.choice(sorted(code for code in EXPONENTS if code != currency))


def random_amount_minor(rng: random.Random, currency: str) -> int:
    low, high = _RANGE_MAJOR[currency]
    scale = 10 ** EXPONENTS[currency]
    return rng.randint(low * scale, high * scale)


def small_amount_minor(rng: random.Random, currency: str) -> int:
    """About a tenth of a typical payment, at least one minor unit (top-ups, stray amounts)."""
    return random_amount_minor(rng, currency) // 10 + 1


def major_units(currency: str, count: int) -> int:
    """`count` whole major units in minor units (e.g. the 15.00 dispute fee)."""
    return count * 10 ** EXPONENTS[currency]


def format_major(amount_minor: int, currency: str) -> str:
    """1234 USD -> '12.34'; -500 USD -> '-5.00'; 1234 JPY -> '1234'; 1234 KWD -> '1.234'.

    Integer arithmetic only: floats would eventually print 0.30000000000000004.
    """
    exp = EXPONENTS[currency]
    sign = "-" if amount_minor < 0 else ""
    units, fraction = divmod(abs(amount_minor), 10**exp)
    return f"{sign}{units}.{fraction:0{exp}d}" if exp else f"{sign}{units}"
