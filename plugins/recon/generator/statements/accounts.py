"""The company's bank accounts and each statement day's opening/closing balances (chained day to day)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from ..model import BankLine


@dataclass(frozen=True)
class Account:
    source: str
    number: str  # BAI2 account number / camt IBAN or Othr/Id
    currency: str
    opening_minor: int  # balance before the run's first day
    is_iban: bool = False


ACCOUNTS: dict[str, tuple[Account, ...]] = {
    "bank_us": (Account("bank_us", "4410028831", "USD", 250_000_000),
                Account("bank_us", "4410028849", "JPY", 300_000_000)),
    "bank_eu": (Account("bank_eu", "DE89370400440532013000", "EUR", 80_000_000, is_iban=True),
                Account("bank_eu", "0001234560101", "KWD", 150_000_000)),
}


@dataclass(frozen=True)
class AccountDay:
    """One account's statement for one day: balances and lines (in the order the bank lists them)."""

    account: Account
    day: date
    opening_minor: int
    closing_minor: int
    lines: tuple[BankLine, ...]


def booked_movement(lines: Sequence[BankLine]) -> int:
    """What the booked lines do to the balance (pending lines do nothing; a reversal credit adds back)."""
    return sum(line.amount_minor if line.direction == "credit" else -line.amount_minor
               for line in lines if line.status == "BOOK")


def statement_days(source: str, lines: Sequence[BankLine], dates: Sequence[date]) -> dict[date, list[AccountDay]]:
    """Per statement date, every account of `source` (an account with no lines still gets its balances)."""
    by_key: dict[tuple[str, date], list[BankLine]] = {}
    for line in lines:
        if line.source == source:
            by_key.setdefault((line.currency, line.statement_date), []).append(line)
    out: dict[date, list[AccountDay]] = {day: [] for day in dates}
    for account in ACCOUNTS[source]:
        balance = account.opening_minor
        for day in dates:
            day_lines = tuple(by_key.get((account.currency, day), ()))
            closing = balance + booked_movement(day_lines)
            out[day].append(AccountDay(account, day, balance, closing, day_lines))
            balance = closing
    return out
