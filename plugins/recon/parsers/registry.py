"""Format name (a source YAML's `format:`) -> parser, record counter and card-number scanner.

A new format registers all three: the parser (PARSERS), how to count its records without parsing it (the manifest's
rows_read, also for a file the parser refuses) and how to search its fields for card numbers (a raw search of every
byte if it has no scanner of its own)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

from recon.parsers.adyen import add_created_utc, check_adyen_row, is_adyen_reference, parse_adyen_settlement_csv
from recon.parsers.bai2 import count_bai2_records, parse_bai2
from recon.parsers.base import Parser
from recon.parsers.camt053 import count_camt053_records, parse_camt053
from recon.parsers.card_scan import CardNumberFound, scan_bai2, scan_camt053, scan_csv, scan_raw
from recon.parsers.csv_table import RecordCount, count_csv_records, csv_table_tsv_lines, parse_csv_table
from recon.parsers.stripe import check_stripe_row, parse_stripe_payout_csv
from recon.sources import Source

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


# Formats read in one pass straight to the TSV that lands them (the record count as it goes): the parser's rows as
# write_tsv writes them, and the file's records counted by the same reading (recon.ingest.land uses them).
TsvLines = Callable[[Source, Path, str, RecordCount], Iterator[str]]
TSV_LINES: dict[str, TsvLines] = {
    "csv_table": csv_table_tsv_lines,
    "stripe_payout_csv": lambda source, path, file_name, count: csv_table_tsv_lines(
        source, path, file_name, count, row_check=check_stripe_row),
    "adyen_settlement_csv": lambda source, path, file_name, count: csv_table_tsv_lines(
        source, path, file_name, count, row_check=check_adyen_row, prepare=add_created_utc),
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
