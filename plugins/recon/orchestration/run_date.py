"""Which business date a reconcile_daily run reconciles.

A scheduled run, a backfill's run and a manual run with a logical date reconcile that date. A run triggered by the
staging assets (every source published since the last such run) has no logical date in Airflow 3: it reconciles the
latest date named by its triggering asset events for which every declared source has published; if there is none
(the sources' events are for different dates), it skips, and the daily schedule reconciles those dates."""
from __future__ import annotations

import logging
from datetime import date
from typing import Any, Iterable, Mapping

log = logging.getLogger(__name__)
BUSINESS_DATE_KEY = "business_date"  # the key of the date in a staging asset event's extra (ingest publish)


def event_dates(triggering_asset_events: Mapping[Any, Iterable[Any]] | None) -> set[date]:
    """The business dates the staging asset events carry (extra["business_date"], set by the ingest's publish)."""
    found: set[date] = set()
    for events in (triggering_asset_events or {}).values():
        for event in events:
            value = (getattr(event, "extra", None) or {}).get(BUSINESS_DATE_KEY)
            if value:
                try:
                    found.add(date.fromisoformat(str(value)))
                except ValueError:
                    log.warning("asset event with a business_date that is not a date: %r (ignored)", value)
    return found


def pick_complete_date(candidates: set[date], complete: set[date]) -> date | None:
    """The latest candidate date that every source has published."""
    ready = sorted(candidates & complete)
    return ready[-1] if ready else None


def fully_published(candidates: set[date]) -> set[date]:
    """The candidate dates for which every declared source is `published` as check_sources sees it."""
    from recon.reconcile import PUBLISHED, source_arrivals

    return {day for day in candidates if all(a.status == PUBLISHED for a in source_arrivals(day))}


def reconcile_date(context: Mapping[str, Any]) -> date | None:
    """The date this run reconciles, or None when an asset-triggered run finds no date every source published."""
    logical = context.get("logical_date")
    if logical is not None:
        return logical.date()
    candidates = event_dates(context.get("triggering_asset_events"))
    day = pick_complete_date(candidates, fully_published(candidates))
    log.info("asset-triggered run: event dates %s; reconciling %s", sorted(str(d) for d in candidates),
             day or "nothing (no date that every source has published)")
    return day
