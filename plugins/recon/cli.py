"""The `recon` command: run the local stack, generate sample data, run days through Airflow, read the marts."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from recon import paths


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def _cmd_stack(args: argparse.Namespace) -> int:
    from recon.stack import manager

    if args.action == "up":
        manager.up(with_airflow=not args.no_airflow)
        return 0
    if args.action == "down":
        manager.down()
        return 0
    if args.action == "reset":
        if not args.yes:
            print("reset drops this namespace's databases and empties the bucket: add --yes", file=sys.stderr)
            return 2
        manager.reset()
        return 0
    if args.action == "status":
        return manager.status()
    print(manager.env_exports())
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from recon import demo

    return demo.run(args)


def _cmd_generate(args: argparse.Namespace) -> int:
    from recon import generator

    if args.out is None:
        args.out = paths.stack_dir() / "data" / "generated"
    return generator.run(args)


def _cmd_seed(args: argparse.Namespace) -> int:
    from recon import seed

    return seed.run(args)


def _cmd_run(args: argparse.Namespace) -> int:
    from recon import runner

    return runner.run_days(args.date, args.through or args.date, sources=args.source, reconcile=not args.no_reconcile)


def _cmd_summary(args: argparse.Namespace) -> int:
    from recon import summary

    return summary.print_summary(args.as_of)


def _cmd_dbt_manifest(args: argparse.Namespace) -> int:
    from recon import dbt

    print(f"wrote {dbt.build_manifest()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recon",
        description="Reconcile the product ledger with payment processors and banks (Airflow 3 + dbt + GX).",
        epilog="Typical local session: recon stack up; recon generate --days 3; recon seed --all; "
               "recon run --date 2026-01-05 --through 2026-01-07; recon summary",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("stack", help="start, stop or describe the local stack (MariaDB, S3, Airflow home)",
                       description="The local default stack lives under .stack/ (git-ignored).")
    p.add_argument("action", choices=["up", "down", "status", "env", "reset"],
                   help="up: start and initialise everything; down: stop the servers; status: what runs; "
                        "env: print the settings as shell exports (eval \"$(recon stack env)\"); "
                        "reset: drop this namespace's databases and empty the bucket (needs --yes)")
    p.add_argument("--no-airflow", action="store_true", help="with up: skip Airflow's metadata database")
    p.add_argument("--yes", action="store_true", help="with reset: really do it")
    p.set_defaults(func=_cmd_stack)

    p = sub.add_parser("generate", help="write sample ledger rows, processor (Stripe, Adyen) and bank (BAI2, camt.053) files and the ground truth",
                       description="Deterministic for a seed. Writes product/, s3/, truth/ under --out "
                                   "(default .stack/data/generated).")
    from recon.generator import add_arguments

    add_arguments(p)
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("demo", help="from an empty warehouse: generate, seed and run N days, print the summary",
                       description="What `make demo` runs: resets this namespace's databases and bucket, generates "
                                   "data, then for each day seeds the product database and S3 and runs the DAGs; "
                                   "prints the summary from the marts and checks it against the ground truth.")
    from recon.demo import add_arguments as add_demo_arguments

    add_demo_arguments(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("seed", help="load generated data into the product database and the S3 landing bucket",
                       description="Applies each day's ledger changes to the product database's ledger_entries "
                                   "and uploads that day's partner files to s3://<bucket>/inbound/...")
    p.add_argument("--from", dest="data_dir", type=Path, default=None,
                   help="generated data folder (default .stack/data/generated)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--date", type=_date, help="seed one business date (YYYY-MM-DD)")
    g.add_argument("--all", action="store_true", help="seed every generated date")
    p.set_defaults(func=_cmd_seed)

    p = sub.add_parser("run", help="run every source's ingest DAG, then reconcile_daily, for each date",
                       description="Runs the DAGs through Airflow (dag.test, in this process) date by date, in "
                                   "order, and stops at the first failure.")
    p.add_argument("--date", type=_date, required=True, help="first business date (YYYY-MM-DD)")
    p.add_argument("--through", type=_date, help="last business date (default: --date)")
    p.add_argument("--source", action="append", help="only this source's ingest (repeatable; default: all)")
    p.add_argument("--no-reconcile", action="store_true", help="ingest only; skip reconcile_daily")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("summary", help="print the reconciliation summary read back from the marts")
    p.add_argument("--as-of", type=_date, default=None, help="as-of date (default: the latest processed)")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("dbt-manifest", help="precompile the dbt manifest that cosmos renders the DAG from")
    p.set_defaults(func=_cmd_dbt_manifest)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from recon.stack.config import apply_environment

    apply_environment()  # the local stack's settings, unless the user set their own (theirs win)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
