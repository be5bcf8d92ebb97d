"""Format name (a source YAML's `format:`) -> parser."""
from __future__ import annotations

from recon.parsers.base import Parser
from recon.parsers.csv_table import parse_csv_table
from recon.parsers.stripe import parse_stripe_payout_csv

PARSERS: dict[str, Parser] = {
    "csv_table": parse_csv_table,
    "stripe_payout_csv": parse_stripe_payout_csv,
}


def get_parser(format_name: str) -> Parser:
    if format_name not in PARSERS:
        raise KeyError(f"no parser for format {format_name!r}; known formats: {', '.join(sorted(PARSERS))}")
    return PARSERS[format_name]
