"""Turns the anomaly plan into ledger entry versions and processor lines (the "world" the files describe)."""
from __future__ import annotations

import random
import string
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from .anomalies import Slot
from .ids import IdFactory
from .model import LedgerVersion, ProcessorTxn
from .money import other_currency, pick_currency, random_amount_minor
from .processors import PROCESSORS, Processor

# Mix of entry types; follow-ups fall back to a capture when nothing earlier can be refunded/disputed/reversed.
TYPE_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("capture", 78), ("refund", 12), ("chargeback", 6), ("chargeback_reversal", 4),
)
FULL_REFUND_SHARE = 0.6
STORY_CLASSES = ("partial_refund", "multiple_refunds", "chargeback_and_reversal")  # a capture and its follow-ups
MERCHANT_COUNT = 40

_MICROS_PER_DAY = 86_400 * 1_000_000
_LOWER_ALNUM = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class _Parent:
    """A healthy earlier item that a refund, dispute or reversal can point at."""

    entry: LedgerVersion
    charge_reference: str
    payment_reference: str
    order_id: str  # the merchant's order, named in the descriptions of the payment and its follow-ups


@dataclass
class Scenario:
    slots: list[Slot]
    ledger: list[LedgerVersion] = field(default_factory=list)  # every version, inserts and updates
    txns: list[ProcessorTxn] = field(default_factory=list)  # only lines whose file is inside the range
    anomaly_by_entry: dict[str, str] = field(default_factory=dict)
    anomaly_by_line: dict[str, str] = field(default_factory=dict)  # lines with no ledger entry


BOOKED_LATE_DAYS = 4  # > the default grace of 3 days


def random_time_on(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time()) + timedelta(microseconds=rng.randrange(_MICROS_PER_DAY))


class _Builder:
    def __init__(self, rng: random.Random, ids: IdFactory, start: date, days: int) -> None:
        self.rng, self.ids, self.start = rng, ids, start
        self.end = start + timedelta(days=days - 1)
        self.scenario = Scenario(slots=[])
        self.merchants = [ids.new("mer_", 14, _LOWER_ALNUM) for _ in range(MERCHANT_COUNT)]
        # Per processor: captures not yet refunded/disputed, chargebacks not yet reversed.
        self.captures: dict[str, list[_Parent]] = {name: [] for name in PROCESSORS}
        self.chargebacks: dict[str, list[_Parent]] = {name: [] for name in PROCESSORS}
        self.missing_seen = 0

    # -- helpers -------------------------------------------------------------------------------------------

    def _new_order_id(self) -> str:
        return f"ORD-{self.rng.randint(0, 99_999_999):08d}"

    def _take(self, pool: list[_Parent]) -> _Parent:
        return pool.pop(self.rng.randrange(len(pool)))

    def _add_txn(self, processor: Processor, entry: LedgerVersion, *, business_date: date, created_at: datetime,
                 charge_reference: str, payment_reference: str, order_id: str, currency: str | None = None,
                 amount_minor: int | None = None, description: str | None = None) -> ProcessorTxn:
        txn = ProcessorTxn(
            processor=processor.name,
            line_id=processor.new_line_id(self.ids),
            reference=entry.processor_reference,
            entry_type=entry.entry_type,
            currency=currency or entry.currency,
            amount_minor=entry.amount_minor if amount_minor is None else amount_minor,
            business_date=business_date,
            created_at=created_at.replace(microsecond=0),
            charge_reference=charge_reference,
            payment_reference=payment_reference,
            description=description or processor.describe(self.rng, entry.entry_type, order_id),
        )
        if business_date <= self.end:  # a line due after the range is simply not delivered yet
            self.scenario.txns.append(txn)
        return txn

    # -- one item ------------------------------------------------------------------------------------------

    def _new_entry(self, processor: Processor, occurred_at: datetime) -> tuple[LedgerVersion, _Parent]:
        """A capture, or a random follow-up of an earlier healthy item of the same processor."""
        types = [name for name, _ in TYPE_WEIGHTS]
        entry_type = self.rng.choices(types, weights=[weight for _, weight in TYPE_WEIGHTS])[0]
        pool = {"refund": self.captures, "chargeback": self.captures,
                "chargeback_reversal": self.chargebacks}.get(entry_type, {}).get(processor.name)
        parent = self._take(pool) if pool else None
        if parent is None:
            return self._capture(processor, occurred_at)
        amount = parent.entry.amount_minor
        if entry_type == "refund" and amount > 1 and self.rng.random() >= FULL_REFUND_SHARE:
            amount = self.rng.randint(1, amount - 1)  # partial refund
        return self._follow_up(processor, parent, entry_type, occurred_at, amount)

    def _capture(self, processor: Processor, occurred_at: datetime) -> tuple[LedgerVersion, _Parent]:
        currency = pick_currency(self.rng)
        amount = random_amount_minor(self.rng, currency)
        account_id = self.ids.new("acc_", 16, _LOWER_ALNUM)
        merchant_id = self.rng.choice(self.merchants)
        reference = processor.new_reference(self.ids, "capture")
        entry = self._entry("capture", processor, reference, account_id, merchant_id, amount, currency, occurred_at)
        return entry, _Parent(entry, charge_reference=reference,
                              payment_reference=processor.new_payment_reference(self.ids),
                              order_id=self._new_order_id())

    def _follow_up(self, processor: Processor, parent: _Parent, entry_type: str, occurred_at: datetime,
                   amount: int) -> tuple[LedgerVersion, _Parent]:
        """A refund or chargeback of `parent` (a capture), or the reversal of `parent` (a chargeback)."""
        reference = processor.new_reference(
            self.ids, entry_type,
            parent_reference=parent.entry.processor_reference if entry_type == "chargeback_reversal" else None,
        )
        entry = self._entry(entry_type, processor, reference, parent.entry.account_id, parent.entry.merchant_id,
                            amount, parent.entry.currency, occurred_at)
        return entry, _Parent(entry, parent.charge_reference, parent.payment_reference, parent.order_id)

    def _entry(self, entry_type: str, processor: Processor, reference: str, account_id: str, merchant_id: str,
               amount: int, currency: str, occurred_at: datetime) -> LedgerVersion:
        return LedgerVersion(
            entry_id=self.ids.new("le_"), entry_type=entry_type, processor=processor.name,
            processor_reference=reference, account_id=account_id, merchant_id=merchant_id,
            amount_minor=amount, currency=currency, status="posted", occurred_at=occurred_at,
            updated_at=occurred_at,  # inserted when it happened: updated_at is the extraction watermark
        )

    def _later(self, at: datetime, days: int) -> datetime:
        """A moment `days` days after `at` (same day: a few minutes to hours later, never past midnight)."""
        if days == 0:
            return min(at + timedelta(seconds=self.rng.randint(60, 4 * 3600)), datetime.combine(at.date(), time.max))
        return random_time_on(self.rng, at.date() + timedelta(days=days))

    def _book_and_settle(self, processor: Processor, entry: LedgerVersion, link: _Parent, anomaly: str) -> None:
        """A posted entry and its processor line on the same day (the healthy path)."""
        self.scenario.ledger.append(entry)
        self.scenario.anomaly_by_entry[entry.entry_id] = anomaly
        self._add_txn(processor, entry, business_date=entry.business_date, created_at=entry.occurred_at,
                      charge_reference=link.charge_reference, payment_reference=link.payment_reference,
                      order_id=link.order_id)

    def _story(self, processor: Processor, slot: Slot, occurred_at: datetime) -> None:
        """partial_refund, multiple_refunds, chargeback_and_reversal: a fresh capture and its follow-ups, every
        one booked and settled the day it happens (so all of them match)."""
        capture, link = self._capture(processor, occurred_at)
        self._book_and_settle(processor, capture, link, slot.anomaly)
        first_at = self._later(occurred_at, slot.delay)
        then_days = min(self.rng.randint(0, 2), (self.end - first_at.date()).days)
        amount = capture.amount_minor
        if slot.anomaly == "partial_refund":
            refund, _ = self._follow_up(processor, link, "refund", first_at, self.rng.randint(1, amount - 1))
            self._book_and_settle(processor, refund, link, slot.anomaly)
        elif slot.anomaly == "multiple_refunds":
            first = self.rng.randint(1, amount - 1)
            rest = amount - first
            # Half of the time the two refunds add up to the whole payment, else to part of it.
            second = rest if self.rng.random() < 0.5 else self.rng.randint(1, rest)
            for refund_amount, at in ((first, first_at), (second, self._later(first_at, then_days))):
                refund, _ = self._follow_up(processor, link, "refund", at, refund_amount)
                self._book_and_settle(processor, refund, link, slot.anomaly)
        else:
            chargeback, chargeback_link = self._follow_up(processor, link, "chargeback", first_at, amount)
            self._book_and_settle(processor, chargeback, link, slot.anomaly)
            reversal, _ = self._follow_up(processor, chargeback_link, "chargeback_reversal",
                                          self._later(first_at, then_days), amount)
            self._book_and_settle(processor, reversal, link, slot.anomaly)

    def _missing_in_ledger(self, processor: Processor, day: date, occurred_at: datetime) -> None:
        # A processor charge the product never booked: build the would-be entry only to describe the line.
        currency = pick_currency(self.rng)
        ghost = LedgerVersion(
            entry_id="", entry_type="capture", processor=processor.name,
            processor_reference=processor.new_reference(self.ids, "capture"), account_id="",
            merchant_id=self.rng.choice(self.merchants), amount_minor=random_amount_minor(self.rng, currency),
            currency=currency, status="posted", occurred_at=occurred_at, updated_at=occurred_at,
        )
        txn = self._add_txn(processor, ghost, business_date=day, created_at=occurred_at,
                            charge_reference=ghost.processor_reference,
                            payment_reference=processor.new_payment_reference(self.ids),
                            order_id=self._new_order_id())
        self.scenario.anomaly_by_line[txn.line_id] = "missing_in_ledger"

    def item(self, slot: Slot, day: date, occurred_at: datetime) -> None:
        processor = PROCESSORS[slot.processor]
        if slot.anomaly == "missing_in_ledger":
            self._missing_in_ledger(processor, day, occurred_at)
            return
        if slot.anomaly in STORY_CLASSES:
            self._story(processor, slot, occurred_at)
            return

        entry, link = self._new_entry(processor, occurred_at)
        self.scenario.ledger.append(entry)
        self.scenario.anomaly_by_entry[entry.entry_id] = slot.anomaly
        refs = dict(charge_reference=link.charge_reference, payment_reference=link.payment_reference,
                    order_id=link.order_id)
        later = day + timedelta(days=slot.delay)

        match slot.anomaly:
            case "none":
                self._add_txn(processor, entry, business_date=day, created_at=occurred_at, **refs)
                # Only healthy items are refunded/disputed later, so follow-ups never inherit an anomaly.
                if entry.entry_type == "capture":
                    self.captures[processor.name].append(link)
                elif entry.entry_type == "chargeback":
                    self.chargebacks[processor.name].append(link)
            case "amount_mismatch":
                delta = 1 if entry.amount_minor == 1 else self.rng.choice((-1, 1))
                self._add_txn(processor, entry, business_date=day, created_at=occurred_at,
                              amount_minor=entry.amount_minor + delta, **refs)
            case "currency_mismatch":
                self._add_txn(processor, entry, business_date=day, created_at=occurred_at,
                              currency=other_currency(self.rng, entry.currency), **refs)
            case "missing_in_processor":
                # Every other one is booked late: it occurred BOOKED_LATE_DAYS before the day the product
                # recorded it, so it is past the grace period as soon as it is seen (missing_in_processor shows
                # even in a 3-day run); the others go pending -> missing as the days pass.
                if self.missing_seen % 2 == 0:
                    self.scenario.ledger[-1] = replace(entry, occurred_at=entry.occurred_at - timedelta(
                        days=BOOKED_LATE_DAYS))
                self.missing_seen += 1
            case "late_settlement":
                self._add_txn(processor, entry, business_date=later, created_at=occurred_at, **refs)
            case "duplicate_in_ledger":
                # A second posted entry for the same money event (double booking), same day or the next.
                twin_at = occurred_at + timedelta(seconds=self.rng.randint(1, 600)) if slot.delay == 0 \
                    else random_time_on(self.rng, later)
                twin_at = min(twin_at, datetime.combine(later, time.max))
                twin = replace(entry, entry_id=self.ids.new("le_"), occurred_at=twin_at, updated_at=twin_at)
                self.scenario.ledger.append(twin)
                self.scenario.anomaly_by_entry[twin.entry_id] = slot.anomaly
                self._add_txn(processor, entry, business_date=day, created_at=occurred_at, **refs)
            case "duplicate_in_processor":
                first = self._add_txn(processor, entry, business_date=day, created_at=occurred_at, **refs)
                self._add_txn(processor, entry, business_date=later,
                              created_at=occurred_at if slot.delay == 0 else random_time_on(self.rng, later),
                              description=first.description, **refs)
            case "voided":
                # Same row, status changed on a later day; a voided entry never reaches the processor.
                self.scenario.ledger.append(replace(entry, status="voided",
                                                    updated_at=random_time_on(self.rng, later)))
            case _:
                raise ValueError(f"unknown anomaly {slot.anomaly!r}")


def build_scenario(rng: random.Random, ids: IdFactory, *, start: date, days: int, slots: list[Slot]) -> Scenario:
    builder = _Builder(rng, ids, start, days)
    builder.scenario.slots = slots
    slots_by_day: dict[int, list[Slot]] = defaultdict(list)
    for slot in slots:
        slots_by_day[slot.day_index].append(slot)
    for day_index in range(days):
        day = start + timedelta(days=day_index)
        day_slots = slots_by_day[day_index]
        # Times drawn then sorted, so every follow-up happens after the item it points at.
        times = sorted(rng.randrange(_MICROS_PER_DAY) for _ in day_slots)
        for slot, micros in zip(day_slots, times):
            builder.item(slot, day, datetime.combine(day, time()) + timedelta(microseconds=micros))
    return builder.scenario
