"""What the generator needs from a payment processor: its ids, its descriptions and its settlement file."""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import ClassVar, Sequence

from ..csvio import write_csv
from ..ids import IdFactory
from ..model import Payout, ProcessorTxn


@dataclass(frozen=True)
class LinePlacement:
    """Where a transaction line ended up: its final line id and the payout it belongs to."""

    line_id: str
    payout_reference: str
    net_currency: str


@dataclass
class SettlementFile:
    """One day's settlement file: its rows, the payouts it states, and where each transaction line went."""

    rows: list[dict[str, str]] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    placements: dict[str, LinePlacement] = field(default_factory=dict)  # keyed by the provisional line id


class Processor(ABC):
    name: ClassVar[str]  # value of ledger_entries.processor
    source: ClassVar[str]  # landing-zone source folder: inbound/<source>/YYYY/MM/DD/
    columns: ClassVar[tuple[str, ...]]

    @abstractmethod
    def new_reference(self, ids: IdFactory, entry_type: str, *, parent_reference: str | None = None) -> str:
        """The processor_reference of a new ledger entry; `parent_reference` is the chargeback of a reversal."""

    @abstractmethod
    def new_payment_reference(self, ids: IdFactory) -> str:
        """An id shared by a payment and its follow-ups (Stripe payment intent; Adyen has none)."""

    @abstractmethod
    def new_line_id(self, ids: IdFactory) -> str:
        """A provisional id for one transaction line (final for Stripe: the balance transaction id)."""

    @abstractmethod
    def describe(self, rng: random.Random, entry_type: str, order_id: str) -> str:
        """Free-text description of a line about the payment for `order_id`."""

    @abstractmethod
    def file_name(self, business_date: date, day_index: int) -> str: ...

    @abstractmethod
    def render(self, business_date: date, day_index: int, txns: Sequence[ProcessorTxn], rng: random.Random,
               ids: IdFactory) -> SettlementFile:
        """The file for `business_date` (day `day_index` of the run): transaction lines plus fees, adjustments
        and payouts; every payout's total is positive (a top-up adjustment covers a net-negative day)."""

    def relative_path(self, business_date: date, day_index: int) -> PurePosixPath:
        return PurePosixPath(
            "s3", "inbound", self.source, f"{business_date:%Y}", f"{business_date:%m}", f"{business_date:%d}",
            self.file_name(business_date, day_index),
        )

    def write_day(self, out_dir: Path, business_date: date, day_index: int, txns: Sequence[ProcessorTxn],
                  rng: random.Random, ids: IdFactory) -> tuple[Path, SettlementFile]:
        """Write the day's file (header only when the day has no lines)."""
        path = out_dir.joinpath(*self.relative_path(business_date, day_index).parts)
        settlement = self.render(business_date, day_index, txns, rng, ids)
        write_csv(path, self.columns, settlement.rows)
        return path, settlement
