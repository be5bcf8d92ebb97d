"""`recon generate`: argparse wiring for generate() (the lead's CLI calls add_arguments and run)."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from .anomalies import ANOMALY_CLASSES, DEFAULT_RATES, EFFECTS, ITEM_CLASSES, PAYOUT_CLASSES
from .api import DEFAULT_START, generate


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def _rate(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in DEFAULT_RATES:
        raise argparse.ArgumentTypeError(f"expected CLASS=FLOAT with CLASS one of {', '.join(ANOMALY_CLASSES)}")
    try:
        rate = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from exc
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"rate must be between 0 and 1, got {value}")
    return name, rate


def rates_help() -> str:
    def listing(names: tuple[str, ...]) -> str:
        return "; ".join(f"{name}={DEFAULT_RATES[name]:g} ({EFFECTS[name]})" for name in names)

    return f"per item: {listing(ITEM_CLASSES)}. Per payout: {listing(PAYOUT_CLASSES)}"


EPILOG = (
    "Writes, under --out: product/ledger_changes_<date>.csv; s3/inbound/{stripe,adyen,bank_us,bank_eu}/YYYY/MM/DD/ "
    "(Stripe payout reconciliation CSV, Adyen settlement details batch 1001+day, BAI2 for USD/JPY, camt.053 for "
    "EUR/KWD); truth/transactions.csv and truth/payouts.csv (expected marts per as-of date); truth/summary.json."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    if not parser.epilog:
        parser.epilog = EPILOG
    parser.add_argument("--days", type=_positive_int, default=3, help="number of business days (default: 3)")
    parser.add_argument("--per-day", type=_non_negative_int, default=200,
                        help="items (ledger entries) per day (default: 200)")
    parser.add_argument("--seed", type=int, default=42,
                        help="RNG seed; same seed and arguments give byte-identical files (default: 42)")
    parser.add_argument("--start", type=_iso_date, default=DEFAULT_START,
                        help=f"first business date, YYYY-MM-DD (default: {DEFAULT_START.isoformat()})")
    parser.add_argument("--out", type=Path, default=None, help="output directory")
    parser.add_argument(
        "--rate", action="append", type=_rate, default=None, metavar="CLASS=FLOAT",
        help="probability of an anomaly class per item (ledger entry) or per payout, repeatable (0 switches a "
             "class off; with --days >= 3 and --per-day >= 50 every class with a rate > 0 occurs at least once per "
             "processor; late_bank_credit and missing_bank_credit need --days >= 5 to show every status). "
             "Classes and defaults, " + rates_help().replace("%", "%%"),
    )


def run(args: argparse.Namespace) -> int:
    if args.out is None:
        print("recon generate: --out is required", file=sys.stderr)
        return 2
    try:
        result = generate(Path(args.out), days=args.days, per_day=args.per_day, seed=args.seed, start=args.start,
                          rates=dict(args.rate or []))
    except ValueError as exc:
        print(f"recon generate: {exc}", file=sys.stderr)
        return 2

    print(f"wrote {len(result.files)} files under {result.out_dir} "
          f"({result.start.isoformat()} .. {result.end.isoformat()}, seed {args.seed})")
    print(f"  ledger:    {len(result.ledger_files)} files, {result.ledger_entries} entries, {result.ledger_rows} rows")
    print(f"  processor: {len(result.processor_files)} files, {result.processor_lines} transaction lines, "
          f"{result.processor_file_rows} rows, {result.payouts} payouts")
    print(f"  bank:      {len(result.bank_files)} files, {result.bank_lines} statement lines")
    print(f"  truth:     {result.truth_rows} transaction rows and {result.payout_truth_rows} payout rows over "
          f"{len(result.summary)} as-of dates, {result.items} items")
    anomalies = ", ".join(f"{name} {count}" for name, count in result.anomaly_counts.items() if name != "none")
    print(f"  anomalies: {anomalies}")
    print(f"expected transaction status as of {result.end.isoformat()}:")
    for status, count in result.last_as_of_status_counts.items():
        print(f"  {status:<24}{count:>8}")
    print(f"expected payout status as of {result.end.isoformat()}:")
    for status, count in result.last_as_of_payout_status_counts.items():
        print(f"  {status:<24}{count:>8}")
    return 0
