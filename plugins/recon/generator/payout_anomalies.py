"""Payout-level anomalies: for each payout of the settlement files, when (and whether) its bank credit arrives.

Planned per payout (processor, payout reference, net currency) once the settlement files are written, with the
same seeded stream and the same forcing rule as the item classes (anomalies.py).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Callable, Mapping, Sequence

from .anomalies import FORCE_MIN_DAYS, FORCE_MIN_PER_DAY, NONE, PAYOUT_CLASSES, draw_class
from .model import Payout
from .routing import BANK_OF_CURRENCY

NORMAL_LAG = (1, 2)  # value date = payout date + 1 or 2 days
LATE_LAG = (4, 5)  # late_bank_credit: after the 3-day bank grace, still inside the 5-day value-date window
SHORTFALL = (1, 5)  # short_payout: minor units missing from the credit
MISSING_AFTER = 4  # a payout without credit shows missing_in_bank from payout date + 4 (bank grace 3)
EXTRA_KINDS: tuple[str, ...] = ("interest", "unknown_reference", "duplicate_credit")


@dataclass(frozen=True)
class PayoutPlan:
    """What the bank does for one payout."""

    anomaly: str
    lag: int | None  # days from the payout date to the credit's value date; None: no credit ever
    shortfall: int = 0  # short_payout: the credit is this many minor units below the expected amount
    extra: str = ""  # unexplained_bank_credit: which kind of stray credit comes with it
    extra_lag: int = 0  # days from the payout date to the stray credit

    def lands(self, remaining: int) -> bool:
        """Whether what makes this anomaly visible falls inside the range (`remaining` days after the payout)."""
        if self.anomaly == "missing_bank_credit":
            return remaining >= MISSING_AFTER
        if self.anomaly == "unexplained_bank_credit":
            return self.extra_lag <= remaining
        return self.lag is not None and self.lag <= remaining


def _plan(rng: random.Random, anomaly: str, expected: int, remaining: int, *, must_land: bool,
          extra: str | None = None) -> PayoutPlan | None:
    """A plan for `anomaly`; with must_land, one whose effect falls inside the range, or None if none can.
    `extra` picks the kind of stray credit of unexplained_bank_credit (default: drawn)."""
    def lag_in(low: int, high: int) -> int | None:
        if not must_land:
            return rng.randint(low, high)
        return rng.randint(low, min(high, remaining)) if remaining >= low else None

    if anomaly == "missing_bank_credit":
        return None if must_land and remaining < MISSING_AFTER else PayoutPlan(anomaly, None)
    if anomaly == "late_bank_credit" and must_land and remaining >= LATE_LAG[1]:
        lag: int | None = LATE_LAG[1]  # room for the whole story: pending, missing_in_bank on day 4, funded on 5
    else:
        lag = lag_in(*(LATE_LAG if anomaly == "late_bank_credit" else NORMAL_LAG))
    if lag is None:
        return None
    if anomaly == "short_payout":
        shortfall = min(rng.randint(*SHORTFALL), expected - 1)  # the credit stays positive
        return PayoutPlan(anomaly, lag, shortfall=shortfall) if shortfall >= 1 else None
    if anomaly == "unexplained_bank_credit":
        extra = extra or rng.choice(EXTRA_KINDS)
        if extra == "duplicate_credit":
            # A second credit for the same payout, after the first one (which pays it).
            extra_lag = lag + rng.randint(1, 2)
            if must_land and extra_lag > remaining:
                extra_lag = lag + 1
                if extra_lag > remaining:
                    extra = "interest"
        if extra != "duplicate_credit":
            extra_lag = rng.randint(0, min(2, remaining) if must_land else 2)
        return PayoutPlan(anomaly, lag, extra=extra, extra_lag=extra_lag)
    return PayoutPlan(anomaly, lag)


def plan_payouts(rng: random.Random, payouts: Sequence[Payout], *, end: date, per_day: int, days: int,
                 rates: Mapping[str, float]) -> dict[tuple[str, str, str], PayoutPlan]:
    """A plan per payout key; in a big enough run every class with a rate > 0 occurs for every processor."""
    ordered = sorted(payouts, key=lambda p: (p.business_date, p.processor, p.currency, p.reference))
    remaining = {p.key: (end - p.business_date).days for p in ordered}
    plans: dict[tuple[str, str, str], PayoutPlan] = {}
    for payout in ordered:
        anomaly = draw_class(rng, PAYOUT_CLASSES, rates)
        plan = _plan(rng, anomaly, payout.expected_minor, remaining[payout.key], must_land=False)
        plans[payout.key] = plan or _plan(rng, NONE, payout.expected_minor, remaining[payout.key], must_land=False)

    if days >= FORCE_MIN_DAYS and per_day >= FORCE_MIN_PER_DAY:
        for name in PAYOUT_CLASSES:
            if rates[name] <= 0:
                continue  # switched off: never forced
            for scope in _scopes(name, ordered):
                if any(scope.covers(p) and plans[p.key].anomaly == name and scope.wants(plans[p.key])
                       and plans[p.key].lands(remaining[p.key]) for p in ordered):
                    continue
                healthy = [p for p in ordered if scope.covers(p) and plans[p.key].anomaly == NONE]
                # Prefer a payout where the whole story fits in the range; else any (the label still shows).
                fitting = [p for p in healthy if _fits(name, remaining[p.key], p.expected_minor)]
                if name == "late_bank_credit":  # a credit on day 5 also shows missing_in_bank on day 4
                    fitting = [p for p in fitting if remaining[p.key] >= LATE_LAG[1]] or fitting
                if scope.extra == "duplicate_credit":  # room for the credit and, a day or more later, its twin
                    fitting = [p for p in fitting if remaining[p.key] >= NORMAL_LAG[1] + 1] or fitting
                pool = fitting or healthy
                if not pool:
                    continue
                chosen = rng.choice(pool)
                plan = _plan(rng, name, chosen.expected_minor, remaining[chosen.key], must_land=bool(fitting),
                             extra=scope.extra)
                if plan is not None:
                    plans[chosen.key] = plan
    return plans


@dataclass(frozen=True)
class _Scope:
    """Where a forced class must show: the payouts it may use, and for a stray credit, which kind."""

    covers: Callable[[Payout], bool]
    extra: str | None = None

    def wants(self, plan: PayoutPlan) -> bool:
        return self.extra is None or plan.extra == self.extra


def _scopes(name: str, payouts: Sequence[Payout]) -> list[_Scope]:
    """Every class for each processor; a stray credit also at each bank, and each kind of stray credit."""
    scopes = [_Scope(lambda p, processor=processor: p.processor == processor)
              for processor in sorted({p.processor for p in payouts})]
    if name == "unexplained_bank_credit":
        scopes += [_Scope(lambda p, bank=bank: BANK_OF_CURRENCY[p.currency] == bank)
                   for bank in sorted({BANK_OF_CURRENCY[p.currency] for p in payouts})]
        scopes += [_Scope(lambda p: True, extra=kind) for kind in EXTRA_KINDS]
    return scopes


def _fits(anomaly: str, remaining: int, expected: int) -> bool:
    if anomaly in ("missing_bank_credit", "late_bank_credit"):
        return remaining >= (MISSING_AFTER if anomaly == "missing_bank_credit" else LATE_LAG[0])
    if anomaly == "short_payout":
        return remaining >= NORMAL_LAG[0] and expected > 1
    return remaining >= NORMAL_LAG[0]
