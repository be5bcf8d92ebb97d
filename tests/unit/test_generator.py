"""The sample-data generator: determinism, file formats, anomaly coverage and ground-truth invariants."""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

try:
    import recon.generator  # noqa: F401
except ImportError:  # no root conftest / install yet: import from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from recon.generator import ANOMALY_CLASSES, DEFAULT_RATES, STATUSES, TRUTH_COLUMNS, add_arguments, generate, run
from recon.generator.model import LedgerVersion, ProcessorTxn
from recon.generator.truth import compute_truth

pytestmark = pytest.mark.unit

START = date(2026, 1, 5)
DAYS = 6
EXPONENTS = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}
STRIPE_COLUMNS = [
    "automatic_payout_id", "automatic_payout_effective_at", "balance_transaction_id", "created_utc",
    "available_on_utc", "currency", "gross", "fee", "net", "reporting_category", "source_id", "description",
    "charge_id", "payment_intent_id", "customer_facing_amount", "customer_facing_currency",
]
LEDGER_COLUMNS = [
    "entry_id", "entry_type", "processor", "processor_reference", "account_id", "merchant_id", "amount_minor",
    "currency", "status", "occurred_at", "updated_at",
]
CATEGORY_TO_TYPE = {
    "charge": "capture", "refund": "refund", "dispute": "chargeback", "dispute_reversal": "chargeback_reversal",
}
SIGN = {"capture": 1, "refund": -1, "chargeback": -1, "chargeback_reversal": 1}
DATES = [START + timedelta(days=i) for i in range(DAYS)]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def to_minor(amount: str, currency: str) -> int:
    return int(Decimal(amount).scaleb(EXPONENTS[currency.upper()]))


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "data"
    generate(path, days=DAYS, per_day=60, seed=1234, start=START)
    return path


@pytest.fixture(scope="module")
def truth(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "truth" / "transactions.csv")


def stripe_path(out: Path, day: date) -> Path:
    return out / "s3" / "inbound" / "stripe" / f"{day:%Y/%m/%d}" / f"stripe_payout_reconciliation_{day:%Y-%m-%d}.csv"


@pytest.fixture(scope="module")
def stripe_lines(out: Path) -> dict[date, list[dict[str, str]]]:
    return {day: read_csv(stripe_path(out, day)) for day in DATES}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(out: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", days=DAYS, per_day=60, seed=1234, start=START)
    assert _tree(out) == _tree(tmp_path / "again")
    assert len(again.ledger_files) == DAYS and len(again.processor_files) == DAYS
    other = tmp_path / "other"
    generate(other, days=DAYS, per_day=60, seed=1235, start=START)
    assert _tree(other)["truth/transactions.csv"] != _tree(out)["truth/transactions.csv"]


def test_layout_and_parameters(out: Path) -> None:
    tree = _tree(out)
    for day in DATES:
        assert f"product/ledger_changes_{day:%Y-%m-%d}.csv" in tree
        assert f"s3/inbound/stripe/{day:%Y/%m/%d}/stripe_payout_reconciliation_{day:%Y-%m-%d}.csv" in tree
    assert {"truth/transactions.csv", "truth/summary.json", "generation.json"} <= set(tree)
    assert all(b"\r" not in data for data in tree.values())  # LF line endings everywhere
    params = json.loads(tree["generation.json"])
    assert params == {"days": DAYS, "per_day": 60, "seed": 1234, "start": "2026-01-05", "rates": DEFAULT_RATES}


@pytest.mark.parametrize(("days", "per_day"), [(3, 50), (DAYS, 60)])
def test_every_anomaly_class_occurs(out: Path, tmp_path: Path, days: int, per_day: int) -> None:
    path = out if days == DAYS else tmp_path / "small"
    if days != DAYS:
        generate(path, days=days, per_day=per_day, seed=7)
    rows = read_csv(path / "truth" / "transactions.csv")
    assert {row["anomaly"] for row in rows} == {"none", *ANOMALY_CLASSES}
    # Every status a 3-day window can show (missing_in_processor needs an item older than the grace period).
    assert set(STATUSES) - {"missing_in_processor"} <= {row["expected_status"] for row in rows}


def test_rate_zero_switches_a_class_off(tmp_path: Path) -> None:
    result = generate(tmp_path, days=3, per_day=50, seed=7, rates={"voided": 0.0, "amount_mismatch": 0.0})
    assert result.anomaly_counts["voided"] == 0 and result.anomaly_counts["amount_mismatch"] == 0
    with pytest.raises(ValueError):
        generate(tmp_path, days=1, per_day=1, seed=1, rates={"no_such_class": 0.1})


def test_stripe_files_and_payouts(stripe_lines: dict[date, list[dict[str, str]]], out: Path) -> None:
    for day, rows in stripe_lines.items():
        assert stripe_path(out, day).read_text(encoding="utf-8").splitlines()[0].split(",") == STRIPE_COLUMNS
        by_currency: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in rows:
            assert row["currency"] == row["currency"].lower()
            by_currency[row["currency"]].append(row)
            gross, fee, net = (to_minor(row[c], row["currency"]) for c in ("gross", "fee", "net"))
            assert net == gross - fee
            assert row["automatic_payout_effective_at"] == f"{day + timedelta(days=2):%Y-%m-%d} 00:00:00"
            datetime.strptime(row["created_utc"], "%Y-%m-%d %H:%M:%S")
        assert {"usd", "eur", "jpy", "kwd"} <= set(by_currency)
        for currency, lines in by_currency.items():
            assert len({line["automatic_payout_id"] for line in lines}) == 1  # one payout per currency and file
            payout_id = lines[0]["automatic_payout_id"]
            assert re.fullmatch(r"po_[A-Za-z0-9]{24}", payout_id)
            payouts = [line for line in lines if line["reporting_category"] == "payout"]
            fees = [line for line in lines if line["reporting_category"] == "fee"]
            assert len(payouts) == 1 and len(fees) == 1 and fees[0]["source_id"] == ""
            assert to_minor(fees[0]["gross"], currency) < 0
            payout = payouts[0]
            assert payout["source_id"] == payout_id
            others = sum(to_minor(line["net"], currency) for line in lines if line is not payout)
            assert to_minor(payout["net"], currency) == to_minor(payout["gross"], currency) == -others
    ids = [row["balance_transaction_id"] for rows in stripe_lines.values() for row in rows]
    assert len(ids) == len(set(ids))


def test_stripe_line_contents(stripe_lines: dict[date, list[dict[str, str]]]) -> None:
    seen = defaultdict(int)
    for rows in stripe_lines.values():
        for row in rows:
            category, currency = row["reporting_category"], row["currency"]
            seen[category] += 1
            gross, fee = to_minor(row["gross"], currency), to_minor(row["fee"], currency)
            if category == "charge":
                assert gross > 0 and re.fullmatch(r"ch_[A-Za-z0-9]{24}", row["source_id"])
                assert row["charge_id"] == row["source_id"] and row["payment_intent_id"].startswith("pi_")
                assert fee == (gross * 29 + 500) // 1000 + 30
            elif category == "refund":
                assert gross < 0 and row["source_id"].startswith("re_")
            elif category == "dispute":
                assert gross < 0 and row["source_id"].startswith("dp_")
                assert fee == 15 * 10 ** EXPONENTS[currency.upper()]  # the 15.00 dispute fee
            elif category == "dispute_reversal":
                assert gross > 0 and row["source_id"].startswith("dp_")
            if category in CATEGORY_TO_TYPE:
                assert row["customer_facing_amount"] == row["gross"] and row["customer_facing_currency"] == currency
    assert all(seen[c] for c in ("charge", "refund", "dispute", "dispute_reversal", "fee", "payout"))


def test_amounts_have_the_currency_exponent_decimals(stripe_lines: dict[date, list[dict[str, str]]]) -> None:
    patterns = {"usd": r"-?\d+\.\d{2}", "eur": r"-?\d+\.\d{2}", "jpy": r"-?\d+", "kwd": r"-?\d+\.\d{3}"}
    for rows in stripe_lines.values():
        for row in rows:
            for column in ("gross", "fee", "net"):
                assert re.fullmatch(patterns[row["currency"]], row[column]), (column, row)


def _replay_ledger(out: Path, as_of: date) -> dict[str, dict[str, str]]:
    """Upsert the ledger_changes files up to as_of, like the extraction does."""
    state: dict[str, dict[str, str]] = {}
    for day in DATES:
        if day <= as_of:
            for row in read_csv(out / "product" / f"ledger_changes_{day:%Y-%m-%d}.csv"):
                state[row["entry_id"]] = row
    return state


def test_ledger_change_files(out: Path) -> None:
    versions = defaultdict(list)
    for day in DATES:
        path = out / "product" / f"ledger_changes_{day:%Y-%m-%d}.csv"
        assert path.read_text(encoding="utf-8").splitlines()[0].split(",") == LEDGER_COLUMNS
        for row in read_csv(path):
            assert row["updated_at"][:10] == day.isoformat()
            assert row["processor"] == "stripe" and row["currency"] in EXPONENTS
            assert int(row["amount_minor"]) > 0
            datetime.strptime(row["occurred_at"], "%Y-%m-%d %H:%M:%S.%f")
            versions[row["entry_id"]].append(row)
    voided = [rows for rows in versions.values() if rows[-1]["status"] == "voided"]
    assert voided and all(len(rows) == 2 and rows[0]["status"] == "posted" for rows in voided)
    # A reversal reuses its chargeback's dp_ id; the type keeps them apart.
    latest = [rows[-1] for rows in versions.values()]
    dp_types = defaultdict(set)
    for row in latest:
        if row["processor_reference"].startswith("dp_"):
            dp_types[row["processor_reference"]].add(row["entry_type"])
    assert any(types == {"chargeback", "chargeback_reversal"} for types in dp_types.values())


def test_truth_covers_each_visible_posted_entry_once(out: Path, truth: list[dict[str, str]],
                                                     stripe_lines: dict[date, list[dict[str, str]]]) -> None:
    assert list(truth[0]) == list(TRUTH_COLUMNS)
    for as_of in DATES:
        rows = [row for row in truth if row["as_of_date"] == as_of.isoformat()]
        posted = {entry_id for entry_id, row in _replay_ledger(out, as_of).items()
                  if row["status"] == "posted" and row["occurred_at"][:10] <= as_of.isoformat()}
        ledger_ids = [row["ledger_entry_id"] for row in rows if row["ledger_entry_id"]]
        assert len(ledger_ids) == len(set(ledger_ids)) and set(ledger_ids) == posted

        # Every visible keyed line is accounted for, and the truth's line ids point at real lines.
        lines = {row["balance_transaction_id"]: row for day, day_rows in stripe_lines.items() if day <= as_of
                 for row in day_rows if row["reporting_category"] in CATEGORY_TO_TYPE}
        line_keys = {(line["source_id"], CATEGORY_TO_TYPE[line["reporting_category"]]) for line in lines.values()}
        assert line_keys <= {(row["processor_reference"], row["entry_type"]) for row in rows}
        for row in rows:
            if not row["processor_line_id"]:
                assert row["expected_status"] in ("pending_processor", "missing_in_processor")
                assert row["expected_payout_status"] == "not_applicable" and row["processor_amount_minor"] == ""
                continue
            line = lines[row["processor_line_id"]]
            assert (line["source_id"], CATEGORY_TO_TYPE[line["reporting_category"]]) == (
                row["processor_reference"], row["entry_type"])
            if row["expected_status"] != "duplicate_in_processor":
                amount = SIGN[row["entry_type"]] * to_minor(line["gross"], line["currency"])
                assert int(row["processor_amount_minor"]) == amount
            if row["expected_status"] == "matched":
                assert int(row["ledger_amount_minor"]) == int(row["processor_amount_minor"]) > 0
                assert line["currency"].upper() == row["currency"]


def test_late_settlement_moves_from_pending_to_matched(truth: list[dict[str, str]]) -> None:
    history: dict[str, list[str]] = defaultdict(list)
    for row in truth:
        if row["anomaly"] == "late_settlement":
            history[row["ledger_entry_id"]].append(row["expected_status"])
    moved = [statuses for statuses in history.values() if statuses[0] == "pending_processor" and "matched" in statuses]
    assert moved
    for statuses in moved:
        first = statuses.index("matched")
        assert set(statuses[:first]) <= {"pending_processor", "missing_in_processor"}
        assert set(statuses[first:]) == {"matched"}


def test_voided_entries_disappear_on_the_void_day(out: Path, truth: list[dict[str, str]]) -> None:
    voided = {entry_id: row for entry_id, row in _replay_ledger(out, DATES[-1]).items() if row["status"] == "voided"}
    assert voided
    for entry_id, row in voided.items():
        void_day = row["updated_at"][:10]
        rows = [t for t in truth if t["ledger_entry_id"] == entry_id]
        assert rows and all(t["as_of_date"] < void_day for t in rows)
        assert {t["expected_status"] for t in rows} <= {"pending_processor", "missing_in_processor"}
        assert {t["anomaly"] for t in rows} == {"voided"}


def test_summary_agrees_with_truth(out: Path, truth: list[dict[str, str]]) -> None:
    summary = json.loads((out / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert sorted(summary) == [d.isoformat() for d in DATES]
    for as_of, day in summary.items():
        rows = [row for row in truth if row["as_of_date"] == as_of]
        assert day["rows"] == len(rows) == sum(day["status_counts"].values())
        for status, count in day["status_counts"].items():
            assert count == sum(1 for row in rows if row["expected_status"] == status)
        totals: dict[str, int] = defaultdict(int)
        for row in rows:
            if row["ledger_entry_id"]:
                totals[row["currency"]] += int(row["ledger_amount_minor"])
        assert day["ledger_total_minor"] == dict(totals)


def _entry(entry_id: str, ref: str, entry_type: str = "capture", day: date = START, amount: int = 1000,
           currency: str = "USD", status: str = "posted", updated: date | None = None) -> LedgerVersion:
    at = datetime(day.year, day.month, day.day, 10)
    upd = datetime.combine(updated, at.time()) if updated else at
    return LedgerVersion(entry_id, entry_type, "stripe", ref, "a", "m", amount, currency, status, at, upd)


def _line(line_id: str, ref: str, entry_type: str = "capture", day: date = START, amount: int = 1000,
          currency: str = "USD") -> ProcessorTxn:
    return ProcessorTxn("stripe", line_id, ref, entry_type, currency, amount, day, datetime(day.year, day.month,
                        day.day, 10), ref, "pi_x", "")


def test_truth_rules_on_a_hand_made_case() -> None:
    d = [START + timedelta(days=i) for i in range(6)]
    ledger = [
        _entry("e1", "ch_pending"),  # never settles: pending for 3 days, then missing
        _entry("e2", "ch_dup"), _entry("e3", "ch_dup", day=d[1]),  # double booking, one line
        _entry("e4", "ch_twice"),  # two lines
        _entry("e5", "dp_x", "chargeback"), _entry("e6", "dp_x", "chargeback_reversal", day=d[1]),
        _entry("e7", "ch_void"), _entry("e7", "ch_void", status="voided", updated=d[2]),
    ]
    lines = [
        _line("t2", "ch_dup"), _line("t4a", "ch_twice"), _line("t4b", "ch_twice", day=d[2]),
        _line("t5", "dp_x", "chargeback"), _line("t6", "dp_x", "chargeback_reversal", day=d[1], amount=999),
        _line("t9", "ch_orphan", day=d[1], currency="EUR"),
    ]
    rows = compute_truth(ledger, lines, d, {}, {})
    status = {(r.as_of_date, r.ledger_entry_id or r.processor_line_id): r for r in rows}
    expected = ["pending_processor"] * 4 + ["missing_in_processor"] * 2  # grace: D - B <= 3
    assert [status[(day, "e1")].expected_status for day in d] == expected
    assert status[(d[0], "e2")].expected_status == "matched"
    assert status[(d[1], "e2")].expected_status == status[(d[1], "e3")].expected_status == "duplicate_in_ledger"
    assert status[(d[1], "e4")].expected_status == "matched"
    assert status[(d[2], "e4")].expected_status == "duplicate_in_processor"
    assert status[(d[2], "e4")].processor_amount_minor == 2000
    assert status[(d[2], "e4")].processor_line_id == "t4a"
    assert status[(d[1], "e5")].expected_status == "matched"
    assert status[(d[1], "e6")].expected_status == "amount_mismatch"
    assert (d[1], "e7") in status and (d[2], "e7") not in status
    orphan = status[(d[5], "t9")]
    assert (orphan.expected_status, orphan.ledger_amount_minor, orphan.currency) == ("missing_in_ledger", None, "EUR")
    assert [status[(day, "e2")].expected_payout_status for day in d] == ["pending_bank"] * 4 + ["missing_in_bank"] * 2
    assert status[(d[0], "e1")].expected_payout_status == "not_applicable"


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="recon generate")
    add_arguments(parser)
    help_text = parser.format_help()
    assert all(name in help_text for name in ANOMALY_CLASSES)
    args = parser.parse_args(["--out", str(tmp_path), "--days", "2", "--per-day", "20", "--seed", "3",
                              "--start", "2026-02-01", "--rate", "voided=0.2", "--rate", "amount_mismatch=0"])
    assert (args.days, args.per_day, args.seed, args.start) == (2, 20, 3, date(2026, 2, 1))
    assert run(args) == 0
    printed = capsys.readouterr().out
    assert "matched" in printed and "2026-02-02" in printed
    params = json.loads((tmp_path / "generation.json").read_text(encoding="utf-8"))
    assert params["rates"]["voided"] == 0.2 and params["rates"]["amount_mismatch"] == 0.0
    defaults = parser.parse_args([])
    assert (defaults.days, defaults.per_day, defaults.seed, defaults.start, defaults.out) == (3, 200, 42, START, None)
    with pytest.raises(SystemExit):
        parser.parse_args(["--rate", "bogus=0.1"])
