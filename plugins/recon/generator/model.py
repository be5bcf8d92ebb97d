"""Processor-neutral records the scenario produces and the writers / truth builders consume."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

ENTRY_TYPES: tuple[str, ...] = ("capture", "refund", "chargeback", "chargeback_reversal")

# Processor amounts are compared sign-adjusted (contract 1.6): debits are refunds and chargebacks.
ENTRY_SIGN: dict[str, int] = {"capture": 1, "refund": -1, "chargeback": -1, "chargeback_reversal": 1}


@dataclass(frozen=True)
class LedgerVersion:
    """One version of a `ledger_entries` row (contract 1.2). An entry has one version per insert/update."""

    entry_id: str
    entry_type: str
    processor: str
    processor_reference: str
    account_id: str
    merchant_id: str
    amount_minor: int
    currency: str
    status: str
    occurred_at: datetime
    updated_at: datetime

    @property
    def business_date(self) -> date:
        return self.occurred_at.date()


@dataclass(frozen=True)
class ProcessorTxn:
    """A processor line that carries a match key (never fee, payout or adjustment lines).

    `amount_minor` is already sign-adjusted (positive for a healthy item, like the ledger); each processor's writer
    turns it back into its own gross/fee/net columns. `currency` is the currency compared with the ledger (Adyen:
    the gross currency). The scenario gives every line a provisional `line_id`; the settlement file writer returns
    the final id (Adyen's depends on the line's place in the file) and the payout the line belongs to.
    """

    processor: str
    line_id: str
    reference: str
    entry_type: str
    currency: str
    amount_minor: int
    business_date: date  # the business date of the file that brings the line
    created_at: datetime
    charge_reference: str  # the original payment's id (Stripe ch_, Adyen payment PSP reference)
    payment_reference: str  # Stripe payment intent (pi_); empty for Adyen
    description: str
    payout_reference: str = ""  # filled once the settlement file is written
    net_currency: str = ""  # the payout's currency (Adyen may settle in another currency than the gross)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.processor, self.reference, self.entry_type)


@dataclass(frozen=True)
class Payout:
    """One processor payout as the settlement file states it: (processor, reference, net currency)."""

    processor: str
    reference: str  # payout_reference as dbt derives it (Stripe po_ id, Adyen `<merchant account>:<batch>`)
    token: str  # what a bank line must carry to pay it (Stripe po_ id, Adyen batch number)
    currency: str
    business_date: date  # = payout_date: every line of a payout comes in the same file
    expected_minor: int  # sum of the net of its lines, the payout line excluded
    reported_minor: int | None  # the payout line's amount (None: no payout line)
    bank_text_id: str = ""  # the processor's transfer id, quoted in the bank's remittance text

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.processor, self.reference, self.currency)


@dataclass(frozen=True)
class BankLine:
    """One bank statement line (BAI2 16 record or camt Ntry) exactly as it is written.

    `reference` is the BAI2 customer reference or the camt EndToEndId ('' when absent); `text_parts` are the BAI2
    text and its 88 continuations, or the camt Ustrd elements: readers join them with one space. `value_date` is
    None when the line states none (readers fall back to the statement date).
    """

    source: str  # bank_us | bank_eu
    statement_date: date
    currency: str
    direction: str  # credit | debit
    amount_minor: int
    purpose: str  # ach_credit | wire_credit | interest | service_charge | charge_reversal: type / bank codes
    bank_reference: str
    reference: str
    text_parts: tuple[str, ...]
    value_date: date | None
    status: str = "BOOK"  # camt Sts; BAI2 lines are always booked
    is_reversal: bool = False
    anomaly: str = "none"

    @property
    def text(self) -> str:
        return " ".join(self.text_parts)

    @property
    def effective_value_date(self) -> date:
        return self.value_date or self.statement_date

    @property
    def can_pay_a_payout(self) -> bool:
        return self.direction == "credit" and self.status == "BOOK" and not self.is_reversal
