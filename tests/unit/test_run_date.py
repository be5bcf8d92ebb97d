"""Which date a reconcile_daily run reconciles (recon.orchestration.run_date): a logical date wins; an
asset-triggered run (no logical date in Airflow 3) takes the latest date of its asset events that every source has
published, or none."""
from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest

from recon.orchestration import run_date
from recon.orchestration.common import run_business_date

pytestmark = pytest.mark.unit

D1, D2, D3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)


def _event(day: date | str | None) -> SimpleNamespace:
    return SimpleNamespace(extra={} if day is None else {"business_date": str(day)})


def test_event_dates_reads_every_asset_and_ignores_events_without_a_date() -> None:
    events = {"recon_staging_stripe": [_event(D1), _event(D2)], "recon_staging_ledger": [_event(D2), _event(None)],
              "recon_staging_adyen": [_event("not-a-date")]}
    assert run_date.event_dates(events) == {D1, D2}
    assert run_date.event_dates(None) == set() == run_date.event_dates({})


def test_pick_complete_date_takes_the_latest_date_every_source_published() -> None:
    assert run_date.pick_complete_date({D1, D2, D3}, {D1, D2}) == D2
    assert run_date.pick_complete_date({D3}, {D1, D2}) is None
    assert run_date.pick_complete_date(set(), {D1}) is None


def test_a_logical_date_wins_without_asking_the_database(monkeypatch) -> None:
    monkeypatch.setattr(run_date, "fully_published", lambda days: pytest.fail("no database for a dated run"))
    context = {"logical_date": datetime(2026, 1, 6, 7, 0, tzinfo=timezone.utc),
               "triggering_asset_events": {"x": [_event(D3)]}}
    assert run_date.reconcile_date(context) == D2


def test_an_asset_triggered_run_reconciles_the_latest_complete_event_date(monkeypatch) -> None:
    asked: list[set[date]] = []
    monkeypatch.setattr(run_date, "fully_published", lambda days: asked.append(days) or {D1, D2})
    context = {"logical_date": None,
               "triggering_asset_events": {"a": [_event(D1), _event(D3)], "b": [_event(D2)]}}
    assert run_date.reconcile_date(context) == D2
    assert asked == [{D1, D2, D3}]
    monkeypatch.setattr(run_date, "fully_published", lambda days: set())
    assert run_date.reconcile_date(context) is None


class _TI:
    def __init__(self, value: str | None) -> None:
        self.value, self.asked = value, []

    def xcom_pull(self, task_ids: str) -> str | None:
        self.asked.append(task_ids)
        return self.value


def test_tasks_after_wait_for_turn_read_its_date() -> None:
    ti = _TI("2026-01-07")
    assert run_business_date({"logical_date": None, "ti": ti}) == D3 and ti.asked == ["wait_for_turn"]
    assert run_business_date({"logical_date": datetime(2026, 1, 5, tzinfo=timezone.utc), "ti": ti}) == D1
    with pytest.raises(RuntimeError, match="chose no business date"):
        run_business_date({"logical_date": None, "ti": _TI(None)})
