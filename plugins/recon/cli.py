"""The `recon` command: run the local stack, generate sample data, run days through Airflow, read the marts."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
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
    if args.action == "init":
        return 0 if manager.init() else 1
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


def _cmd_reconcile_lock(args: argparse.Namespace) -> int:
    from recon import reconcile_lock
    from recon.stack.config import apply_environment

    apply_environment()
    lease = reconcile_lock.current()
    if lease.holder is None:
        print("the reconcile lock is free")
        return 0
    print(f"the reconcile lock is held by {lease.holder}, reconciling {lease.business_date}, since "
          f"{lease.acquired_at} UTC (taken over automatically after {reconcile_lock.expiry()})")
    if args.release:
        reconcile_lock.release()
        print("released: the next waiting reconcile run takes it within a minute")
    return 0


def _cmd_airflow(args: argparse.Namespace) -> int:
    from recon.stack import manager

    if args.action == "up":
        manager.airflow_up()
        return 0
    if args.action == "down":
        manager.airflow_down()
        return 0
    return manager.airflow_status()


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


def _cmd_breaks(args: argparse.Namespace) -> int:
    from recon.breaks import listing, resolutions

    if args.action == "list":
        filters = listing.BreakFilter(status=args.status, leg=args.leg, reasons=tuple(args.reason or ()),
                                      priority=args.priority, currency=args.currency,
                                      older_than_days=args.older_than, min_amount=args.min_amount, limit=args.limit)
        print(listing.FORMATTERS[args.format](listing.list_breaks(filters)))
        return 0
    if args.action == "refresh":
        return _refresh_break_marts()
    try:
        res = resolutions.record(args.break_id, args.reason, args.note, args.by)
    except resolutions.ResolutionRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"recorded resolution #{res.resolution_id}: break {res.break_id} {res.reason_code} by "
          f"{res.resolved_by} (as of {res.as_of_date})")
    if args.no_refresh:
        print("not refreshed (--no-refresh): run `recon breaks refresh` to show it in the marts")
        return 0
    return _refresh_break_marts()


def _refresh_break_marts() -> int:
    from recon.breaks.refresh import refresh_break_marts

    try:
        seconds = refresh_break_marts()
    except RuntimeError as exc:
        print(f"could not refresh the break marts: {exc}\nThe next reconcile run (or `recon breaks refresh`) "
              "will show any resolution recorded.", file=sys.stderr)
        return 1
    print(f"refreshed fct_reconciliation_breaks and rpt_break_aging in {seconds:.1f} s")
    return 0


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount: use major units, e.g. 100 or 12.50") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the amount must be >= 0")
    return value


def _add_breaks_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from recon.breaks.listing import FORMATTERS, STATUSES
    from recon.breaks.resolutions import REASON_CODES

    p = sub.add_parser("breaks", help="list, resolve and refresh reconciliation breaks (fct_reconciliation_breaks)",
                       description="Every item that is not matched (or, for payouts, not funded) is a break with a "
                                   "stable break_id, an age, a priority and a lifecycle: open, reopened, "
                                   "auto_resolved (later data cleared it) or resolved (by a person, here).")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    lp = actions.add_parser("list", help="list breaks as of the latest processed date (default: unresolved ones)",
                            description="Reads fct_reconciliation_breaks. Ordered by priority, then oldest, then "
                                        "biggest.")
    lp.add_argument("--status", choices=list(STATUSES), default="unresolved",
                    help="lifecycle filter: unresolved = open or reopened (default); closed = resolved or "
                         "auto_resolved; all")
    lp.add_argument("--leg", choices=["transaction", "payout"], help="only this leg")
    lp.add_argument("--reason", action="append", metavar="REASON",
                    help="only this reason (repeatable), e.g. missing_in_processor, amount_mismatch")
    lp.add_argument("--priority", choices=["P1", "P2", "P3"], help="only this priority")
    lp.add_argument("--currency", help="only this currency (ISO code)")
    lp.add_argument("--older-than", type=int, metavar="DAYS", help="only breaks open for more than DAYS days")
    lp.add_argument("--min-amount", type=_amount, metavar="AMOUNT",
                    help="only breaks of at least AMOUNT in major units of their own currency (e.g. 100 = "
                         "100.00 USD or 100 JPY)")
    lp.add_argument("--limit", type=int, help="at most this many rows")
    lp.add_argument("--format", choices=list(FORMATTERS), default="table", help="output format (default: table)")
    lp.set_defaults(func=_cmd_breaks)

    codes = "; ".join(f"{code}: {text}" for code, text in REASON_CODES.items())
    rp = actions.add_parser("resolve", help="resolve an open break, with the reason and who did it (audit trail)",
                            description="Appends a row to the append-only break_resolutions table and refreshes "
                                        "the break marts. Refused for an unknown break or one already closed. A "
                                        "resolved break reopens by itself if it changes or breaks again.",
                            epilog=f"reason codes - {codes}")
    rp.add_argument("break_id", help="the break's id (32 hex characters, from `recon breaks list`)")
    rp.add_argument("--reason", required=True, choices=list(REASON_CODES), help="reason code (see below)")
    rp.add_argument("--note", required=True, help="why, in words (kept in the audit trail)")
    rp.add_argument("--by", required=True, help="who resolves it (name or e-mail)")
    rp.add_argument("--no-refresh", action="store_true",
                    help="only record it (for many resolutions in a row; then run `recon breaks refresh` once)")
    rp.set_defaults(func=_cmd_breaks)

    fp = actions.add_parser("refresh", help="rebuild fct_reconciliation_breaks and rpt_break_aging (dbt)",
                            description="Runs dbt for the break marts at the latest processed as-of date; the "
                                        "reconciliation itself is not touched.")
    fp.set_defaults(func=_cmd_breaks)


def _cmd_docs(args: argparse.Namespace) -> int:
    from recon.docs_site import build_docs

    return build_docs(serve=not args.no_serve, port=args.port, as_of_date=args.as_of)


def _cmd_dbt_manifest(args: argparse.Namespace) -> int:
    from recon import dbt

    print(f"wrote {dbt.build_manifest()}")
    return 0


def _cmd_new_source(args: argparse.Namespace) -> int:
    from recon.scaffold.formats import ScaffoldError
    from recon.scaffold.plan import Layout, NewSource, plan_new_source, write_plan
    from recon.scaffold.report import describe

    request = NewSource(name=args.name, format=args.format, role=args.role, from_sample=args.from_sample,
                        entity=args.entity, table=args.table, processor=args.processor,
                        description=args.description, start_date=args.start_date)
    layout = Layout.of_project()
    try:
        plan = plan_new_source(request, layout)
        if not args.dry_run:
            write_plan(plan, force=args.force)
    except ScaffoldError as exc:
        print(f"recon new-source: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for planned in plan.files:
            print(f"==> {layout.show(planned.path)} <==\n{planned.content.decode('utf-8', 'replace')}")
    print(describe(plan, layout, dry_run=args.dry_run))
    return 0


def _add_new_source_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    from recon.scaffold.formats import FRIENDLY_NAMES, ROLES

    p = sub.add_parser(
        "new-source", help="scaffold a new partner source: its YAML, dbt staging model, a test and a sample file",
        description="Writes dags/sources/NAME.yml (columns, options and the Great Expectations suite of the audit "
                    "step), dbt_project/models/staging/stg_NAME__ENTITY.sql and .yml (the raw table as a dbt "
                    "source, the model's columns documented and tested), tests/unit/test_source_NAME.py and a "
                    "made-up sample file in tests/fixtures/sources/. The DAG ingest_NAME comes from the YAML alone. "
                    "Everything is checked before anything is written (the YAML loads, the sample parses with it); "
                    "an existing file is never replaced without --force.",
        epilog="Walk-through: docs/adding-a-source.md. Examples: recon new-source acme --format csv --role "
               "processor --from-sample acme_report.csv; recon new-source bank_ch --format bai2")
    p.add_argument("name", help="the source's name: lower case letters, digits and _ (DAG ingest_NAME, "
                                "S3 prefix inbound/NAME/)")
    p.add_argument("--format", required=True, metavar="FORMAT",
                   help=f"one of {', '.join(FRIENDLY_NAMES)}, or a name in plugins/recon/parsers/registry.py. "
                        "csv: a CSV file with a header row (the generic parser); bai2, camt053: bank statements; "
                        "stripe, adyen: those processors' reports (e.g. a second account). The columns, suite, "
                        "options and staging SQL of the others are copied from the source already reading that "
                        "format")
    p.add_argument("--role", choices=list(ROLES),
                   help="processor: its lines reconcile with the ledger, its payouts with the banks; bank: its "
                        "credits pay processor payouts; other: loaded and audited only. Needed with csv (bai2 and "
                        "camt053 are bank, stripe and adyen processor)")
    p.add_argument("--from-sample", type=Path, metavar="FILE",
                   help="with --format csv: the columns from this file's header, typed from its first rows (none "
                        "of its values is copied: the test's sample is made up)")
    p.add_argument("--entity", help="what a row is, for the model stg_NAME__ENTITY (default: settlement_lines for "
                                    "a processor, statement_lines for a bank, lines otherwise; with a copied "
                                    "model, its entity)")
    p.add_argument("--table", help="the raw table (default NAME_ENTITY): landing_TABLE and src_TABLE")
    p.add_argument("--processor", help="with role processor: the ledger's processor value for these lines "
                                       "(default NAME; at most 16 characters)")
    p.add_argument("--description", help="one line for the DAG and the dbt source (default: from name, entity "
                                          "and format)")
    p.add_argument("--start-date", type=_date, help="the first business date to ingest, YYYY-MM-DD (default: "
                                                    "today, UTC)")
    p.add_argument("--dry-run", action="store_true", help="print the files it would write; write nothing")
    p.add_argument("--force", action="store_true", help="replace files that exist already")
    p.set_defaults(func=_cmd_new_source)


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _cmd_bench(args: argparse.Namespace) -> int:
    from recon.bench import env
    from recon.bench.run import BenchConfig, run

    try:
        namespace = env.resolve(args.namespace, args.env_before)
    except ValueError as exc:
        print(f"recon bench: {exc}", file=sys.stderr)
        return 2
    env.use(namespace)
    skip = {phase for phase in ("overhead", "day", "floor", "big_file", "growth") if getattr(args, f"skip_{phase}")}
    cfg = BenchConfig(entries=args.entries, growth_days=args.growth_days, growth_entries=args.growth_entries,
                      big_file_rows=args.big_file_rows, day=args.date, seed=args.seed, skip=frozenset(skip),
                      out_dir=args.out or paths.stack_dir() / "bench", keep_data=args.keep_data,
                      namespace=namespace.name, command="recon bench " + " ".join(sys.argv[2:]))
    return run(cfg)


def _add_bench_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    import os

    from recon.bench import env

    p = sub.add_parser(
        "bench", help="the benchmark: a big day end to end against the raw floor, memory, growth, DAG overhead",
        description="Measures the platform on this machine (what `make bench` runs; docs/benchmarks.md). Phases, "
                    "in order: overhead (DAG parse time; `airflow dags test` of an ingest DAG with no file), day "
                    "(one business day of --entries ledger entries with their Stripe, Adyen, BAI2 and camt.053 "
                    "files, through every ingest DAG and reconcile_daily: seconds, rows and rows/s per stage, peak "
                    "RSS of every pipeline process), floor (LOAD DATA of the same files into bare tables and the "
                    "same reconciliation in hand-written SQL: pipeline / floor, and the floor's counts per status "
                    "against the marts'), big-file (peak RSS landing a Stripe file of --big-file-rows / 5, then "
                    "--big-file-rows rows), growth (--growth-days consecutive days of --growth-entries entries: the "
                    "last day's reconcile time against the first's). Prints progress as it goes and the figures "
                    "against the targets at the end; writes them as JSON (and Markdown tables) under .stack/bench/. "
                    "A missed target does not fail it; a failed DAG run or a floor that disagrees with the marts "
                    "does (exit 1). Runs in its own namespace, which it empties: never the demo's.",
        epilog="Full run (make bench): about 2 to 3 hours on 2 cores. A quick look: recon bench --entries 20000 "
               "--growth-days 3 --growth-entries 5000 --big-file-rows 100000")
    p.add_argument("--entries", type=_count, default=1_000_000, metavar="N",
                   help="ledger entries of the big day (default 1,000,000)")
    p.add_argument("--growth-days", type=_count, default=30, metavar="N",
                   help="consecutive days of the growth run (default 30)")
    p.add_argument("--growth-entries", type=_count, default=100_000, metavar="N",
                   help="ledger entries per growth day (default 100,000)")
    p.add_argument("--big-file-rows", type=_count, default=5_000_000, metavar="N",
                   help="rows of the big Stripe file of the memory phase; it is compared with a file of N/5 rows "
                        "(default 5,000,000)")
    p.add_argument("--date", type=_date, default=date(2026, 3, 2),
                   help="business date of the big day (default 2026-03-02); the big files take the next two dates, "
                        "the growth run starts 10 days later, the no-file DAG test a week before")
    p.add_argument("--seed", type=int, default=7, help="seed of the generated data (default 7)")
    p.add_argument("--namespace", default=None,
                   help=f"namespace to run in (emptied at the start of each phase and at the end). Default: "
                        f"RECON_NAMESPACE when it names another namespace than the demo's ({env.DEFAULT_NAMESPACE}), "
                        f"with its RECON_S3_BUCKET and AIRFLOW_HOME; else {env.BENCH_NAMESPACE!r} (bucket "
                        f"recon-{env.BENCH_NAMESPACE}, Airflow home .stack/airflow-{env.BENCH_NAMESPACE})")
    p.add_argument("--out", type=Path, default=None, help="where the figures and DAG logs go (default .stack/bench)")
    for phase, what in (("overhead", "the DAG parse time and the no-file `airflow dags test`"),
                        ("day", "the big day (and so the floor)"), ("floor", "the raw floor and its counts check"),
                        ("big-file", "the big-file memory phase"), ("growth", "the growth run")):
        p.add_argument(f"--skip-{phase}", action="store_true", help=f"skip {what}")
    p.add_argument("--keep-data", action="store_true",
                   help="leave the last phase's data in the namespace (default: empty it at the end; the big files "
                        "otherwise stay in the S3 server's memory)")
    p.set_defaults(func=_cmd_bench, env_before=env.snapshot(os.environ))


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
    p.add_argument("action", choices=["up", "down", "status", "env", "reset", "init"],
                   help="up: start and initialise everything; down: stop the servers; status: what runs; "
                        "init: only create the databases, tables and the loader/transformer/analyst users on the "
                        "configured server, as the admin login RECON_DB_USER (what docker-compose's airflow-init "
                        "runs); "
                        "env: print the settings as shell exports (eval \"$(recon stack env)\"); "
                        "reset: drop this namespace's databases and empty the bucket (needs --yes)")
    p.add_argument("--no-airflow", action="store_true", help="with up: skip Airflow's metadata database")
    p.add_argument("--yes", action="store_true", help="with reset: really do it")
    p.set_defaults(func=_cmd_stack)

    p = sub.add_parser("airflow", help="run Airflow itself on the local stack: API server + UI, scheduler, "
                                       "dag-processor, triggerer",
                       description="A running Airflow 3 on the local stack, for the UI (backfills, clearing a failed "
                                   "day) and the REST API. It also starts the stack (MariaDB, S3) if needed. The "
                                   "port is RECON_AIRFLOW_PORT (default 8080); the admin password is "
                                   "RECON_AIRFLOW_ADMIN_PASSWORD in .stack/credentials.env. `recon stack down` "
                                   "(make down) stops Airflow too.")
    p.add_argument("action", choices=["up", "down", "status"],
                   help="up: start what is not running and wait until healthy, then print the URL and login; "
                        "down: stop the Airflow processes (not the stack); status: which components run")
    p.set_defaults(func=_cmd_airflow)

    p = sub.add_parser("reconcile-lock", help="show (or free) the lock that lets one reconcile_daily run work at a time",
                       description="Every reconcile_daily run takes this lock in its first task (wait_for_turn) and "
                                   "gives it back in its teardown (release_turn), also after a failure. A run whose "
                                   "worker was killed leaves it held until RECON_RECONCILE_LOCK_HOURS (default 6) "
                                   "have passed; --release frees it at once. Only release it when no reconcile_daily "
                                   "run is running (check the UI).")
    p.add_argument("--release", action="store_true", help="free the lock now, whoever holds it")
    p.set_defaults(func=_cmd_reconcile_lock)

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
                                   "order. A failed ingest (e.g. a late file) does not stop the date: reconcile_daily "
                                   "still runs without that source, as on the schedule; a failed reconcile_daily "
                                   "stops before the next date. Exits 1 if anything failed.")
    p.add_argument("--date", type=_date, required=True, help="first business date (YYYY-MM-DD)")
    p.add_argument("--through", type=_date, help="last business date (default: --date)")
    p.add_argument("--source", action="append", help="only this source's ingest (repeatable; default: all)")
    p.add_argument("--no-reconcile", action="store_true", help="ingest only; skip reconcile_daily")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("summary", help="print the reconciliation summary read back from the marts",
                       description="Both legs' counts and amounts per status (rpt_daily_reconciliation) and the "
                                   "breaks by lifecycle, priority and age (rpt_break_aging) for one as-of date.")
    p.add_argument("--as-of", type=_date, default=None,
                   help="any processed as-of date, YYYY-MM-DD (default: the latest processed)")
    p.set_defaults(func=_cmd_summary)

    _add_breaks_parser(sub)

    p = sub.add_parser("docs", help="build the dbt docs site (models, columns, lineage graph) and serve it",
                       description="dbt docs generate for the latest processed as-of date, then dbt docs serve on "
                                   "127.0.0.1 (what `make docs` runs). Ctrl-C stops the server.")
    p.add_argument("--port", type=int, default=8081, help="port of the docs server (default 8081)")
    p.add_argument("--no-serve", action="store_true", help="only build the site (dbt_project/target)")
    p.add_argument("--as-of", type=_date, default=None,
                   help="as-of date the models compile for (default: the latest processed, else today)")
    p.set_defaults(func=_cmd_docs)

    _add_new_source_parser(sub)
    _add_bench_parser(sub)

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
