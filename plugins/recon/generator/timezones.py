"""UTC -> the local time Adyen writes for `CET` and `UTC` rows, without tz databases (stdlib-only, reproducible).

`CET` is read the way IANA's `CET` zone (zoneinfo) reads it: UTC+1, UTC+2 during EU summer time.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _eu_summer_time(utc: datetime) -> bool:
    # EU rule: from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October.
    start = datetime.combine(_last_sunday(utc.year, 3), datetime.min.time()) + timedelta(hours=1)
    end = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time()) + timedelta(hours=1)
    return start <= utc < end


def to_local(utc: datetime, zone: str) -> datetime:
    if zone == "UTC":
        return utc
    if zone == "CET":
        return utc + timedelta(hours=2 if _eu_summer_time(utc) else 1)
    raise ValueError(f"unsupported time zone {zone!r}")


def is_ambiguous(utc: datetime, zone: str) -> bool:
    """True when the local time occurs twice (the hour after summer time ends): readers may pick the wrong one."""
    if zone != "CET":
        return False
    end = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time()) + timedelta(hours=1)
    return end - timedelta(hours=1) <= utc < end + timedelta(hours=1)
