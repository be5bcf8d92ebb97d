"""Bank statement files: BAI2 for bank_us, camt.053 for bank_eu (one file per statement date)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Sequence

from ..model import BankLine
from .accounts import ACCOUNTS, Account, AccountDay, statement_days
from .bai2 import render_bai2
from .camt053 import render_camt053, version_for

BANK_SOURCES: tuple[str, ...] = ("bank_us", "bank_eu")


def statement_path(out_dir: Path, source: str, day: date) -> Path:
    extension = "bai2" if source == "bank_us" else "xml"
    return out_dir / "s3" / "inbound" / source / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / (
        f"{source}_{day:%Y-%m-%d}.{extension}")


def write_statements(out_dir: Path, lines: Sequence[BankLine], dates: Sequence[date]) -> list[Path]:
    """Every bank's file for every date of the range (balances only on a day without lines)."""
    paths = []
    for source in BANK_SOURCES:
        by_day = statement_days(source, lines, dates)
        for day_index, day in enumerate(dates):
            path = statement_path(out_dir, source, day)
            path.parent.mkdir(parents=True, exist_ok=True)
            if source == "bank_us":
                path.write_bytes(render_bai2(day, by_day[day]).encode("ascii"))
            else:
                path.write_bytes(render_camt053(day, day_index, by_day[day]))
            paths.append(path)
    return paths


__all__ = ["ACCOUNTS", "BANK_SOURCES", "Account", "AccountDay", "statement_path", "version_for", "write_statements"]
