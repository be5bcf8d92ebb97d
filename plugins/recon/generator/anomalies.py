"""Anomaly classes, their default rates, and which item of which day gets which anomaly.

Two levels: item classes are drawn per planned item (a ledger entry, or a processor-only line), payout classes per
payout (see payout_anomalies.py). Anomalies are planned up front, before any row is drawn, so a forced anomaly never
needs to rewrite rows that were already generated (and refunds/disputes only ever point at healthy captures).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping

NONE = "none"

# Probability per item. Order matters: it is the order of the cumulative draw, so it is part of the output.
ITEM_RATES: dict[str, float] = {
    "amount_mismatch": 0.010,
    "currency_mismatch": 0.005,
    "missing_in_processor": 0.010,
    "late_settlement": 0.020,
    "missing_in_ledger": 0.005,
    "duplicate_in_ledger": 0.005,
    "duplicate_in_processor": 0.005,
    "voided": 0.010,
    "partial_refund": 0.010,
    "multiple_refunds": 0.005,
    "chargeback_and_reversal": 0.005,
}
# Probability per payout (processor, payout reference, currency); same ordering rule.
PAYOUT_RATES: dict[str, float] = {
    "late_bank_credit": 0.03,
    "short_payout": 0.03,
    "missing_bank_credit": 0.02,
    "unexplained_bank_credit": 0.04,
}
DEFAULT_RATES: dict[str, float] = {**ITEM_RATES, **PAYOUT_RATES}
ITEM_CLASSES: tuple[str, ...] = tuple(ITEM_RATES)
PAYOUT_CLASSES: tuple[str, ...] = tuple(PAYOUT_RATES)
ANOMALY_CLASSES: tuple[str, ...] = (*ITEM_CLASSES, *PAYOUT_CLASSES)

# What each class does to the expected status (for --help and docs).
EFFECTS: dict[str, str] = {
    "amount_mismatch": "processor gross off by 1 minor unit -> amount_mismatch",
    "currency_mismatch": "processor line in another currency -> currency_mismatch",
    "missing_in_processor": "no processor line -> pending_processor for 3 days, then missing_in_processor",
    "late_settlement": "line arrives 1-5 days late -> pending/missing until it arrives, then matched",
    "missing_in_ledger": "processor charge with no ledger entry -> missing_in_ledger",
    "duplicate_in_ledger": "two ledger entries share the key -> both duplicate_in_ledger",
    "duplicate_in_processor": "two processor lines share the key -> duplicate_in_processor",
    "voided": "posted, voided on a later day, no line -> pending_processor until the void, then no row",
    "partial_refund": "a capture and a refund of part of it, 0-2 days later -> both matched",
    "multiple_refunds": "a capture refunded in two partial refunds -> all three matched",
    "chargeback_and_reversal": "a capture, its chargeback, then the chargeback reversed -> all three matched",
    "late_bank_credit": "bank credit 4-5 days after the payout date (inside the 5-day window) -> payout "
                        "pending_bank, missing_in_bank on day 4 if not there yet, then funded",
    "short_payout": "bank credit a few minor units short -> payout amount_mismatch, its transactions "
                    "payout_amount_mismatch",
    "missing_bank_credit": "no bank credit -> payout pending_bank for 3 days, then missing_in_bank",
    "unexplained_bank_credit": "a bank credit that pays no payout (interest, unknown reference, or a second "
                               "credit for a funded payout) -> unexplained_bank_credit",
}

# Forcing every class only makes sense when there is room for it (the brief's threshold).
FORCE_MIN_DAYS = 3
FORCE_MIN_PER_DAY = 50

# Delay ranges in days (inclusive) for the classes that spread over several files.
_DELAYS: dict[str, tuple[int, int]] = {
    "late_settlement": (1, 5),
    "duplicate_in_ledger": (0, 1),  # the twin entry: same day or the next
    "duplicate_in_processor": (0, 2),  # the second line: same file or a later one
    "voided": (1, 3),  # days between posting and voiding
    "partial_refund": (0, 2),  # capture -> refund
    "multiple_refunds": (0, 2),  # capture -> first refund (the second follows within 0-2 more days)
    "chargeback_and_reversal": (0, 2),  # capture -> chargeback (the reversal follows within 0-2 more days)
}


@dataclass(frozen=True)
class Slot:
    """One planned item: the day it belongs to, its anomaly, the anomaly's delay in days, and its processor."""

    day_index: int
    anomaly: str
    delay: int = 0
    processor: str = "stripe"


def resolve_rates(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults updated with overrides; every rate in [0, 1] and, per level, their sum <= 1 (one draw each)."""
    rates = dict(DEFAULT_RATES)
    for name, value in (overrides or {}).items():
        if name not in DEFAULT_RATES:
            raise ValueError(f"unknown anomaly class {name!r}; known: {', '.join(ANOMALY_CLASSES)}")
        rate = float(value)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate for {name} must be between 0 and 1, got {value!r}")
        rates[name] = rate
    for level, names in (("item", ITEM_CLASSES), ("payout", PAYOUT_CLASSES)):
        total = sum(rates[name] for name in names)
        if total > 1.0 + 1e-9:
            raise ValueError(f"{level} anomaly rates add up to {total:.3f}; they must not exceed 1")
    return rates


def draw_class(rng: random.Random, names: tuple[str, ...], rates: Mapping[str, float]) -> str:
    """One cumulative draw over `names` (in order): a class, or NONE."""
    draw, cumulative = rng.random(), 0.0
    for name in names:
        cumulative += rates[name]
        if draw < cumulative:
            return name
    return NONE


def _draw_delay(rng: random.Random, anomaly: str, remaining: int, *, must_land: bool) -> int | None:
    """Delay for `anomaly` on a day with `remaining` days after it in the range; None if it cannot happen.

    Late lines may fall after the range (they are simply still outstanding); the other classes are clamped so
    that every part of the anomaly is inside the generated data. `must_land` (forced anomalies) keeps late lines
    inside the range too, so the class is observable.
    """
    if anomaly not in _DELAYS:
        return 0
    low, high = _DELAYS[anomaly]
    if anomaly == "voided" and remaining < 1:
        return None  # a void needs a later day inside the range
    if anomaly == "late_settlement":
        if must_land:
            return rng.randint(low, min(high, remaining)) if remaining >= low else None
        return rng.randint(low, high)
    return min(rng.randint(low, high), remaining)


def _observable(slot: Slot, days: int) -> bool:
    return slot.anomaly != "late_settlement" or slot.day_index + slot.delay <= days - 1


def plan_slots(rng: random.Random, *, days: int, per_day: int, rates: Mapping[str, float],
               processors: Mapping[str, int]) -> list[Slot]:
    """per_day slots for each day, each with a processor and at most one anomaly; then, in a big enough run,
    force every class with a rate > 0 to occur at least once per processor."""
    names = sorted(processors)
    weights = [processors[name] for name in names]
    slots: list[Slot] = []
    for day_index in range(days):
        remaining = days - 1 - day_index
        for _ in range(per_day):
            processor = rng.choices(names, weights=weights)[0]
            anomaly = draw_class(rng, ITEM_CLASSES, rates)
            delay = _draw_delay(rng, anomaly, remaining, must_land=False)
            slots.append(Slot(day_index, NONE, 0, processor) if delay is None
                         else Slot(day_index, anomaly, delay, processor))

    if days >= FORCE_MIN_DAYS and per_day >= FORCE_MIN_PER_DAY:
        for name in ITEM_CLASSES:
            if rates[name] <= 0:
                continue  # a rate of 0 means "switched off": never force it
            needs_later_day = name in ("late_settlement", "voided")
            for processor in names:
                if any(s.anomaly == name and s.processor == processor and _observable(s, days) for s in slots):
                    continue
                candidates = [
                    i for i, s in enumerate(slots)
                    if s.anomaly == NONE and s.processor == processor
                    and (not needs_later_day or s.day_index < days - 1)
                ]
                if not candidates:
                    continue
                index = rng.choice(candidates)
                remaining = days - 1 - slots[index].day_index
                delay = _draw_delay(rng, name, remaining, must_land=True)
                if delay is not None:
                    slots[index] = Slot(slots[index].day_index, name, delay, processor)
    return slots
