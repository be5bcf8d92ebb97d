"""BAI2 (bank_us): one file per statement date, one group, one 03 account per currency, valid 49/98/99 totals.

Amounts are minor units (cents, yen). Text longer than one field continues on 88 records, split at a space:
readers (the `bai2` package) join the pieces with one space, which gives back the text.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Sequence

from ..model import BankLine
from .accounts import AccountDay

SENDER_ID = "122199983"  # the bank's routing number
RECEIVER_ID = "RECONFIN01"
TYPE_CODES: dict[str, str] = {
    "ach_credit": "142",  # ACH Credit Received
    "wire_credit": "195",  # Incoming Money Transfer
    "interest": "354",  # Interest Credit
    "charge_reversal": "399",  # Miscellaneous Credit
    "service_charge": "698",  # Miscellaneous Fees
}
_FUNDS_WITHOUT_VALUE_DATE = ("0", "Z", "")  # immediate, unknown, not stated: the reader uses the as-of date


def _funds(line: BankLine) -> str:
    if line.value_date is not None:
        return f"V,{line.value_date:%y%m%d},"  # value-dated: date, time (blank)
    return _FUNDS_WITHOUT_VALUE_DATE[int(line.bank_reference) % 3]  # varies, without another random draw


def _detail(line: BankLine) -> list[str]:
    head = f"16,{TYPE_CODES[line.purpose]},{line.amount_minor},{_funds(line)},{line.bank_reference},{line.reference},"
    if not line.text_parts:
        return [head + "/"]
    # The text is the record's last field: no "/" terminator, or it would be read as part of the text.
    return [head + line.text_parts[0], *(f"88,{part}" for part in line.text_parts[1:])]


def _account(statement: AccountDay) -> tuple[list[str], int]:
    """The account's records (03 .. 49) and its control total."""
    lines = statement.lines
    credits = [line.amount_minor for line in lines if line.direction == "credit"]
    debits = [line.amount_minor for line in lines if line.direction == "debit"]
    records = [
        f"03,{statement.account.number},{statement.account.currency},010,{statement.opening_minor},,,"
        f"015,{statement.closing_minor},,/",
        f"88,100,{sum(credits)},{len(credits)},,400,{sum(debits)},{len(debits)},/",  # summary continuation
    ]
    for line in lines:
        records.extend(_detail(line))
    control = (statement.opening_minor + statement.closing_minor + sum(credits) + sum(debits)
               + sum(line.amount_minor for line in lines))
    records.append(f"49,{control},{len(records) + 1}/")
    return records, control


def render_bai2(day: date, accounts: Sequence[AccountDay]) -> str:
    created = day + timedelta(days=1)  # the prior-day report, sent the next morning
    group: list[str] = [f"02,{RECEIVER_ID},{SENDER_ID},1,{day:%y%m%d},2400,USD,2/"]
    group_total = 0
    for statement in accounts:
        records, control = _account(statement)
        group.extend(records)
        group_total += control
    group.append(f"98,{group_total},{len(accounts)},{len(group) + 1}/")
    records = [f"01,{SENDER_ID},{RECEIVER_ID},{created:%y%m%d},0600,{day:%y%m%d}01,,,2/", *group]
    records.append(f"99,{group_total},1,{len(records) + 1}/")
    return "\n".join(records) + "\n"
