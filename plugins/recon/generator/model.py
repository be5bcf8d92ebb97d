"""Processor-neutral records the scenario produces and the writers / truth builder consume."""
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
    turns it back into its own gross/fee/net columns.
    """

    processor: str
    line_id: str
    reference: str
    entry_type: str
    currency: str
    amount_minor: int
    business_date: date  # the business date of the file that brings the line
    created_at: datetime
    charge_reference: str  # the original payment's id (Stripe ch_), for refunds and disputes too
    payment_reference: str  # Stripe payment intent (pi_)
    description: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.processor, self.reference, self.entry_type)
