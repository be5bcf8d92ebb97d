"""`recon demo`: the whole story on the local stack, from an empty warehouse: generate N days, and for each day
seed the product database and S3 as the product and the partners would, run the DAGs, then print the summary
read back from the marts and check it against the generator's ground truth."""
from __future__ import annotations

import argparse
import shutil
import time
from datetime import date, timedelta

from recon import paths


def run(args: argparse.Namespace) -> int:
    from recon import generator, runner, seed, summary, truth
    from recon.stack import manager

    started = time.monotonic()
    manager.reset()
    data_dir = paths.stack_dir() / "data" / "demo"
    shutil.rmtree(data_dir, ignore_errors=True)
    result = generator.generate(data_dir, days=args.days, per_day=args.per_day, seed=args.seed, start=args.start)
    print(f"generated {args.days} days x ~{args.per_day} ledger entries (seed {args.seed}) in {data_dir}")
    last = args.start + timedelta(days=args.days - 1)
    for day in runner.dates_between(args.start, last):
        seed.seed_day(data_dir, day)
        code = runner.run_days(day, day)
        if code:
            return code
    print()
    summary.print_summary(last)
    comparison = truth.compare(data_dir, last)
    print()
    if comparison.ok:
        print(f"ground truth: all {comparison.expected_rows} transaction rows as of {last} have the expected status, "
              f"payout status and payout reference; statuses: "
              f"{', '.join(f'{k} {v}' for k, v in sorted(comparison.status_counts.items()))}")
        print(f"ground truth: all {comparison.expected_payout_rows} payout rows as of {last} have the expected status "
              f"and amounts; statuses: "
              f"{', '.join(f'{k} {v}' for k, v in sorted(comparison.payout_status_counts.items()))}")
    else:
        print(f"ground truth: {len(comparison.differences)} differences as of {last}:")
        for line in comparison.differences[:20]:
            print("  " + line)
    print(f"demo finished in {time.monotonic() - started:.0f}s ({result.ledger_entries} ledger entries). "
          "Query the marts: eval \"$(.stack/venv/bin/recon stack env)\"; see README 'Query the marts'.")
    return 0 if comparison.ok else 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=3, help="business dates to generate and run (default 3)")
    parser.add_argument("--per-day", type=int, default=200, help="ledger entries per day (default 200)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 5),
                        help="first business date (default 2026-01-05)")
