"""Late and missing sources, without services: the expected_by setting (parsing, the deadline it gives, refusals
naming the file and key), what one look at the bucket means, the failure message, the check_sources status of a
source from its ingest_runs rows, the summary's lines, and the wait task's place in the ingest DAGs."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest

from recon import arrival
from recon.arrival import ExpectedBy, parse_expected_by
from recon.sources import SourceConfigError, all_sources, load_source

pytestmark = pytest.mark.unit
DAY = date(2026, 1, 5)
UTC = timezone.utc


@pytest.mark.parametrize("text, days, at", [
    ("D+1 06:00", 1, time(6, 0)),
    ("D+1 00:00", 1, time(0, 0)),
    ("D+2 23:59 UTC", 2, time(23, 59)),
    (" D+7 13:30 ", 7, time(13, 30)),
])
def test_expected_by_parses(text: str, days: int, at: time) -> None:
    assert parse_expected_by(text) == ExpectedBy(days, at)


@pytest.mark.parametrize("value", ["06:00", "D+0 06:00", "D+8 06:00", "D+1 24:00", "D+1 6:00", "D-1 06:00",
                                   "D+1 06:00 CET", "+6h", "", 360, None])
def test_expected_by_refuses_other_forms(value: object) -> None:
    with pytest.raises(ValueError, match="D\\+1 06:00"):
        parse_expected_by(value)


def test_deadline_is_the_time_n_days_after_the_business_date_in_utc() -> None:
    assert parse_expected_by("D+1 06:00").deadline(DAY) == datetime(2026, 1, 6, 6, 0, tzinfo=UTC)
    assert parse_expected_by("D+2 09:15").deadline(date(2026, 12, 31)) == datetime(2027, 1, 2, 9, 15, tzinfo=UTC)
    assert parse_expected_by("D+1 00:00").deadline(date(2028, 2, 28)) == datetime(2028, 2, 29, 0, 0, tzinfo=UTC)
    assert parse_expected_by("D+3 07:00 UTC").text == "D+3 07:00"


def test_arrival_status_compares_the_first_file_with_the_deadline() -> None:
    deadline = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    assert arrival.arrival_status(deadline, deadline) == arrival.ON_TIME
    assert arrival.arrival_status(datetime(2026, 1, 6, 8, 0, 1, tzinfo=UTC), deadline) == arrival.LATE


def test_missing_message_names_source_date_expected_time_and_what_to_do() -> None:
    text = arrival.missing_message("adyen", DAY, parse_expected_by("D+1 08:00"), "recon-landing",
                                   "inbound/adyen/2026/01/05/", "dags/sources/adyen.yml")
    assert text.startswith("adyen: no file for business date 2026-01-05 by its expected time 2026-01-06 08:00 UTC "
                           '(expected_by "D+1 08:00" in dags/sources/adyen.yml)')
    assert "drop the file under s3://recon-landing/inbound/adyen/2026/01/05/" in text
    assert "clear wait_for_file of ingest_adyen for 2026-01-05" in text
    assert "re-run reconcile_daily for 2026-01-05" in text
    assert "`recon run --date 2026-01-05 --source adyen`" in text


def test_declared_file_sources_have_an_expected_time_and_the_ledger_has_none() -> None:
    sources = all_sources()
    expected = {name: s.expected_by.text for name, s in sources.items() if s.expected_by}
    assert expected == {"stripe": "D+1 06:00", "adyen": "D+1 04:00", "bank_us": "D+1 06:00", "bank_eu": "D+1 05:00"}
    assert all(sources[name].poke_interval_seconds == 300 for name in expected)
    assert sources["ledger"].kind == "database" and sources["ledger"].expected_by is None


BASE = "name: {name}\nkind: {kind}\nformat: csv_table\ntable: t\ncolumns: []\n"


def _yaml(tmp_path: Path, extra: str, kind: str = "file", name: str = "late") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(BASE.format(name=name, kind=kind) + extra)
    return path


def test_a_file_source_without_expected_by_gets_the_default(tmp_path: Path) -> None:
    source = load_source(_yaml(tmp_path, ""))
    assert source.expected_by == parse_expected_by(arrival.DEFAULT_EXPECTED_BY)
    assert source.poke_interval_seconds == arrival.DEFAULT_POKE_INTERVAL_SECONDS


@pytest.mark.parametrize("extra, kind, message", [
    ("expected_by: \"6am\"\n", "file", "expected_by '6am' is not 'D\\+N HH:MM'"),
    ("expected_by: 16:00\n", "file", "expected_by must be a quoted string"),  # YAML 1.1 reads 16:00 as 960
    ("poke_interval_seconds: 1\n", "file", "poke_interval_seconds must be a whole number from 10 to 3600"),
    ("poke_interval_seconds: 60.5\n", "file", "poke_interval_seconds must be a whole number"),
    ("expected_by: \"D+1 06:00\"\n", "database", "expected_by applies to file sources only"),
])
def test_a_bad_arrival_setting_is_refused_naming_the_file_and_key(tmp_path: Path, extra: str, kind: str,
                                                                  message: str) -> None:
    path = _yaml(tmp_path, extra, kind)
    with pytest.raises(SourceConfigError, match=message) as refused:
        load_source(path)
    assert str(refused.value).startswith(f"{path}: ")


def _judge(found: list[tuple[str, datetime]], now: datetime, earlier: int = 0, deadline: datetime | None = None):
    from recon.ingest.wait import judge

    return judge(all_sources()["adyen"], DAY, found, now, earlier, deadline)


def test_one_look_at_the_bucket() -> None:
    deadline = datetime(2026, 1, 6, 4, 0, tzinfo=UTC)  # adyen.yml: "D+1 04:00"
    before, after = datetime(2026, 1, 6, 1, 0, tzinfo=UTC), datetime(2026, 1, 6, 9, 0, tzinfo=UTC)
    on_time = _judge([("inbound/adyen/2026/01/05/a.csv", before)], after)
    assert (on_time.status, on_time.keys, on_time.deadline) == (arrival.ON_TIME, ["inbound/adyen/2026/01/05/a.csv"],
                                                                deadline)
    assert _judge([("k", after)], after).status == arrival.LATE  # put after the deadline: late, not refused
    assert _judge([], after, earlier=2).status == arrival.RECEIVED  # a re-run: the file was archived already
    assert _judge([], before).status == arrival.WAITING
    missing = _judge([], after)
    assert missing.status == arrival.MISSING
    assert "adyen: no file for business date 2026-01-05 by its expected time 2026-01-06 04:00 UTC" in missing.message
    assert "dags/sources/adyen.yml" in missing.message and "/inbound/adyen/2026/01/05/" in missing.message
    assert _judge([], deadline).status == arrival.MISSING  # the expected time itself is past due
    # a deferred wait is judged against the deadline it polled until (the YAML may have changed since)
    deferred = datetime(2026, 1, 6, 2, 0, tzinfo=UTC)
    assert _judge([("k", before)], after, deadline=deferred).status == arrival.ON_TIME
    assert _judge([], datetime(2026, 1, 6, 3, 0, tzinfo=UTC), deadline=deferred).status == arrival.MISSING
    assert "by its expected time 2026-01-06 02:00 UTC" in _judge([], after, deadline=deferred).message


def test_check_sources_status_from_ingest_runs() -> None:
    from recon.reconcile import _status

    # rows newest first: (step, status, detail)
    assert _status([]) == ("not_run", None, None)
    assert _status([("wait", "missing", "why")]) == ("missing", None, "why")
    assert _status([("wait", "waiting", "until 08:00")]) == ("waiting", None, "until 08:00")
    published_late = [("archive", "ok", None), ("publish", "ok", None), ("land", "ok", None),
                      ("discover", "found", None), ("wait", "late", None), ("wait", "missing", "why")]
    assert _status(published_late) == ("published", "late", None)  # the file came after the failure, re-run
    rerun = [("publish", "ok", None), ("wait", "received", None), ("publish", "ok", None), ("wait", "on_time", None)]
    assert _status(rerun) == ("published", "on_time", None)  # the first arrival counts
    assert _status([("land", "ok", None), ("discover", "found", None), ("wait", "on_time", None)])[0] == "not_run"
    assert _status([("publish", "ok", None), ("discover", "no_file", None)]) == ("published", None, None)
    assert _status([("discover", "no_file", None)]) == ("no_file", None, None)


def test_summary_lines_per_source_not_published() -> None:
    from recon.summary import format_arrivals

    due = datetime(2026, 1, 6, 8, 0)
    text = format_arrivals(DAY, [("adyen", "processor", "missing", due), ("bank_us", "bank", "waiting", due),
                                 ("ledger", "ledger", "published", None), ("stripe", "processor", "not_run", due)])
    lines = text.splitlines()
    assert lines[0] == "Sources for 2026-01-05 (rpt_source_arrivals): 1 of 4 published"
    assert lines[1].startswith("MISSING adyen (processor): no file by 2026-01-06 08:00 UTC; its items stay pending")
    assert lines[2].startswith("waiting bank_us (bank): file expected by 2026-01-06 08:00 UTC")
    assert lines[3] == "not run stripe (processor): ingest_stripe has not published 2026-01-05"
    assert format_arrivals(DAY, [("ledger", "ledger", "published", None)]).splitlines() == [
        "Sources for 2026-01-05 (rpt_source_arrivals): 1 of 1 published"]
    assert format_arrivals(DAY, []) == ""  # a date reconciled before the mart existed


def test_file_sources_wait_for_their_file_first_and_the_ledger_does_not() -> None:
    from recon.orchestration.arrival_sensor import WaitForFileSensor
    from recon.orchestration.ingest_dag import build_ingest_dag

    for name, source in all_sources().items():
        dag = build_ingest_dag(source)
        order = [t.task_id for t in dag.topological_sort()]
        if source.kind == "file":
            assert order == ["wait_for_file", "discover", "land", "audit", "publish", "archive"], name
            sensor = dag.get_task("wait_for_file")
            assert isinstance(sensor, WaitForFileSensor)
            assert (sensor.source_name, sensor.expected_by) == (name, source.expected_by.text)
            assert sensor.poke_interval == source.poke_interval_seconds
        else:
            assert order == ["discover", "land", "audit", "publish", "archive"], name


def test_the_trigger_serializes_to_an_importable_classpath() -> None:
    from importlib import import_module

    from recon.orchestration.arrival_trigger import S3FileArrivalTrigger

    trigger = S3FileArrivalTrigger("b", "inbound/adyen/2026/01/05/", "2026-01-06T08:00:00+00:00", 30)
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(import_module(module), name)(**kwargs)  # what the triggerer does
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs == {"bucket": "b", "prefix": "inbound/adyen/2026/01/05/", "deadline": "2026-01-06T08:00:00+00:00",
                      "poke_interval": 30.0}
