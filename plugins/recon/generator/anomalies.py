"""Anomaly classes, their default rates, and which item of which day gets which anomaly.

Anomalies are planned up front, before any row is drawn, so a forced anomaly never needs to rewrite rows that
were already generated (and refunds/disputes only ever point at healthy captures).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping

NONE = "none"

# Probability per item. Order matters: it is the order of the cumulative draw, so it is part of the output.
DEFAULT_RATES: dict[str, float] = {
    "amount_mismatch": 0.010,
    "currency_mismatch": 0.005,
    "missing_in_processor": 0.010,
    "late_settlement": 0.020,
    "missing_in_ledger": 0.005,
    "duplicate_in_ledger": 0.005,
    "duplicate_in_processor": 0.005,
    "voided": 0.010,
}
ANOMALY_CLASSES: tuple[str, ...] = tuple(DEFAULT_RATES)

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
}


@dataclass(frozen=True)
class Slot:
    """One planned item: the day it belongs to, its anomaly and the anomaly's delay in days."""

    day_index: int
    anomaly: str
    delay: int = 0


def resolve_rates(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults updated with overrides; every rate in [0, 1] and their sum <= 1 (one draw per item)."""
    rates = dict(DEFAULT_RATES)
    for name, value in (overrides or {}).items():
        if name not in DEFAULT_RATES:
            raise ValueError(f"unknown anomaly class {name!r}; known: {', '.join(ANOMALY_CLASSES)}")
        rate = float(value)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate for {name} must be between 0 and 1, got {value!r}")
        rates[name] = rate
    if sum(rates.values()) > 1.0 + 1e-9:
        raise ValueError(f"anomaly rates add up to {sum(rates.values()):.3f}; they must not exceed 1")
    return rates


def _draw_delay(rng: random.Random, anomaly: str, remaining: int, *, must_land: bool) -> int | None:
    """Delay for `anomaly` on a day with `remaining` days after it in the range; None if it cannot happen.

    Late lines may fall after the range (they are simply still outstanding); the other classes are clamped so
    that both halves of the anomaly are inside the generated data. `must_land` (forced anomalies) keeps late lines
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


def plan_slots(rng: random.Random, *, days: int, per_day: int, rates: Mapping[str, float]) -> list[Slot]:
    """per_day slots for each day, each with at most one anomaly; then force missing classes if required."""
    slots: list[Slot] = []
    for day_index in range(days):
        remaining = days - 1 - day_index
        for _ in range(per_day):
            draw, anomaly = rng.random(), NONE
            cumulative = 0.0
            for name in ANOMALY_CLASSES:
                cumulative += rates[name]
                if draw < cumulative:
                    anomaly = name
                    break
            delay = _draw_delay(rng, anomaly, remaining, must_land=False)
            slots.append(Slot(day_index, NONE, 0) if delay is None else Slot(day_index, anomaly, delay))

    if days >= FORCE_MIN_DAYS and per_day >= FORCE_MIN_PER_DAY:
        for name in ANOMALY_CLASSES:
            if rates[name] <= 0 or any(s.anomaly == name and _observable(s, days) for s in slots):
                continue  # a rate of 0 means "switched off": never force it
            needs_later_day = name in ("late_settlement", "voided")
            candidates = [
                i for i, s in enumerate(slots)
                if s.anomaly == NONE and (not needs_later_day or s.day_index < days - 1)
            ]
            if not candidates:
                continue
            index = rng.choice(candidates)
            remaining = days - 1 - slots[index].day_index
            delay = _draw_delay(rng, name, remaining, must_land=True)
            if delay is not None:
                slots[index] = Slot(slots[index].day_index, name, delay)
    return slots
