"""What the generator needs from a payment processor: its ids, its descriptions and its settlement file."""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from datetime import date
from pathlib import Path, PurePosixPath
from typing import ClassVar, Sequence

from ..csvio import write_csv
from ..ids import IdFactory
from ..model import ProcessorTxn


class Processor(ABC):
    name: ClassVar[str]  # value of ledger_entries.processor
    source: ClassVar[str]  # landing-zone source folder: inbound/<source>/YYYY/MM/DD/
    columns: ClassVar[tuple[str, ...]]

    @abstractmethod
    def new_reference(self, ids: IdFactory, entry_type: str, *, parent_reference: str | None = None) -> str:
        """The processor_reference of a new ledger entry; `parent_reference` is the chargeback of a reversal."""

    @abstractmethod
    def new_payment_reference(self, ids: IdFactory) -> str:
        """An id shared by a payment and its follow-ups (Stripe payment intent)."""

    @abstractmethod
    def new_line_id(self, ids: IdFactory) -> str:
        """The id of one line of the settlement file (Stripe balance transaction)."""

    @abstractmethod
    def describe(self, rng: random.Random, entry_type: str, order_id: str) -> str:
        """Free-text description of a line about the payment for `order_id`."""

    @abstractmethod
    def file_name(self, business_date: date) -> str: ...

    @abstractmethod
    def render(
        self, business_date: date, txns: Sequence[ProcessorTxn], rng: random.Random, ids: IdFactory
    ) -> list[dict[str, str]]:
        """All rows of the file for `business_date` (transaction lines plus fees, payouts, adjustments)."""

    def relative_path(self, business_date: date) -> PurePosixPath:
        return PurePosixPath(
            "s3", "inbound", self.source, f"{business_date:%Y}", f"{business_date:%m}", f"{business_date:%d}",
            self.file_name(business_date),
        )

    def write_day(
        self, out_dir: Path, business_date: date, txns: Sequence[ProcessorTxn], rng: random.Random, ids: IdFactory
    ) -> tuple[Path, int]:
        """Write the day's file (header only when the day has no lines) and return (path, rows written)."""
        path = out_dir.joinpath(*self.relative_path(business_date).parts)
        rows = self.render(business_date, txns, rng, ids)
        return path, write_csv(path, self.columns, rows)
