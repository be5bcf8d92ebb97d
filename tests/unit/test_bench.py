"""The benchmark's pieces that need no service: the big-day writer's files read back by the real parsers (so the
benchmark measures the formats the pipeline reads), its carry-over between days, the grouping of recorded stages
into the issue's stages, the targets, the namespace rule and the memory sampler. No timing is asserted."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from recon.bench import env, growth, report
from recon.bench.datagen import BigDataWriter, write_stripe_file
from recon.bench.memory import MB, TreeSampler, classify
from recon.bench.pipeline import StageRow, group_stages
from recon.parsers.registry import get_parser
from recon.sources import all_sources

pytestmark = pytest.mark.unit

D1 = date(2026, 3, 2)
D2 = D1 + timedelta(days=1)


def _parse(source_name: str, path: Path) -> list[dict]:
    source = all_sources()[source_name]
    return [row.values for row in get_parser(source.format)(source, path, path.name)]


@pytest.fixture(scope="module")
def two_days(tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("bigday")
    writer = BigDataWriter(out, seed=11, bank_lag_days=1)
    return out, [writer.write_day(D1, 3000), writer.write_day(D2, 3000)]


def test_every_file_of_a_day_reads_back_with_the_pipelines_parsers(two_days) -> None:
    _, days = two_days
    for files in days:
        assert len(_parse("stripe", files.files["stripe"])) == files.rows["stripe"]
        assert len(_parse("adyen", files.files["adyen"])) == files.rows["adyen"]
        bank_lines = len(_parse("bank_us", files.files["bank_us"])) + len(_parse("bank_eu", files.files["bank_eu"]))
        assert bank_lines == files.rows["bank"] == len(files.bank_tsv.read_text().splitlines())
        ledger = files.ledger_csv.read_text().splitlines()
        assert ledger[0].split(",")[0] == "entry_id" and len(ledger) - 1 == files.rows["ledger"]
        assert files.rows["stripe"] + files.rows["adyen"] > 0.9 * files.entries  # ~1 line per entry, plus payouts


def test_payout_lines_carry_the_sum_of_their_lines(two_days) -> None:
    _, days = two_days
    stripe = _parse("stripe", days[0].files["stripe"])
    for payout in {r["automatic_payout_id"] for r in stripe}:
        lines = [r for r in stripe if r["automatic_payout_id"] == payout]
        paid = [r["net_minor"] for r in lines if r["reporting_category"] == "payout"]
        assert len(paid) == 1 and -paid[0] == sum(r["net_minor"] for r in lines
                                                 if r["reporting_category"] != "payout") > 0
    adyen = _parse("adyen", days[0].files["adyen"])
    for currency in {r["net_currency"] for r in adyen}:
        rows = [r for r in adyen if r["net_currency"] == currency]
        net = sum((r["net_credit_minor"] or 0) - (r["net_debit_minor"] or 0) for r in rows if r["type"] != "MerchantPayout")
        payout = [r["net_debit_minor"] for r in rows if r["type"] == "MerchantPayout"]
        assert payout == [net] and net > 0


def test_what_crosses_days_lands_on_a_later_day(two_days) -> None:
    out, days = two_days
    day1_key = f"{D1:%Y%m%d}"
    # lines that settle late: day 2's Stripe file settles some day-1 charges (their ids carry the day-1 date)
    stripe2 = _parse("stripe", days[1].files["stripe"])
    assert any((r["source_id"] or "").startswith(("ch_" + day1_key, "re_" + day1_key, "dp_" + day1_key))
               for r in stripe2)
    # voids: day 2's ledger changes hold new versions of day-1 entries, voided
    voided = [line.split(",") for line in days[1].ledger_csv.read_text().splitlines()[1:]
              if ",voided," in line]
    assert voided and all(row[0].startswith(f"le_{day1_key}_") and row[10].startswith(D2.isoformat())
                          for row in voided)
    # bank lag 1: day 2's statements credit day 1's Stripe payouts, none of day 2's
    bank2 = days[1].bank_tsv.read_text()
    assert f"po_{day1_key}" in bank2 and f"po_{D2:%Y%m%d}" not in bank2


def test_a_big_stripe_file_is_written_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "stripe.csv"
    rows = write_stripe_file(path, D1, 5000)
    parsed = _parse("stripe", path)
    assert len(parsed) == rows and 5000 <= rows <= 5000 + 2 * 4
    assert {r["reporting_category"] for r in parsed} == {"charge", "fee", "payout"}


def test_recorded_stages_group_into_the_issues_stages() -> None:
    rows = [
        StageRow("ingest_ledger", "discover", "ledger", "success", 0.5, 0, 0),
        StageRow("ingest_ledger", "land", "ledger", "success", 2.0, 1000, 0),
        StageRow("ingest_ledger", "publish", "ledger", "success", 1.0, 0, 1000),
        StageRow("ingest_stripe", "land", "stripe", "success", 4.0, 600, 0),
        StageRow("ingest_stripe", "audit", "stripe", "success", 3.0, 0, 0),
        StageRow("ingest_stripe", "publish", "stripe", "success", 1.0, 0, 600),
        StageRow("reconcile_daily", "dbt", None, "success", 20.0, 0, 0),
        StageRow("reconcile_daily", "dbt_cross_model_tests", None, "success", 2.0, 0, 0),
        StageRow("reconcile_daily", "gate_marts", None, "success", 3.0, 0, 0),
        StageRow("reconcile_daily", "summary", None, "success", 0.5, 0, 0),
    ]
    grouped = group_stages(rows, dag_seconds=40.0)
    assert grouped["extract"] == {"seconds": 2.0, "rows": 1000, "rows_per_second": 500}
    assert grouped["land"] == {"seconds": 4.0, "rows": 600, "rows_per_second": 150}
    assert grouped["audit"]["rows"] == 1600 and grouped["publish"]["rows"] == 1600
    assert grouped["dbt"]["seconds"] == 20.0 and grouped["gates"]["seconds"] == 5.0
    assert grouped["other"]["seconds"] == 1.0
    assert grouped["airflow_overhead"]["seconds"] == 40.0 - 37.0


def test_targets_are_met_missed_or_not_measured() -> None:
    figures = {
        "day": {"entries": 1000, "pipeline_to_floor": 1.5, "landing": {"share_of_floor": 0.5},
                "honesty": {"equal": True},
                "run": {"memory": {"by_kind": {"pipeline": {"peak_mb": 700.0}, "dbt": {"peak_mb": 1100.0}}}}},
        "big_file": {"runs": [], "peak_ratio": 1.3},
    }
    verdicts = {t.name: t.met for t in report.targets(figures)}
    assert verdicts == {"end to end vs raw floor": True, "landing rate": False, "growth": None,
                        "peak RSS": False, "memory flat with file size": False, "honesty check": True}


def test_growth_trend_is_the_least_squares_slope() -> None:
    assert growth.slope([10.0, 12.0, 14.0, 16.0]) == pytest.approx(2.0)
    assert growth.slope([5.0]) == 0.0


def test_the_benchmark_never_takes_the_demo_namespace() -> None:
    assert env.resolve(None, {}).name == env.BENCH_NAMESPACE
    assert env.resolve(None, {"RECON_NAMESPACE": "recon", "RECON_S3_BUCKET": "recon-landing"}) == env.resolve(None, {})
    mine = env.resolve(None, {"RECON_NAMESPACE": "rb", "RECON_S3_BUCKET": "my-bucket", "AIRFLOW_HOME": "/x"})
    assert (mine.name, mine.bucket, mine.airflow_home) == ("rb", "my-bucket", "/x")
    other = env.resolve("perf_2", {"RECON_NAMESPACE": "rb", "RECON_S3_BUCKET": "my-bucket"})
    assert other.bucket == "recon-perf-2" and other.airflow_home.endswith("airflow-perf-2")
    with pytest.raises(ValueError, match="demo"):
        env.resolve("recon", {})


def test_the_sampler_sees_the_peak_of_a_process_and_its_children() -> None:
    code = ("import subprocess, sys, time; b = b'x' * (150 * 1024 * 1024); "
            "subprocess.run([sys.executable, '-c', 'import time; x = b\\'y\\' * (60 * 1024 * 1024); time.sleep(1.5)']); "
            "time.sleep(0.5)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    with TreeSampler(proc.pid, interval=0.1) as sampler:
        proc.wait()
    peaks = sampler.report
    assert 150 * MB <= peaks.peak_of("pipeline") < 1024 * MB
    children = [p for p in peaks.processes if p.kind != "pipeline"]
    assert children and max(p.peak_bytes for p in children) >= 60 * MB


def test_processes_are_classified_by_what_they_run() -> None:
    assert classify(["/x/.stack/dbt-venv/bin/python3", "/x/.stack/dbt-venv/bin/dbt", "build"], False) == "dbt"
    assert classify(["/x/venv/bin/python3", "/x/venv/bin/airflow", "dags", "test"], False) == "airflow"
    assert classify(["/usr/bin/bash", "script"], False) == "bash"
    assert classify(["anything"], True) == "pipeline"
