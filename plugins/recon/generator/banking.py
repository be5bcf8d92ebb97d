"""The banks' side of the world: which credit (if any) pays each payout, plus the lines that pay none.

USD and JPY payouts are paid into the US bank (BAI2), EUR and KWD payouts into the EU bank (camt.053), whatever
the processor. A payout's credit carries the processor's payout token (Stripe po_ id, Adyen `batch <N>`) in the
references or the remittance text, spelt the way each bank and processor happens to spell it.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Mapping, Sequence

from .anomalies import NONE
from .ids import IdFactory
from .model import BankLine, Payout
from .money import major_units
from .payout_anomalies import PayoutPlan
from .routing import ACCOUNT_CURRENCIES, BANK_OF_CURRENCY

SERVICE_CHARGE_PROBABILITY = 0.6  # per account and day: a bank fee debit (counted, not reconciled)
CHARGE_REVERSAL_PROBABILITY = 0.3  # bank_eu, per account and day: a booked reversal (RvslInd) of a fee
PENDING_NOTICE_PROBABILITY = 0.5  # bank_eu: a credit due in 2 days shows as PDNG on the day before
SERVICE_CHARGE_MAJOR: dict[str, tuple[int, int]] = {"USD": (5, 45), "JPY": (500, 5000), "EUR": (3, 30),
                                                    "KWD": (1, 10)}
INTEREST_MAJOR: dict[str, tuple[int, int]] = {"USD": (1, 80), "JPY": (10, 900), "EUR": (1, 60), "KWD": (1, 20)}
TRANSFER_MAJOR: dict[str, tuple[int, int]] = {"USD": (50, 5000), "JPY": (5000, 500_000), "EUR": (50, 4000),
                                              "KWD": (20, 1500)}
UNKNOWN_BATCH_BASE = 9_000_000  # batch numbers of stray credits: far above any batch the run writes


def _adyen_batch_text(rng: random.Random, batch: str) -> str:
    # Every spelling matches (?i)batch\s*[0-9]+: case and spacing vary between banks and days. Never without a
    # space: the token is the match's last word, and "BATCH1001" would give "BATCH1001", not "1001".
    return rng.choice(("batch {}", "BATCH {}", "Batch {}", "BATCH  {}", "batch  {}")).format(batch)


class _BankLines:
    """Builds the lines in a fixed order from the seeded stream (never sorted by anything random)."""

    def __init__(self, rng: random.Random, ids: IdFactory) -> None:
        self.rng, self.ids = rng, ids
        self.lines: list[BankLine] = []

    def _bank_reference(self, source: str, day: date) -> str:
        # Digits only (BAI2) / letters that spell no payout token (camt): a bank's own id never pays a payout.
        return self.ids.number(12) if source == "bank_us" else f"EU{day:%Y%m%d}{self.ids.number(8)}"

    def value_date(self, source: str, day: date) -> date | None:
        # Mostly stated; sometimes left out, and readers fall back to the statement's date (the same day).
        return day if self.rng.random() < (0.7 if source == "bank_us" else 0.8) else None

    def add(self, source: str, day: date, currency: str, direction: str, amount: int, purpose: str,
            reference: str, text_parts: tuple[str, ...], value_date: date | None, *, status: str = "BOOK",
            is_reversal: bool = False, anomaly: str = NONE) -> BankLine:
        line = BankLine(
            source=source, statement_date=day, currency=currency, direction=direction, amount_minor=amount,
            purpose=purpose, bank_reference=self._bank_reference(source, day), reference=reference,
            text_parts=text_parts, value_date=value_date, status=status, is_reversal=is_reversal, anomaly=anomaly,
        )
        self.lines.append(line)
        return line

    # -- what a payout's credit says ----------------------------------------------------------------------

    def payout_wording(self, payout: Payout, source: str) -> tuple[str, str, tuple[str, ...]]:
        """(purpose, customer reference / EndToEndId, text parts) of the credit that pays `payout`."""
        rng = self.rng
        if payout.processor == "stripe":
            where = rng.choice(("reference", "text", "split"))
            if where == "reference":
                return "ach_credit", payout.token, ("STRIPE TRANSFER", payout.bank_text_id)
            if where == "text":
                reference = payout.bank_text_id if source == "bank_us" else ""
                return "ach_credit", reference, (f"STRIPE PAYOUT {payout.token}",)
            # The id on its own continuation (88 record / second Ustrd).
            sender = "STRIPE, INC. TRANSFER" if source == "bank_us" else "STRIPE PAYMENTS EUROPE LTD"
            return "ach_credit", "", (sender, f"{payout.token} RECON FINTECH")
        batch_text = _adyen_batch_text(rng, payout.token)
        reference = payout.bank_text_id if rng.random() < 0.6 else ""
        if rng.random() < 0.5:
            return "wire_credit", reference, ("ADYEN N.V. PAYOUT", f"{batch_text}, RECON_MERCHANT")
        return "wire_credit", reference, (f"ADYEN N.V. {payout.bank_text_id} {batch_text} RECON_MERCHANT",)

    def stray_wording(self, payout: Payout, kind: str) -> tuple[str, str, tuple[str, ...]]:
        """(purpose, reference, text parts) of a credit that pays no payout."""
        if kind == "interest":
            return "interest", "", (f"INTEREST CREDIT {payout.business_date:%b %Y}".upper(),)
        if payout.processor == "stripe":
            return "ach_credit", "", (f"STRIPE PAYOUT {self.ids.new('po_')}",)  # a po_ id no payout has
        batch = str(UNKNOWN_BATCH_BASE + self.rng.randint(0, 999_999))
        return "wire_credit", "", (f"ADYEN N.V. {_adyen_batch_text(self.rng, batch)} RECON_MERCHANT",)


def build_bank_lines(rng: random.Random, ids: IdFactory, payouts: Sequence[Payout],
                     plans: Mapping[tuple[str, str, str], PayoutPlan], dates: Sequence[date]) -> list[BankLine]:
    """Every statement line inside the range: payout credits (as planned), stray credits and bank noise."""
    lines = _BankLines(rng, ids)
    end = dates[-1]
    for payout in sorted(payouts, key=lambda p: (p.business_date, p.processor, p.currency, p.reference)):
        plan = plans[payout.key]
        source = BANK_OF_CURRENCY[payout.currency]
        purpose, reference, text = lines.payout_wording(payout, source)
        currency = payout.currency
        if plan.lag is not None:
            day = payout.business_date + timedelta(days=plan.lag)
            amount = payout.expected_minor - plan.shortfall
            if source == "bank_eu" and plan.lag == 2 and rng.random() < PENDING_NOTICE_PROBABILITY:
                # Announced the day before as pending: counted, never reconciled.
                lines.add(source, day - timedelta(days=1), currency, "credit", amount, purpose, reference, text, day,
                          status="PDNG")
            label = NONE if plan.anomaly == "unexplained_bank_credit" else plan.anomaly
            lines.add(source, day, currency, "credit", amount, purpose, reference, text,
                      lines.value_date(source, day), anomaly=label)
            if plan.extra == "duplicate_credit":
                # The same transfer credited a second time, later: the first one pays the payout.
                again = payout.business_date + timedelta(days=plan.extra_lag)
                lines.add(source, again, currency, "credit", amount, purpose, reference, text,
                          lines.value_date(source, again), anomaly=plan.anomaly)
        if plan.extra in ("interest", "unknown_reference"):
            stray_purpose, stray_reference, stray_text = lines.stray_wording(payout, plan.extra)
            ranges = INTEREST_MAJOR if plan.extra == "interest" else TRANSFER_MAJOR
            amount = major_units(currency, rng.randint(*ranges[currency])) + rng.randint(0, 99)
            day = payout.business_date + timedelta(days=plan.extra_lag)
            lines.add(source, day, currency, "credit", amount, stray_purpose, stray_reference, stray_text,
                      lines.value_date(source, day), anomaly=plan.anomaly)

    for day in dates:
        for source in sorted(ACCOUNT_CURRENCIES):
            for currency in ACCOUNT_CURRENCIES[source]:
                _noise(lines, rng, source, currency, day)
    return [line for line in lines.lines if line.statement_date <= end]


def _noise(lines: _BankLines, rng: random.Random, source: str, currency: str, day: date) -> None:
    """Bank fees (debits) and, at the EU bank, reversals of them: counted, never reconciled."""
    if rng.random() < SERVICE_CHARGE_PROBABILITY:
        amount = major_units(currency, rng.randint(*SERVICE_CHARGE_MAJOR[currency]))
        text = "ACCOUNT SERVICE CHARGE" if source == "bank_us" else "ACCOUNT MAINTENANCE FEE & CHARGES <SEPA>"
        lines.add(source, day, currency, "debit", amount, "service_charge", "", (text,), lines.value_date(source, day))
    if source == "bank_eu" and rng.random() < CHARGE_REVERSAL_PROBABILITY:
        amount = major_units(currency, rng.randint(*SERVICE_CHARGE_MAJOR[currency]))
        lines.add(source, day, currency, "credit", amount, "charge_reversal", "",
                  ("REVERSAL OF ACCOUNT MAINTENANCE FEE",), lines.value_date(source, day), is_reversal=True)
