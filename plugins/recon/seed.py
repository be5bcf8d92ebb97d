"""`recon seed`: play generated data into the local stack, one business date at a time, as the product and the
partners would: the day's ledger changes go into the product database, the day's partner files into S3."""
from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path

from recon import connections, db, paths, s3
from recon.settings import load_settings
from recon.stack.config import admin_login

_DAY_FILE = re.compile(r"ledger_changes_(\d{4}-\d{2}-\d{2})\.csv$")


def generated_dates(data_dir: Path) -> list[date]:
    return sorted(date.fromisoformat(m.group(1)) for p in (data_dir / "product").glob("*.csv")
                  if (m := _DAY_FILE.search(p.name)))


def seed_ledger(data_dir: Path, day: date) -> int:
    path = data_dir / "product" / f"ledger_changes_{day}.csv"
    if not path.exists():
        return 0
    settings = load_settings()
    # the product application writes its own ledger: on the local stack the setup's admin login plays it (the
    # pipeline's loader may only read the product database)
    with db.transaction(connections.PRODUCT_DB, login=admin_login()) as cur:
        # REPLACE: a later day's row for an entry is its new version (a void, a correction)
        return cur.execute(
            f"LOAD DATA LOCAL INFILE %s REPLACE INTO TABLE {settings.product_db}.ledger_entries "
            "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
            "LINES TERMINATED BY '\\n' IGNORE 1 LINES (entry_id, entry_type, processor, processor_reference, "
            "@account_id, @merchant_id, amount_minor, currency, status, occurred_at, updated_at) "
            "SET account_id = NULLIF(@account_id, ''), merchant_id = NULLIF(@merchant_id, '')", (str(path),))


def seed_files(data_dir: Path, day: date) -> list[str]:
    settings = load_settings()
    client = s3.client()
    root = data_dir / "s3"
    uploaded = []
    for path in sorted(root.glob(f"inbound/*/{day:%Y/%m/%d}/*")):
        key = path.relative_to(root).as_posix()
        client.upload_file(str(path), settings.bucket, key)
        uploaded.append(key)
    return uploaded


def seed_day(data_dir: Path, day: date) -> None:
    rows = seed_ledger(data_dir, day)
    keys = seed_files(data_dir, day)
    print(f"{day}: {rows} ledger rows into the product database, {len(keys)} file(s) into S3")


def run(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or paths.stack_dir() / "data" / "generated"
    days = generated_dates(data_dir)
    if not days:
        print(f"no generated data in {data_dir}: run `recon generate` first")
        return 2
    if args.date is not None and args.date not in days:
        print(f"{args.date} is not a generated date ({days[0]} .. {days[-1]})")
        return 2
    for day in days if args.all else [args.date]:
        seed_day(data_dir, day)
    return 0
