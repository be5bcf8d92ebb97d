"""Adyen settlement details report (contract 1.4): the generic CSV table, plus the UTC creation time and the
rules each Adyen `Type` must follow. Columns are matched by header, so Adyen's many layouts (older ones with
Batch Number before the Reserved columns, newer 49-column ones, reordered ones) all read the same way."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recon.parsers.base import ParsedRow, Row
from recon.parsers.csv_table import parse_csv_table
from recon.sources import Source

CREATION_DATE, TIME_ZONE, CREATED_UTC = "Creation Date", "TimeZone", "created_utc"
_LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"

# Adyen writes the zone of the account's report setting. IANA names (CET, UTC, Europe/Amsterdam) go to
# zoneinfo; a few daylight/standard abbreviations zoneinfo does not know are unambiguous fixed offsets (the
# samples carry PST and PDT). Ambiguous ones (CST: US Central or China; IST; BST) stay unknown: refused.
_ABBREVIATIONS: dict[str, int] = {"PST": -8, "PDT": -7, "MDT": -6, "CDT": -5, "EDT": -4, "AKST": -9, "AKDT": -8,
                                  "CEST": 2, "EEST": 3, "WEST": 1}

# Type -> (money column it must carry, its header) and (text column it must carry, its header). Other types
# (Fee, Balancetransfer, MiscCosts, DepositCorrection...) are adjustments with no rule beyond the typing.
_NEEDS_AMOUNT = {
    "Settled": ("gross_credit_minor", "Gross Credit (GC)"),
    "ChargebackReversed": ("gross_credit_minor", "Gross Credit (GC)"),
    "Refunded": ("gross_debit_minor", "Gross Debit (GC)"),
    "Chargeback": ("gross_debit_minor", "Gross Debit (GC)"),
    "MerchantPayout": ("net_debit_minor", "Net Debit (NC)"),
}
_NEEDS_REFERENCE = {
    "Settled": ("psp_reference", "Psp Reference"),
    "Refunded": ("modification_reference", "Modification Reference"),
    "Chargeback": ("modification_reference", "Modification Reference"),
    "ChargebackReversed": ("modification_reference", "Modification Reference"),
}
_MONEY_HEADERS = {
    "gross_debit_minor": "Gross Debit (GC)", "gross_credit_minor": "Gross Credit (GC)",
    "net_debit_minor": "Net Debit (NC)", "net_credit_minor": "Net Credit (NC)",
    "commission_minor": "Commission (NC)", "markup_minor": "Markup (NC)",
    "scheme_fees_minor": "Scheme Fees (NC)", "interchange_minor": "Interchange (NC)",
}


def zone_named(name: str) -> tzinfo:
    """The zone a TimeZone value names; ValueError when zoneinfo and the abbreviation table both fail."""
    key = name.strip()
    if not key:
        raise ValueError(f"{TIME_ZONE}: is empty, so {CREATION_DATE} cannot be converted to UTC")
    if key.upper() in _ABBREVIATIONS:
        hours = _ABBREVIATIONS[key.upper()]
        return timezone(timedelta(hours=hours), key.upper())
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a valid key at all (e.g. a path)
        raise ValueError(f"{TIME_ZONE}: {name!r} is not a known time zone (an IANA name such as CET, UTC or "
                         f"Europe/Amsterdam, or one of {', '.join(sorted(_ABBREVIATIONS))})") from None


# zone_named's answers (the valid ones; a file names one or two zones), with the zone's fixed offset if it has one
_zones: dict[str, tuple[tzinfo, timedelta | None]] = {}
_UTC_KEYS = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "GMT", "Etc/GMT",
             "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0", "Etc/Greenwich", "Greenwich"}
_PLAIN_LOCAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def _zone(name: str) -> tuple[tzinfo, timedelta | None]:
    found = _zones.get(name)
    if found is None:
        zone = zone_named(name)
        fixed = zone.utcoffset(None) if isinstance(zone, timezone) else None
        if isinstance(zone, ZoneInfo) and zone.key in _UTC_KEYS:
            fixed = timedelta(0)
        found = (zone, fixed)
        if len(_zones) < 1000:
            _zones[name] = found
    return found


def _local_time(text: str) -> datetime:
    """datetime.strptime(text, _LOCAL_FORMAT); for the usual all-two-digit form without strptime's cost."""
    if _PLAIN_LOCAL.fullmatch(text):
        try:
            return datetime(int(text[:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                            int(text[17:19]))
        except ValueError:
            pass  # strptime says what is wrong
    return datetime.strptime(text, _LOCAL_FORMAT)


def local_to_utc(local_text: str, zone_name: str) -> datetime:
    """'2021-01-05 00:21:32' in CET -> 2021-01-04 23:21:32 (naive UTC). Refuses a wall time the zone skips."""
    zone, fixed = _zone(zone_name)
    try:
        local = _local_time(local_text.strip())
    except ValueError:
        raise ValueError(f"{CREATION_DATE}: {local_text!r} is not a date and time (expected YYYY-MM-DD HH:MM:SS)"
                         ) from None
    if fixed is not None:  # no daylight saving: no skipped wall time, the same answer as the conversion below
        return local - fixed
    aware = local.replace(tzinfo=zone)
    utc = aware.astimezone(timezone.utc)
    # A wall time inside a spring-forward gap does not exist; zoneinfo would shift it silently. (A time in the
    # autumn fold is ambiguous; fold=0, the first occurrence, is taken, as zoneinfo does.)
    if utc.astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError(f"{CREATION_DATE}: {local_text!r} does not exist in {zone_name} (skipped by a "
                         "daylight-saving change)")
    return utc.replace(tzinfo=None)


def add_created_utc(raw: dict[str, str]) -> dict[str, str]:
    """The raw row plus `created_utc`, Creation Date (local to TimeZone) in UTC."""
    utc = local_to_utc(raw.get(CREATION_DATE) or "", raw.get(TIME_ZONE) or "")
    # (isoformat: strftime's text, faster; the same for years from 1000)
    text = utc.isoformat(" ", "seconds") if utc.year >= 1000 else utc.strftime(_LOCAL_FORMAT)
    return {**raw, CREATED_UTC: text}


def check_adyen_row(row: Row) -> None:
    """The contract's per-type rules; amounts are as Adyen writes them (never negative)."""
    for column, header in _MONEY_HEADERS.items():
        if (row.get(column) or 0) < 0:
            raise ValueError(f"{header}: is negative ({row[column]} minor units); Adyen writes debits and credits "
                             "as positive amounts in separate columns")
    kind = row["type"]
    if kind in _NEEDS_AMOUNT:
        column, header = _NEEDS_AMOUNT[kind]
        if not row.get(column):
            raise ValueError(f"{header}: a {kind} row needs a {header} amount (it is empty or zero)")
    if kind in _NEEDS_REFERENCE:
        column, header = _NEEDS_REFERENCE[kind]
        if not row.get(column):
            raise ValueError(f"{header}: a {kind} row needs a {header}")


# Adyen's own references are 16-digit numbers from the same space as card numbers: about 1 in 25 passes the Luhn
# check with a card network's prefix (a real sample's Modification Reference does). So in these two columns a value
# that is exactly 16 digits is Adyen's reference; anything else there (grouped digits, text) is searched for card
# numbers like every other field.
REFERENCE_COLUMNS = ("Psp Reference", "Modification Reference")
_REFERENCE = re.compile(r"[0-9]{16}")


def is_adyen_reference(column: str, value: str) -> bool:
    return column in REFERENCE_COLUMNS and _REFERENCE.fullmatch(value.strip()) is not None


def parse_adyen_settlement_csv(source: Source, path: Path, file_name: str) -> Iterator[ParsedRow]:
    return parse_csv_table(source, path, file_name, row_check=check_adyen_row, prepare=add_created_utc)
