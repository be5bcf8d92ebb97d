"""The dbt docs site: every model's columns and descriptions, the lineage graph (raw tables -> staging ->
intermediate -> marts) and the catalog of the warehouse's tables, built by `dbt docs generate` and served by
`dbt docs serve`. `make docs` runs `recon docs --port 8081` (also: `python -m recon.docs_site`).

The project's models need an as-of date to compile (macro as_of_date): the docs use the latest as-of date
processed (max(as_of_date) of `<ns>_marts.rpt_reconciliation_runs`), else today's date. dbt writes the site to
its target path: `DBT_TARGET_PATH` when set (relative to the dbt project, as dbt reads it), else
`dbt_project/target`.
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from recon import paths
from recon.dbt import run_dbt
from recon.reconcile import latest_processed_as_of_date

DEFAULT_PORT = 8081  # Airflow's UI has 8080
SITE_FILES = ("index.html", "manifest.json", "catalog.json")


def target_dir() -> Path:
    """Where dbt writes (and `dbt docs serve` reads) the site: DBT_TARGET_PATH, else the project's target/."""
    configured = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return configured if configured.is_absolute() else paths.dbt_project_dir() / configured


def docs_as_of_date() -> date:
    return latest_processed_as_of_date() or date.today()


def missing_site_files(directory: Path | None = None) -> list[str]:
    directory = directory or target_dir()
    return [name for name in SITE_FILES if not (directory / name).is_file()]


def generate(as_of: date) -> int:
    """`dbt docs generate` (compiles every model, reads the catalog from the warehouse); dbt's exit code."""
    print(f"dbt docs generate, models compiled as of {as_of.isoformat()} ...", flush=True)
    result = run_dbt(["docs", "generate", "--vars", f"{{as_of_date: '{as_of.isoformat()}'}}"], check=False)
    return result.returncode


def serve_site(port: int) -> int:
    """`dbt docs serve` on 127.0.0.1:port until Ctrl-C."""
    print(f"serving the dbt docs at http://localhost:{port} (Ctrl-C stops)", flush=True)
    try:
        return run_dbt(["docs", "serve", "--port", str(port), "--no-browser"], check=False).returncode
    except KeyboardInterrupt:
        return 0


def build_docs(serve: bool = True, port: int = DEFAULT_PORT, *, as_of_date: date | None = None) -> int:
    """Build the dbt docs site into the dbt target path and, with `serve`, serve it on `port`. Returns an exit
    code (0 when the site was built, and served until Ctrl-C when asked)."""
    as_of = as_of_date or docs_as_of_date()
    code = generate(as_of)
    if code != 0:
        print(f"dbt docs generate failed (exit {code})", file=sys.stderr)
        return code
    missing = missing_site_files()
    if missing:
        print(f"dbt docs generate wrote no {', '.join(missing)} in {target_dir()}", file=sys.stderr)
        return 1
    print(f"docs site built in {target_dir()} (as of {as_of.isoformat()})", flush=True)
    return serve_site(port) if serve else 0


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recon.docs_site",
        description="Build the dbt docs site (models, columns, lineage graph, warehouse catalog) with "
                    "`dbt docs generate` and serve it with `dbt docs serve` on http://localhost:PORT. Models are "
                    "compiled as of the latest as-of date processed (else today). The site goes to "
                    "DBT_TARGET_PATH if set, else dbt_project/target.",
        epilog="Needs the local stack (make up) and the dbt virtualenv. Example: make docs")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port of the docs server, on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--no-serve", dest="serve", action="store_false",
                        help="only build the site (target/index.html, manifest.json, catalog.json)")
    parser.add_argument("--as-of-date", type=_parse_date, default=None, metavar="YYYY-MM-DD",
                        help="compile the models as of this date (default: latest processed, else today)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from recon.stack.config import apply_environment

    apply_environment()  # the local stack's settings, unless the user set their own
    return build_docs(serve=args.serve, port=args.port, as_of_date=args.as_of_date)


if __name__ == "__main__":
    sys.exit(main())
