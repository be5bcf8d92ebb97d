"""Format name (a source YAML's `format:`) -> parser, record counter and card-number scanner.

A new format registers all three: the parser (PARSERS), how to count its records without parsing it (the manifest's
rows_read, also for a file the parser refuses) and how to search its fields for card numbers (a raw search of every
byte if it has no scanner of its own)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from recon.parsers.adyen import is_adyen_reference, parse_adyen_settlement_csv
from recon.parsers.bai2 import count_bai2_records, parse_bai2
from recon.parsers.base import Parser
from recon.parsers.camt053 import count_camt053_records, parse_camt053
from recon.parsers.card_scan import CardNumberFound, scan_bai2, scan_camt053, scan_csv, scan_raw
from recon.parsers.csv_table import count_csv_records, parse_csv_table
from recon.parsers.stripe import parse_stripe_payout_csv

RecordCounter = Callable[[Path], int]
CardScanner = Callable[[Path, str], "CardNumberFound | None"]

PARSERS: dict[str, Parser] = {
    "csv_table": parse_csv_table,
    "stripe_payout_csv": parse_stripe_payout_csv,
    "adyen_settlement_csv": parse_adyen_settlement_csv,
    "bai2": parse_bai2,
    "camt053": parse_camt053,
}

RECORD_COUNTERS: dict[str, RecordCounter] = {
    "csv_table": count_csv_records,
    "stripe_payout_csv": count_csv_records,
    "adyen_settlement_csv": count_csv_records,
    "bai2": count_bai2_records,
    "camt053": count_camt053_records,
}

CARD_SCANNERS: dict[str, CardScanner] = {
    "csv_table": scan_csv,
    "stripe_payout_csv": scan_csv,
    "adyen_settlement_csv": lambda path, file_name: scan_csv(path, file_name, exempt=is_adyen_reference),
    "bai2": scan_bai2,
    "camt053": scan_camt053,
}


def get_parser(format_name: str) -> Parser:
    if format_name not in PARSERS:
        raise KeyError(f"no parser for format {format_name!r}; known formats: {', '.join(sorted(PARSERS))}")
    return PARSERS[format_name]


def count_records(format_name: str, path: Path) -> int:
    if format_name not in RECORD_COUNTERS:
        raise KeyError(f"no record counter for format {format_name!r}: register one in RECORD_COUNTERS "
                       "(plugins/recon/parsers/registry.py), the manifest's rows_read needs it")
    return RECORD_COUNTERS[format_name](path)


def find_card_number(format_name: str, path: Path, file_name: str) -> CardNumberFound | None:
    return CARD_SCANNERS.get(format_name, scan_raw)(path, file_name)
