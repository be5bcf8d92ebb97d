"""Stripe payout reconciliation report, itemized (contract 1.3): the generic CSV table plus Stripe's rules."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from recon.parsers.base import ParsedRow, Row
from recon.parsers.csv_table import parse_csv_table
from recon.sources import Source

_POSITIVE = {"charge"}
_NEGATIVE = {"refund", "dispute"}


def check_stripe_row(row: Row) -> None:
    category, gross = row["reporting_category"], row["gross_minor"]
    if category in _POSITIVE and gross <= 0:
        raise ValueError(f"gross: a {category} must have a positive gross, got {gross} minor units")
    if category in _NEGATIVE and gross >= 0:
        raise ValueError(f"gross: a {category} must have a negative gross, got {gross} minor units")
    if row["gross_minor"] - row["fee_minor"] != row["net_minor"]:
        raise ValueError(f"net: net ({row['net_minor']}) is not gross ({row['gross_minor']}) minus fee "
                         f"({row['fee_minor']})")
    if category in _POSITIVE | _NEGATIVE | {"dispute_reversal"} and not row.get("source_id"):
        raise ValueError(f"source_id: a {category} line needs the source_id it settles")


def parse_stripe_payout_csv(source: Source, path: Path, file_name: str) -> Iterator[ParsedRow]:
    return parse_csv_table(source, path, file_name, row_check=check_stripe_row)
