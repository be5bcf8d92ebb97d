"""Adyen: 16-digit PSP references and the settlement details report, one batch per business date (contract 1.4).

Each file is batch N (1001 for the run's first day, then +1 per day) of merchant account RECON_MERCHANT: the
transaction rows (Settled, Refunded, Chargeback, ChargebackReversed), then per net currency a Fee row, now and
then an adjustment (MiscCosts, or Balancetransfer when the day nets negative) and the MerchantPayout row, whose
Net Debit is the sum of the other rows' net in that currency.
"""
from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from datetime import date, datetime, time
from typing import ClassVar, Sequence

from ..ids import IdFactory
from ..model import Payout, ProcessorTxn
from ..money import EXPONENTS, major_units, small_amount_minor
from ..timezones import is_ambiguous, to_local
from .base import LinePlacement, Processor, SettlementFile

COMPANY_ACCOUNT = "RECON_COMPANY"
MERCHANT_ACCOUNT = "RECON_MERCHANT"
FIRST_BATCH = 1001

COLUMNS: tuple[str, ...] = (
    "Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
    "Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)",
    "Gross Credit (GC)", "Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)", "Commission (NC)",
    "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)", "Payment Method Variant",
    "Modification Merchant Reference", "Batch Number", "Booking Date", "Booking Date TimeZone",
)

TYPE: dict[str, str] = {
    "capture": "Settled", "refund": "Refunded", "chargeback": "Chargeback", "chargeback_reversal": "ChargebackReversed",
}
# (method, variant, interchange++ pricing?) -- cards pay interchange + scheme fees + markup, the others a commission.
PAYMENT_METHODS: tuple[tuple[str, str, bool], ...] = (
    ("visa", "visastandardcredit", True), ("mc", "mcstandarddebit", True), ("amex", "amex", True),
    ("jcb", "jcbcredit", True), ("ideal", "ideal", False), ("klarna", "klarna_paynow", False),
)

CET_SHARE = 0.8  # rows in CET; the rest in UTC (the parser converts each row by its own TimeZone)
FX_SHARE = 0.25  # share of non-USD gross rows settled in USD (net currency != gross currency)
SETTLEMENT_CURRENCY = "USD"
RATE_SCALE = 10**9  # exchange rates are carried as integers over this scale: no float drift
USD_PER_MAJOR: dict[str, int] = {"EUR": 1_085_000_000, "JPY": 6_730_000, "KWD": 3_250_000_000}
FIXED_FEE_MINOR: dict[str, int] = {"USD": 10, "EUR": 10, "JPY": 15, "KWD": 30}  # per-transaction fixed fee
CHARGEBACK_FEE_MAJOR: dict[str, int] = {"USD": 15, "EUR": 15, "JPY": 2000, "KWD": 5}
ADJUSTMENT_PROBABILITY = 0.3  # chance that a batch carries a MiscCosts row

_TS = "%Y-%m-%d %H:%M:%S"


def batch_number(day_index: int) -> int:
    return FIRST_BATCH + day_index


def payout_reference(batch: int) -> str:
    return f"{MERCHANT_ACCOUNT}:{batch}"


def line_id(batch: int, row_type: str, psp_reference: str, modification_reference: str, occurrence: int) -> str:
    """The processor_line_id dbt derives: md5 of the row's identity plus its occurrence within the file."""
    text = f"{MERCHANT_ACCOUNT}|{batch}|{row_type}|{psp_reference}|{modification_reference}|{occurrence}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def format_amount(amount_minor: int, currency: str) -> str:
    """Adyen writes plain decimals without trailing zeros: 38.1, 75, 0.18 ('' for None)."""
    exp = EXPONENTS[currency]
    units, fraction = divmod(amount_minor, 10**exp)
    text = f"{units}.{fraction:0{exp}d}".rstrip("0").rstrip(".") if exp else str(units)
    return text


def _per_ten_thousand(amount: int, bp: int) -> int:
    return (amount * bp + 5_000) // 10_000  # round half up, integers only


class _Converter:
    """Gross -> net currency at a per-row rate (a little jitter around a base rate), rounded in integers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def settle(self, gross_currency: str) -> tuple[str, int]:
        """(net currency, rate over RATE_SCALE) for a new row."""
        if gross_currency in USD_PER_MAJOR and self.rng.random() < FX_SHARE:
            base = USD_PER_MAJOR[gross_currency]
            return SETTLEMENT_CURRENCY, base + base * self.rng.randint(-30, 30) // 10_000
        return gross_currency, RATE_SCALE

    @staticmethod
    def convert(amount_minor: int, gross_currency: str, net_currency: str, rate: int) -> int:
        numerator = amount_minor * rate * 10 ** EXPONENTS[net_currency]
        denominator = RATE_SCALE * 10 ** EXPONENTS[gross_currency]
        return (2 * numerator + denominator) // (2 * denominator)

    @staticmethod
    def format_rate(rate: int) -> str:
        units, fraction = divmod(rate, RATE_SCALE)
        return f"{units}.{fraction:09d}".rstrip("0").rstrip(".")


class AdyenProcessor(Processor):
    name: ClassVar[str] = "adyen"
    source: ClassVar[str] = "adyen"
    columns: ClassVar[tuple[str, ...]] = COLUMNS

    def new_reference(self, ids: IdFactory, entry_type: str, *, parent_reference: str | None = None) -> str:
        # Payments and every modification (refund, chargeback, its reversal) get their own PSP reference.
        return ids.number(16)

    def new_payment_reference(self, ids: IdFactory) -> str:
        return ""

    def new_line_id(self, ids: IdFactory) -> str:
        return ids.new("adyen_line_", 16)  # provisional: the real id depends on the line's place in the file

    def describe(self, rng: random.Random, entry_type: str, order_id: str) -> str:
        return order_id  # the Merchant Reference: the shop's order, shared by a payment and its modifications

    def file_name(self, business_date: date, day_index: int) -> str:
        return f"adyen_settlement_detail_report_batch_{batch_number(day_index)}.csv"

    def render(self, business_date: date, day_index: int, txns: Sequence[ProcessorTxn], rng: random.Random,
               ids: IdFactory) -> SettlementFile:
        batch = batch_number(day_index)
        reference = payout_reference(batch)
        converter = _Converter(rng)
        settled_modification: dict[str, str] = {}  # a re-sent capture in the same file repeats its row exactly
        rows: list[dict[str, str]] = []
        provisional: list[str | None] = []  # per row: the transaction line's provisional id, None for the others
        net_by_currency: dict[str, int] = defaultdict(int)
        count_by_currency: dict[str, int] = defaultdict(int)

        for txn in sorted(txns, key=lambda t: (t.created_at, t.line_id)):
            if txn.entry_type == "capture":
                psp = txn.reference
                if psp not in settled_modification:
                    settled_modification[psp] = ids.number(16)
                modification = settled_modification[psp]
            else:
                psp, modification = txn.charge_reference, txn.reference
            net_currency, rate = converter.settle(txn.currency)
            row, net = self._transaction_row(txn, psp, modification, net_currency, rate, batch, business_date, rng)
            net_by_currency[net_currency] += net
            count_by_currency[net_currency] += 1
            rows.append(row)
            provisional.append(txn.line_id)

        out = SettlementFile()
        currencies = sorted(net_by_currency)
        adjustment_currency = rng.choice(currencies) if currencies and rng.random() < ADJUSTMENT_PROBABILITY \
            else None
        closing = datetime.combine(business_date, time(23, 0, 0))
        for currency in currencies:
            fee = count_by_currency[currency] * FIXED_FEE_MINOR[currency]  # processing fee per transaction
            rows.append(self._batch_row("Fee", currency, closing, batch, rng, debit=fee,
                                        modification=f"Transaction Fees {business_date:%B %d %Y}"))
            net_by_currency[currency] -= fee
            if currency == adjustment_currency:
                cost = major_units(currency, rng.randint(1, 20))
                rows.append(self._batch_row("MiscCosts", currency, closing, batch, rng, debit=cost))
                net_by_currency[currency] -= cost
            if net_by_currency[currency] <= 0:
                # More refunds and chargebacks than settlements: funds come over from the reserve, so the
                # batch still pays out (a payout is always a bank credit).
                top_up = small_amount_minor(rng, currency) - net_by_currency[currency]
                rows.append(self._batch_row("Balancetransfer", currency, closing, batch, rng, credit=top_up,
                                            modification="Balance transfer from reserve"))
                net_by_currency[currency] += top_up

        for currency in currencies:
            transfer_id = f"TX{ids.number(10)}XT"
            total = net_by_currency[currency]
            rows.append(self._batch_row("MerchantPayout", currency, closing, batch, rng, debit=total,
                                        modification=f"{transfer_id} batch {batch}, {MERCHANT_ACCOUNT}"))
            out.payouts.append(Payout(
                processor=self.name, reference=reference, token=str(batch), currency=currency,
                business_date=business_date, expected_minor=total, reported_minor=total, bank_text_id=transfer_id,
            ))
        provisional.extend([None] * (len(rows) - len(provisional)))

        # Line ids in file order: a row repeated in the file is told apart by its occurrence number.
        seen: dict[tuple[str, str, str], int] = defaultdict(int)
        for row, txn_id in zip(rows, provisional):
            identity = (row["Type"], row.get("Psp Reference", ""), row.get("Modification Reference", ""))
            seen[identity] += 1
            if txn_id is not None:
                out.placements[txn_id] = LinePlacement(line_id(batch, *identity, seen[identity]), reference,
                                                       row["Net Currency"])
        out.rows = rows
        return out

    def _transaction_row(self, txn: ProcessorTxn, psp: str, modification: str, net_currency: str, rate: int,
                         batch: int, business_date: date, rng: random.Random) -> tuple[dict[str, str], int]:
        """The row and its net (net credit - net debit) in minor units of the net currency."""
        method, variant, interchange_plus = PAYMENT_METHODS[int(txn.charge_reference) % len(PAYMENT_METHODS)]
        converted = _Converter.convert(txn.amount_minor, txn.currency, net_currency, rate)
        commission = markup = scheme = interchange = 0
        if txn.entry_type == "capture":
            if interchange_plus:
                interchange = _per_ten_thousand(converted, 30)
                scheme = _per_ten_thousand(converted, 5)
                markup = _per_ten_thousand(converted, 60) + FIXED_FEE_MINOR[net_currency]
            else:
                commission = _per_ten_thousand(converted, 150) + FIXED_FEE_MINOR[net_currency]
        elif txn.entry_type == "chargeback":
            markup = major_units(net_currency, CHARGEBACK_FEE_MAJOR[net_currency])
        fees = commission + markup + scheme + interchange
        # Credits (Settled, ChargebackReversed) net of fees; debits (Refunded, Chargeback) plus fees.
        is_credit = txn.entry_type in ("capture", "chargeback_reversal")
        net = converted - fees if is_credit else -(converted + fees)
        zone = self._zone(txn.created_at, rng)
        row = self._base_row(TYPE[txn.entry_type], zone, txn.created_at, business_date, batch, net_currency)
        row.update({
            "Psp Reference": psp,
            "Merchant Reference": txn.description,
            "Payment Method": method,
            "Payment Method Variant": variant,
            "Modification Reference": modification,
            "Gross Currency": txn.currency,
            "Gross Debit (GC)": "" if is_credit else format_amount(txn.amount_minor, txn.currency),
            "Gross Credit (GC)": format_amount(txn.amount_minor, txn.currency) if is_credit else "",
            "Exchange Rate": _Converter.format_rate(rate),
            "Net Debit (NC)": format_amount(-net, net_currency) if net < 0 else "",
            "Net Credit (NC)": format_amount(net, net_currency) if net >= 0 else "",
            "Commission (NC)": _fee(commission, net_currency),
            "Markup (NC)": _fee(markup, net_currency),
            "Scheme Fees (NC)": _fee(scheme, net_currency),
            "Interchange (NC)": _fee(interchange, net_currency),
        })
        return row, net

    def _batch_row(self, row_type: str, currency: str, created: datetime, batch: int, rng: random.Random, *,
                   debit: int = 0, credit: int = 0, modification: str = "") -> dict[str, str]:
        row = self._base_row(row_type, self._zone(created, rng), created, created.date(), batch, currency)
        row.update({
            "Modification Reference": modification,
            "Net Debit (NC)": format_amount(debit, currency) if debit else "",
            "Net Credit (NC)": format_amount(credit, currency) if credit else "",
        })
        return row

    @staticmethod
    def _zone(utc: datetime, rng: random.Random) -> str:
        zone = "CET" if rng.random() < CET_SHARE else "UTC"
        return "UTC" if is_ambiguous(utc, zone) else zone  # never write a local time that occurs twice

    @staticmethod
    def _base_row(row_type: str, zone: str, created_utc: datetime, business_date: date, batch: int,
                  net_currency: str) -> dict[str, str]:
        booked = datetime.combine(business_date, time(23, 50, 0))
        return {
            "Company Account": COMPANY_ACCOUNT,
            "Merchant Account": MERCHANT_ACCOUNT,
            "Creation Date": to_local(created_utc, zone).strftime(_TS),
            "TimeZone": zone,
            "Type": row_type,
            "Net Currency": net_currency,
            "Batch Number": str(batch),
            "Booking Date": to_local(booked, zone).strftime(_TS),
            "Booking Date TimeZone": zone,
        }


def _fee(amount: int, currency: str) -> str:
    return format_amount(amount, currency) if amount else ""

