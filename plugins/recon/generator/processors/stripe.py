"""Stripe: `ch_`/`re_`/`dp_` references and the itemized payout reconciliation report (contract 1.3)."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import ClassVar, Sequence

from ..ids import IdFactory
from ..model import ENTRY_SIGN, Payout, ProcessorTxn
from ..money import EXPONENTS, format_major, major_units, small_amount_minor
from .base import LinePlacement, Processor, SettlementFile

COLUMNS: tuple[str, ...] = (
    "automatic_payout_id", "automatic_payout_effective_at", "balance_transaction_id", "created_utc",
    "available_on_utc", "currency", "gross", "fee", "net", "reporting_category", "source_id", "description",
    "charge_id", "payment_intent_id", "customer_facing_amount", "customer_facing_currency",
)

CATEGORY: dict[str, str] = {
    "capture": "charge", "refund": "refund", "chargeback": "dispute", "chargeback_reversal": "dispute_reversal",
}
_REFERENCE_PREFIX: dict[str, str] = {"capture": "ch_", "refund": "re_", "chargeback": "dp_"}

ADJUSTMENT_CATEGORY = "other_adjustment"  # any category outside the known ones is an adjustment (contract 1.3)
ADJUSTMENT_PROBABILITY = 0.5  # chance that a day's file carries one adjustment line
PAYOUT_DELAY_DAYS = 2  # automatic_payout_effective_at = business date + 2 days
DISPUTE_FEE_MAJOR = 15  # Stripe's dispute fee (15.00 in the dispute's currency)

_TS = "%Y-%m-%d %H:%M:%S"
TRACE_ALPHABET = "0123456789ACDEFGHJKLMNPQRSTUVWXYZ"  # no B: a bank's trace id must never spell "batch"


def gross_and_fee(txn: ProcessorTxn) -> tuple[int, int]:
    """Stripe's signed gross and fee in minor units; net = gross - fee."""
    gross = ENTRY_SIGN[txn.entry_type] * txn.amount_minor
    if txn.entry_type == "capture":
        # 2.9% + 30 minor units, rounded half up in integers (no float drift).
        return gross, (txn.amount_minor * 29 + 500) // 1000 + 30
    if txn.entry_type == "chargeback":
        return gross, major_units(txn.currency, DISPUTE_FEE_MAJOR)
    return gross, 0


class StripeProcessor(Processor):
    name: ClassVar[str] = "stripe"
    source: ClassVar[str] = "stripe"
    columns: ClassVar[tuple[str, ...]] = COLUMNS

    def new_reference(self, ids: IdFactory, entry_type: str, *, parent_reference: str | None = None) -> str:
        if entry_type == "chargeback_reversal":
            # Stripe reports a won dispute under the same dp_ id; the type keeps the two apart.
            if parent_reference is None:
                raise ValueError("a chargeback_reversal needs the dp_ id of its chargeback")
            return parent_reference
        return ids.new(_REFERENCE_PREFIX[entry_type])

    def new_payment_reference(self, ids: IdFactory) -> str:
        return ids.new("pi_")

    def new_line_id(self, ids: IdFactory) -> str:
        return ids.new("txn_")

    def describe(self, rng: random.Random, entry_type: str, order_id: str) -> str:
        if entry_type == "capture":
            return f"Payment for {order_id}"
        if entry_type == "refund":
            # A comma on purpose: readers must honour RFC 4180 quoting.
            return f"Refund for {order_id}, requested by customer"
        if entry_type == "chargeback":
            return f'Dispute "{rng.choice(["fraudulent", "product_not_received", "duplicate"])}" on {order_id}'
        return f"Dispute won on {order_id}"

    def file_name(self, business_date: date, day_index: int) -> str:
        return f"stripe_payout_reconciliation_{business_date:%Y-%m-%d}.csv"

    def render(self, business_date: date, day_index: int, txns: Sequence[ProcessorTxn], rng: random.Random,
               ids: IdFactory) -> SettlementFile:
        by_currency: dict[str, list[ProcessorTxn]] = defaultdict(list)
        for txn in txns:
            by_currency[txn.currency].append(txn)
        currencies = sorted(by_currency)
        adjustment_currency = (
            rng.choice(currencies) if currencies and rng.random() < ADJUSTMENT_PROBABILITY else None
        )
        effective = datetime.combine(business_date + timedelta(days=PAYOUT_DELAY_DAYS), time())

        out = SettlementFile()
        for currency in currencies:
            # One payout per currency and file; every line of it carries the payout id.
            payout = _Payout(ids.new("po_"), effective, currency)
            lines = sorted(by_currency[currency], key=lambda t: (t.created_at, t.line_id))
            for txn in lines:
                gross, fee = gross_and_fee(txn)
                payout.add(txn.line_id, txn.created_at, gross, fee, CATEGORY[txn.entry_type], txn.reference,
                           txn.description, txn.charge_reference, txn.payment_reference, customer_facing=True)
                out.placements[txn.line_id] = LinePlacement(txn.line_id, payout.payout_id, currency)

            # Radar screening: 0.05 per charge, at least one minor unit (fee lines have no source_id).
            charges = sum(1 for t in lines if t.entry_type == "capture")
            radar = max(1, -(-charges * 5 * 10 ** EXPONENTS[currency] // 100))
            payout.add(ids.new("txn_"), datetime.combine(business_date, time(23, 59, 59)), -radar, 0, "fee", "",
                       "Radar fees")

            if currency == adjustment_currency:
                amount = rng.choice((-1, 1)) * major_units(currency, rng.randint(1, 20))
                payout.add(ids.new("txn_"), datetime.combine(business_date, time(12, 0, 0)), amount, 0,
                           ADJUSTMENT_CATEGORY, ids.new("adj_"), 'Balance adjustment, "manual review"')

            if payout.net_total <= 0:
                # More refunds and disputes than charges: cover the day so that the payout stays a bank credit.
                top_up = small_amount_minor(rng, currency) - payout.net_total
                payout.add(ids.new("txn_"), datetime.combine(business_date, time(22, 0, 0)), top_up, 0,
                           ADJUSTMENT_CATEGORY, ids.new("adj_"), "Negative balance cover")

            # The payout itself moves the sum of its lines' nets out of the balance.
            expected = payout.net_total
            payout.add(ids.new("txn_"), effective, -expected, 0, "payout", payout.payout_id, "STRIPE PAYOUT")
            out.rows.extend(payout.rows)
            out.payouts.append(Payout(
                processor=self.name, reference=payout.payout_id, token=payout.payout_id, currency=currency,
                business_date=business_date, expected_minor=expected, reported_minor=expected,
                bank_text_id=f"ST-{ids.new('', 12, TRACE_ALPHABET)}",
            ))
        return out


class _Payout:
    """Rows of one payout of one file, with the running sum of their nets."""

    def __init__(self, payout_id: str, effective: datetime, currency: str) -> None:
        self.payout_id = payout_id
        self.effective = effective
        self.currency = currency
        self.rows: list[dict[str, str]] = []
        self.net_total = 0

    def add(self, line_id: str, created: datetime, gross: int, fee: int, category: str, source_id: str,
            description: str, charge_id: str = "", payment_intent_id: str = "", *,
            customer_facing: bool = False) -> None:
        currency = self.currency
        self.net_total += gross - fee
        self.rows.append({
            "automatic_payout_id": self.payout_id,
            "automatic_payout_effective_at": self.effective.strftime(_TS),
            "balance_transaction_id": line_id,
            "created_utc": created.strftime(_TS),
            "available_on_utc": self.effective.strftime(_TS),
            "currency": currency.lower(),
            "gross": format_major(gross, currency),
            "fee": format_major(fee, currency),
            "net": format_major(gross - fee, currency),
            "reporting_category": category,
            "source_id": source_id,
            "description": description,
            "charge_id": charge_id,
            "payment_intent_id": payment_intent_id,
            "customer_facing_amount": format_major(gross, currency) if customer_facing else "",
            "customer_facing_currency": currency.lower() if customer_facing else "",
        })
