"""Format name (a source YAML's `format:`) -> parser."""
from __future__ import annotations

from recon.parsers.adyen import parse_adyen_settlement_csv
from recon.parsers.bai2 import parse_bai2
from recon.parsers.base import Parser
from recon.parsers.camt053 import parse_camt053
from recon.parsers.csv_table import parse_csv_table
from recon.parsers.stripe import parse_stripe_payout_csv

PARSERS: dict[str, Parser] = {
    "csv_table": parse_csv_table,
    "stripe_payout_csv": parse_stripe_payout_csv,
    "adyen_settlement_csv": parse_adyen_settlement_csv,
    "bai2": parse_bai2,
    "camt053": parse_camt053,
}


def get_parser(format_name: str) -> Parser:
    if format_name not in PARSERS:
        raise KeyError(f"no parser for format {format_name!r}; known formats: {', '.join(sorted(PARSERS))}")
    return PARSERS[format_name]
