"""The sample-data generator: determinism, processor file formats, anomaly coverage and ground-truth invariants.

Bank statement files and the payout leg's truth, recomputed from the written files: test_generator_banks.py.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

try:
    import recon.generator  # noqa: F401
except ImportError:  # no root conftest / install yet: import from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from recon.generator import (
    ANOMALY_CLASSES, DEFAULT_RATES, ITEM_CLASSES, PAYOUT_CLASSES, PAYOUT_STATUSES, STATUSES, TRUTH_COLUMNS,
    add_arguments, generate, run,
)
from recon.generator.model import LedgerVersion, ProcessorTxn
from recon.generator.truth import compute_truth

pytestmark = pytest.mark.unit

START = date(2026, 1, 5)
DAYS, PER_DAY, SEED = 5, 100, 42  # the brief's run: every class observable with the default seed
DATES = [START + timedelta(days=i) for i in range(DAYS)]
EXPONENTS = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}
PROCESSORS = ("adyen", "stripe")
STRIPE_COLUMNS = [
    "automatic_payout_id", "automatic_payout_effective_at", "balance_transaction_id", "created_utc",
    "available_on_utc", "currency", "gross", "fee", "net", "reporting_category", "source_id", "description",
    "charge_id", "payment_intent_id", "customer_facing_amount", "customer_facing_currency",
]
ADYEN_REQUIRED = [
    "Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method", "Creation Date",
    "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)", "Gross Credit (GC)",
    "Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)", "Commission (NC)", "Markup (NC)",
    "Scheme Fees (NC)", "Interchange (NC)", "Batch Number",
]
LEDGER_COLUMNS = [
    "entry_id", "entry_type", "processor", "processor_reference", "account_id", "merchant_id", "amount_minor",
    "currency", "status", "occurred_at", "updated_at",
]
STRIPE_TYPE = {
    "charge": "capture", "refund": "refund", "dispute": "chargeback", "dispute_reversal": "chargeback_reversal",
}
ADYEN_TYPE = {
    "Settled": "capture", "Refunded": "refund", "Chargeback": "chargeback", "ChargebackReversed": "chargeback_reversal",
}
SIGN = {"capture": 1, "refund": -1, "chargeback": -1, "chargeback_reversal": 1}
TO_TRANSACTION_PAYOUT_STATUS = {
    "funded": "funded", "amount_mismatch": "payout_amount_mismatch", "pending_bank": "pending_bank",
    "missing_in_bank": "missing_in_bank",
}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def to_minor(amount: str, currency: str) -> int:
    return int(Decimal(amount or "0").scaleb(EXPONENTS[currency.upper()]))


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "data"
    generate(path, days=DAYS, per_day=PER_DAY, seed=SEED, start=START)
    return path


@pytest.fixture(scope="module")
def truth(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "truth" / "transactions.csv")


@pytest.fixture(scope="module")
def payout_truth(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "truth" / "payouts.csv")


def stripe_path(out: Path, day: date) -> Path:
    return out / "s3" / "inbound" / "stripe" / f"{day:%Y/%m/%d}" / f"stripe_payout_reconciliation_{day:%Y-%m-%d}.csv"


def adyen_path(out: Path, day: date) -> Path:
    batch = 1001 + (day - START).days
    return out / "s3" / "inbound" / "adyen" / f"{day:%Y/%m/%d}" / f"adyen_settlement_detail_report_batch_{batch}.csv"


@pytest.fixture(scope="module")
def stripe_lines(out: Path) -> dict[date, list[dict[str, str]]]:
    return {day: read_csv(stripe_path(out, day)) for day in DATES}


@pytest.fixture(scope="module")
def adyen_rows(out: Path) -> dict[date, list[dict[str, str]]]:
    return {day: read_csv(adyen_path(out, day)) for day in DATES}


def adyen_line_ids(rows: list[dict[str, str]]) -> list[str]:
    """The spec's id: md5 of merchant|batch|type|psp|modification|n, n = occurrence of that identity in the file."""
    seen: dict[tuple[str, ...], int] = defaultdict(int)
    ids = []
    for row in rows:
        identity = (row["Merchant Account"], row["Batch Number"], row["Type"], row["Psp Reference"],
                    row["Modification Reference"])
        seen[identity] += 1
        ids.append(hashlib.md5("|".join((*identity, str(seen[identity]))).encode()).hexdigest())
    return ids


@pytest.fixture(scope="module")
def keyed_lines(stripe_lines: dict[date, list[dict[str, str]]],
                adyen_rows: dict[date, list[dict[str, str]]]) -> dict[str, dict[str, object]]:
    """Every transaction line of both processors' files, by the line id dbt derives, in one neutral shape."""
    lines: dict[str, dict[str, object]] = {}
    for day, rows in stripe_lines.items():
        for row in rows:
            if row["reporting_category"] in STRIPE_TYPE:
                entry_type = STRIPE_TYPE[row["reporting_category"]]
                lines[row["balance_transaction_id"]] = {
                    "day": day, "processor": "stripe", "reference": row["source_id"], "entry_type": entry_type,
                    "currency": row["currency"].upper(), "payout_currency": row["currency"].upper(),
                    "amount": SIGN[entry_type] * to_minor(row["gross"], row["currency"]),
                    "payout_reference": row["automatic_payout_id"],
                }
    for day, rows in adyen_rows.items():
        for row, line_id in zip(rows, adyen_line_ids(rows)):
            if row["Type"] in ADYEN_TYPE:
                entry_type = ADYEN_TYPE[row["Type"]]
                gross = to_minor(row["Gross Credit (GC)"], row["Gross Currency"]) - to_minor(
                    row["Gross Debit (GC)"], row["Gross Currency"])
                lines[line_id] = {
                    "day": day, "processor": "adyen", "entry_type": entry_type,
                    "reference": row["Psp Reference"] if entry_type == "capture" else row["Modification Reference"],
                    "currency": row["Gross Currency"], "payout_currency": row["Net Currency"],
                    "amount": SIGN[entry_type] * gross,
                    "payout_reference": f"{row['Merchant Account']}:{row['Batch Number']}",
                }
    return lines


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- determinism and layout ---------------------------------------------------------------------------------------


def test_same_seed_same_bytes(out: Path, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", days=DAYS, per_day=PER_DAY, seed=SEED, start=START)
    assert _tree(out) == _tree(tmp_path / "again")
    assert len(again.ledger_files) == DAYS and len(again.processor_files) == 2 * DAYS
    assert len(again.bank_files) == 2 * DAYS
    other = tmp_path / "other"
    generate(other, days=DAYS, per_day=PER_DAY, seed=SEED + 1, start=START)
    assert _tree(other)["truth/transactions.csv"] != _tree(out)["truth/transactions.csv"]


def test_layout_and_parameters(out: Path) -> None:
    tree = _tree(out)
    for day in DATES:
        stamp, folder = f"{day:%Y-%m-%d}", f"{day:%Y/%m/%d}"
        assert f"product/ledger_changes_{stamp}.csv" in tree
        assert f"s3/inbound/stripe/{folder}/stripe_payout_reconciliation_{stamp}.csv" in tree
        assert str(adyen_path(out, day).relative_to(out)) in tree
        assert f"s3/inbound/bank_us/{folder}/bank_us_{stamp}.bai2" in tree
        assert f"s3/inbound/bank_eu/{folder}/bank_eu_{stamp}.xml" in tree
    assert {"truth/transactions.csv", "truth/payouts.csv", "truth/summary.json", "generation.json"} <= set(tree)
    assert len(tree) == 5 * DAYS + 4
    assert all(b"\r" not in data for data in tree.values())  # LF line endings everywhere
    params = json.loads(tree["generation.json"])
    assert params == {"days": DAYS, "per_day": PER_DAY, "seed": SEED, "start": "2026-01-05", "rates": DEFAULT_RATES}


def test_a_large_run_is_fast(tmp_path: Path) -> None:
    started = datetime.now()
    generate(tmp_path, days=5, per_day=1000, seed=SEED)
    assert (datetime.now() - started).total_seconds() < 15


# -- anomaly classes ----------------------------------------------------------------------------------------------


def _history(rows: list[dict[str, str]], key_columns: tuple[str, ...]) -> dict[tuple[str, ...], list[dict]]:
    out: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["as_of_date"]):
        out[tuple(row[c] for c in key_columns)].append(row)
    return out


def test_every_item_class_occurs_for_both_processors_with_its_statuses(truth: list[dict[str, str]]) -> None:
    statuses: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in truth:
        statuses[(row["anomaly"], row["processor"])].add(row["expected_status"])
    expected = {
        "amount_mismatch": {"amount_mismatch"},
        "currency_mismatch": {"currency_mismatch"},
        "missing_in_ledger": {"missing_in_ledger"},
        "duplicate_in_ledger": {"duplicate_in_ledger"},
        "duplicate_in_processor": {"duplicate_in_processor"},
        "late_settlement": {"pending_processor", "matched"},
        "voided": {"pending_processor"},
        "partial_refund": {"matched"},
        "multiple_refunds": {"matched"},
        "chargeback_and_reversal": {"matched"},
    }
    for name in ITEM_CLASSES:
        for processor in PROCESSORS:
            seen = statuses[(name, processor)]
            assert seen, (name, processor)
            if name in expected:
                assert expected[name] <= seen, (name, processor, seen)
    missing = statuses[("missing_in_processor", "adyen")] | statuses[("missing_in_processor", "stripe")]
    assert {"pending_processor", "missing_in_processor"} <= missing
    for name in ("partial_refund", "multiple_refunds", "chargeback_and_reversal"):
        assert statuses[(name, "adyen")] == statuses[(name, "stripe")] == {"matched"}
    # Every status of the vocabulary shows up in a 5-day run.
    assert set(STATUSES) == {row["expected_status"] for row in truth}
    assert set(PAYOUT_STATUSES) == {row["expected_payout_status"] for row in truth}


def test_refund_and_chargeback_stories(out: Path) -> None:
    """Grouped by account: partial refunds are partial, a capture can have two refunds, reversals are keyed right."""
    latest = _replay_ledger(out, DATES[-1])
    labels = {row["ledger_entry_id"]: row["anomaly"]
              for row in read_csv(out / "truth" / "transactions.csv") if row["ledger_entry_id"]}
    stories: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for entry_id, row in latest.items():
        if labels.get(entry_id) in ("partial_refund", "multiple_refunds", "chargeback_and_reversal"):
            stories[(labels[entry_id], row["account_id"])].append(row)
    assert {name for name, _ in stories} == {"partial_refund", "multiple_refunds", "chargeback_and_reversal"}
    for (name, _), rows in stories.items():
        by_type = defaultdict(list)
        for row in sorted(rows, key=lambda r: r["occurred_at"]):
            by_type[row["entry_type"]].append(row)
        capture = by_type["capture"][0]
        assert rows[0]["processor"] == capture["processor"] and len(by_type["capture"]) == 1
        assert min(r["occurred_at"] for r in rows) == capture["occurred_at"]
        if name == "partial_refund":
            (refund,) = by_type["refund"]
            assert 0 < int(refund["amount_minor"]) < int(capture["amount_minor"])
        elif name == "multiple_refunds":
            first, second = by_type["refund"]
            assert int(first["amount_minor"]) + int(second["amount_minor"]) <= int(capture["amount_minor"])
            assert first["processor_reference"] != second["processor_reference"]
        else:
            (chargeback,), (reversal,) = by_type["chargeback"], by_type["chargeback_reversal"]
            assert chargeback["occurred_at"] <= reversal["occurred_at"]
            if capture["processor"] == "stripe":  # the won dispute shares the dp_ id
                assert reversal["processor_reference"] == chargeback["processor_reference"]
            else:  # Adyen: the reversal is its own modification
                assert reversal["processor_reference"] != chargeback["processor_reference"]
                assert re.fullmatch(r"[1-9][0-9]{15}", reversal["processor_reference"])


def test_every_payout_class_occurs_for_both_processors(payout_truth: list[dict[str, str]],
                                                       truth: list[dict[str, str]]) -> None:
    payout_rows = [r for r in payout_truth if r["kind"] == "payout"]
    payouts = _history(payout_rows, ("processor", "payout_reference", "currency"))
    seen = {(rows[0]["anomaly"], key[0]) for key, rows in payouts.items()}
    for name in ("late_bank_credit", "short_payout", "missing_bank_credit"):
        assert {(name, "adyen"), (name, "stripe")} <= seen, name
    for key, rows in payouts.items():
        history = [row["expected_status"] for row in rows]
        anomaly = rows[0]["anomaly"]
        assert len({row["anomaly"] for row in rows}) == 1
        assert history[0] == "pending_bank" or rows[0]["value_date"] == rows[0]["payout_date"]
        if anomaly == "none":  # a healthy payout is waiting for the bank or funded, nothing else
            assert set(history) <= {"pending_bank", "funded"}, key
        elif anomaly == "late_bank_credit":
            assert set(history) <= {"pending_bank", "missing_in_bank", "funded"}
            if "funded" in history:
                first = history.index("funded")
                assert set(history[first:]) == {"funded"} and history[:first].count("pending_bank") == 4
                value = date.fromisoformat(rows[-1]["value_date"]) - date.fromisoformat(rows[-1]["payout_date"])
                assert value.days in (4, 5)
        elif anomaly == "short_payout":
            assert set(history) <= {"pending_bank", "amount_mismatch"}
            for row in rows:
                if row["expected_status"] == "amount_mismatch":
                    assert 1 <= int(row["expected_amount_minor"]) - int(row["bank_amount_minor"]) <= 5
        elif anomaly == "missing_bank_credit":
            assert history == ["pending_bank"] * min(4, len(history)) + ["missing_in_bank"] * (len(history) - 4)
            assert all(row["bank_reference"] == "" for row in rows)
    # The observable stories: late credit funded after 4 pending days, missing credit turning missing_in_bank.
    endings = {(rows[0]["anomaly"], rows[-1]["expected_status"]) for rows in payouts.values()}
    assert {("late_bank_credit", "funded"), ("short_payout", "amount_mismatch"),
            ("missing_bank_credit", "missing_in_bank")} <= endings

    credits = [r for r in payout_truth if r["kind"] == "bank_credit"]
    assert credits and all(r["expected_status"] == "unexplained_bank_credit" for r in credits)
    assert {r["anomaly"] for r in credits} == {"unexplained_bank_credit"}  # nothing else is ever unexplained
    assert {r["currency"] for r in credits} >= {"USD"}

    # The transactions of a short payout are payout_amount_mismatch once its credit is in.
    mismatched = {(r["as_of_date"], r["payout_reference"], r["currency"]) for r in payout_truth
                  if r["expected_status"] == "amount_mismatch"}
    flagged = {(r["as_of_date"], r["payout_reference"]) for r in truth
               if r["expected_payout_status"] == "payout_amount_mismatch"}
    assert flagged and flagged <= {(d, ref) for d, ref, _ in mismatched}


def test_small_run_still_has_every_class(tmp_path: Path) -> None:
    generate(tmp_path, days=3, per_day=50, seed=7)
    labels = {row["anomaly"] for row in read_csv(tmp_path / "truth" / "transactions.csv")}
    labels |= {row["anomaly"] for row in read_csv(tmp_path / "truth" / "payouts.csv")}
    assert labels == {"none", *ANOMALY_CLASSES}


def test_rate_zero_switches_a_class_off(tmp_path: Path) -> None:
    result = generate(tmp_path, days=3, per_day=50, seed=7,
                      rates={"voided": 0.0, "amount_mismatch": 0.0, "short_payout": 0.0})
    assert result.anomaly_counts["voided"] == result.anomaly_counts["amount_mismatch"] == 0
    assert result.anomaly_counts["short_payout"] == 0
    assert "short_payout" not in {r["anomaly"] for r in read_csv(tmp_path / "truth" / "payouts.csv")}
    with pytest.raises(ValueError):
        generate(tmp_path, days=1, per_day=1, seed=1, rates={"no_such_class": 0.1})
    with pytest.raises(ValueError):
        generate(tmp_path, days=1, per_day=1, seed=1, rates={"late_bank_credit": 0.6, "short_payout": 0.6})


# -- processor files ----------------------------------------------------------------------------------------------


def test_stripe_files_and_payouts(stripe_lines: dict[date, list[dict[str, str]]], out: Path) -> None:
    currencies = set()
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
        currencies |= set(by_currency)
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
            assert to_minor(payout["net"], currency) == to_minor(payout["gross"], currency) == -others < 0
    assert currencies == {"usd", "eur", "jpy", "kwd"}
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
            if category in STRIPE_TYPE:
                assert row["customer_facing_amount"] == row["gross"] and row["customer_facing_currency"] == currency
    assert all(seen[c] for c in ("charge", "refund", "dispute", "dispute_reversal", "fee", "payout"))


def test_adyen_files_and_payouts(adyen_rows: dict[date, list[dict[str, str]]], out: Path) -> None:
    types, zones, currencies = defaultdict(int), set(), set()
    for day, rows in adyen_rows.items():
        header = adyen_path(out, day).read_text(encoding="utf-8").splitlines()[0]
        assert set(ADYEN_REQUIRED) <= set(next(csv.reader([header])))
        batch = str(1001 + (day - START).days)
        net_by_currency: dict[str, int] = defaultdict(int)
        payouts: dict[str, int] = {}
        for row in rows:
            types[row["Type"]] += 1
            zones.add(row["TimeZone"])
            assert (row["Company Account"], row["Merchant Account"], row["Batch Number"]) == (
                "RECON_COMPANY", "RECON_MERCHANT", batch)
            currency = row["Net Currency"]
            net = to_minor(row["Net Credit (NC)"], currency) - to_minor(row["Net Debit (NC)"], currency)
            for column in ("Gross Debit (GC)", "Gross Credit (GC)", "Net Debit (NC)", "Net Credit (NC)",
                           "Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)"):
                assert row[column] == "" or Decimal(row[column]) >= 0  # Adyen writes no signs
            if row["Type"] == "MerchantPayout":
                assert currency not in payouts and row["Net Debit (NC)"] and not row["Net Credit (NC)"]
                assert re.fullmatch(rf"TX[0-9]{{10}}XT batch {batch}, RECON_MERCHANT", row["Modification Reference"])
                payouts[currency] = -net
                continue
            assert currency not in payouts  # payout rows come last
            net_by_currency[currency] += net
            if row["Type"] in ADYEN_TYPE:
                assert re.fullmatch(r"[1-9][0-9]{15}", row["Psp Reference"])
                assert re.fullmatch(r"[1-9][0-9]{15}", row["Modification Reference"])
                credit = row["Type"] in ("Settled", "ChargebackReversed")
                assert bool(row["Gross Credit (GC)"]) == credit and bool(row["Gross Debit (GC)"]) != credit
                _check_adyen_net(row)
            else:
                assert row["Psp Reference"] == "" and row["Gross Currency"] == ""
        assert payouts == dict(net_by_currency) and all(amount > 0 for amount in payouts.values())
        currencies |= set(payouts)
    assert currencies == set(EXPONENTS)
    assert zones == {"CET", "UTC"}
    # A capture settled twice in one batch repeats its row exactly: only the occurrence number tells them apart.
    repeated = [identity for rows in adyen_rows.values()
                for identity, count in Counter((r["Type"], r["Psp Reference"], r["Modification Reference"])
                                               for r in rows if r["Type"] in ADYEN_TYPE).items() if count > 1]
    assert repeated
    ids = [line_id for rows in adyen_rows.values() for line_id in adyen_line_ids(rows)]
    assert len(ids) == len(set(ids))
    assert all(types[t] for t in ("Settled", "Refunded", "Chargeback", "ChargebackReversed", "Fee", "MiscCosts",
                                  "MerchantPayout"))


def _check_adyen_net(row: dict[str, str]) -> None:
    """Net = gross at the row's rate (rounded half up to the net currency) -/+ the four fee columns."""
    gross_currency, net_currency = row["Gross Currency"], row["Net Currency"]
    gross = Decimal(row["Gross Credit (GC)"] or row["Gross Debit (GC)"])
    converted = (gross * Decimal(row["Exchange Rate"])).quantize(
        Decimal(1).scaleb(-EXPONENTS[net_currency]), rounding=ROUND_HALF_UP)
    if gross_currency == net_currency:
        assert row["Exchange Rate"] == "1"
    fees = sum(Decimal(row[c] or "0") for c in ("Commission (NC)", "Markup (NC)", "Scheme Fees (NC)",
                                                "Interchange (NC)"))
    net = Decimal(row["Net Credit (NC)"] or "0") - Decimal(row["Net Debit (NC)"] or "0")
    expected = converted - fees if row["Type"] in ("Settled", "ChargebackReversed") else -(converted + fees)
    assert net == expected, row


def test_adyen_fx_and_time_zones(adyen_rows: dict[date, list[dict[str, str]]]) -> None:
    fx = [row for rows in adyen_rows.values() for row in rows
          if row["Type"] in ADYEN_TYPE and row["Gross Currency"] != row["Net Currency"]]
    assert fx and {row["Gross Currency"] for row in fx} >= {"EUR", "JPY"}
    assert all(row["Net Currency"] == "USD" and row["Exchange Rate"] != "1" for row in fx)
    for day, rows in adyen_rows.items():
        for row in rows:
            # Rows are booked at 23:50 UTC of the business date; local time per the row's zone, as zoneinfo reads it.
            local = datetime.strptime(row["Booking Date"], "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=ZoneInfo(row["Booking Date TimeZone"]))
            assert local.astimezone(timezone.utc).replace(tzinfo=None) == datetime.combine(day, datetime.min.time()) \
                + timedelta(hours=23, minutes=50)
            datetime.strptime(row["Creation Date"], "%Y-%m-%d %H:%M:%S")


def test_adyen_local_time_in_summer(tmp_path: Path) -> None:
    # CET rows follow EU summer time like zoneinfo's CET (UTC+2 from the last Sunday of March).
    generate(tmp_path, days=2, per_day=30, seed=3, start=date(2026, 7, 1))
    for path in sorted(tmp_path.rglob("adyen_*.csv")):
        for row in read_csv(path):
            local = datetime.strptime(row["Booking Date"], "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=ZoneInfo(row["Booking Date TimeZone"]))
            assert local.astimezone(timezone.utc).strftime("%H:%M") == "23:50"


def test_amounts_have_the_currency_exponent_decimals(stripe_lines: dict[date, list[dict[str, str]]],
                                                     adyen_rows: dict[date, list[dict[str, str]]]) -> None:
    patterns = {"usd": r"-?\d+\.\d{2}", "eur": r"-?\d+\.\d{2}", "jpy": r"-?\d+", "kwd": r"-?\d+\.\d{3}"}
    for rows in stripe_lines.values():
        for row in rows:
            for column in ("gross", "fee", "net"):
                assert re.fullmatch(patterns[row["currency"]], row[column]), (column, row)
    adyen = {"USD": r"\d+(\.\d{1,2})?", "EUR": r"\d+(\.\d{1,2})?", "JPY": r"\d+", "KWD": r"\d+(\.\d{1,3})?"}
    for rows in adyen_rows.values():
        for row in rows:
            for column in ("Gross Debit (GC)", "Gross Credit (GC)"):
                assert not row[column] or re.fullmatch(adyen[row["Gross Currency"]], row[column]), (column, row)
            for column in ("Net Debit (NC)", "Net Credit (NC)", "Markup (NC)", "Commission (NC)"):
                assert not row[column] or re.fullmatch(adyen[row["Net Currency"]], row[column]), (column, row)


# -- ledger and transaction truth ---------------------------------------------------------------------------------


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
            assert row["processor"] in PROCESSORS and row["currency"] in EXPONENTS
            assert int(row["amount_minor"]) > 0
            if row["processor"] == "adyen":
                assert re.fullmatch(r"[1-9][0-9]{15}", row["processor_reference"])
            datetime.strptime(row["occurred_at"], "%Y-%m-%d %H:%M:%S.%f")
            versions[row["entry_id"]].append(row)
    voided = [rows for rows in versions.values() if rows[-1]["status"] == "voided"]
    assert voided and all(len(rows) == 2 and rows[0]["status"] == "posted" for rows in voided)
    latest = [rows[-1] for rows in versions.values()]
    assert {row["processor"] for row in latest} == set(PROCESSORS)
    # A Stripe reversal reuses its chargeback's dp_ id; the type keeps them apart.
    dp_types = defaultdict(set)
    for row in latest:
        if row["processor_reference"].startswith("dp_"):
            dp_types[row["processor_reference"]].add(row["entry_type"])
    assert any(types == {"chargeback", "chargeback_reversal"} for types in dp_types.values())


def test_truth_covers_each_visible_posted_entry_once(out: Path, truth: list[dict[str, str]],
                                                     keyed_lines: dict[str, dict[str, object]]) -> None:
    assert list(truth[0]) == list(TRUTH_COLUMNS)
    for as_of in DATES:
        rows = [row for row in truth if row["as_of_date"] == as_of.isoformat()]
        posted = {entry_id for entry_id, row in _replay_ledger(out, as_of).items()
                  if row["status"] == "posted" and row["occurred_at"][:10] <= as_of.isoformat()}
        ledger_ids = [row["ledger_entry_id"] for row in rows if row["ledger_entry_id"]]
        assert len(ledger_ids) == len(set(ledger_ids)) and set(ledger_ids) == posted

        # Every visible keyed line is accounted for, and the truth's line ids point at real lines.
        lines = {line_id: line for line_id, line in keyed_lines.items() if line["day"] <= as_of}
        line_keys = {(line["processor"], line["reference"], line["entry_type"]) for line in lines.values()}
        assert line_keys <= {(row["processor"], row["processor_reference"], row["entry_type"]) for row in rows}
        for row in rows:
            if not row["processor_line_id"]:
                assert row["expected_status"] in ("pending_processor", "missing_in_processor")
                assert row["expected_payout_status"] == "not_applicable" and row["processor_amount_minor"] == ""
                assert row["payout_reference"] == "" and row["expected_is_fully_reconciled"] == "0"
                continue
            line = lines[row["processor_line_id"]]
            assert (line["processor"], line["reference"], line["entry_type"]) == (
                row["processor"], row["processor_reference"], row["entry_type"])
            assert row["payout_reference"] == line["payout_reference"]
            if row["expected_status"] != "duplicate_in_processor":
                assert int(row["processor_amount_minor"]) == line["amount"]
            if row["expected_status"] == "matched":
                assert int(row["ledger_amount_minor"]) == int(row["processor_amount_minor"]) > 0
                assert line["currency"] == row["currency"]


def test_transaction_payout_status_follows_its_payout(truth: list[dict[str, str]],
                                                      payout_truth: list[dict[str, str]],
                                                      keyed_lines: dict[str, dict[str, object]]) -> None:
    payouts = {(r["as_of_date"], r["processor"], r["payout_reference"], r["currency"]): r["expected_status"]
               for r in payout_truth if r["kind"] == "payout"}
    for row in truth:
        if row["processor_line_id"]:
            line = keyed_lines[row["processor_line_id"]]
            status = payouts[(row["as_of_date"], row["processor"], row["payout_reference"], line["payout_currency"])]
            assert row["expected_payout_status"] == TO_TRANSACTION_PAYOUT_STATUS[status]
        full = row["expected_status"] == "matched" and row["expected_payout_status"] == "funded"
        assert row["expected_is_fully_reconciled"] == str(int(full))
    assert {row["expected_is_fully_reconciled"] for row in truth} == {"0", "1"}


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


def test_summary_agrees_with_truth(out: Path, truth: list[dict[str, str]],
                                   payout_truth: list[dict[str, str]]) -> None:
    summary = json.loads((out / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert sorted(summary) == [d.isoformat() for d in DATES]
    for as_of, day in summary.items():
        rows = [row for row in truth if row["as_of_date"] == as_of]
        assert day["rows"] == len(rows) == sum(day["status_counts"].values())
        for status, count in day["status_counts"].items():
            assert count == sum(1 for row in rows if row["expected_status"] == status)
        for status, count in day["payout_status_counts"].items():
            assert count == sum(1 for row in rows if row["expected_payout_status"] == status)
        assert day["fully_reconciled"] == sum(row["expected_is_fully_reconciled"] == "1" for row in rows)
        totals: dict[str, int] = defaultdict(int)
        for row in rows:
            if row["ledger_entry_id"]:
                totals[row["currency"]] += int(row["ledger_amount_minor"])
        assert day["ledger_total_minor"] == dict(totals)
        payout_rows = [row for row in payout_truth if row["as_of_date"] == as_of]
        assert day["payouts"]["rows"] == len(payout_rows) == sum(day["payouts"]["status_counts"].values())
        for status, count in day["payouts"]["status_counts"].items():
            assert count == sum(1 for row in payout_rows if row["expected_status"] == status)


# -- the rules on hand-made cases ---------------------------------------------------------------------------------


def _entry(entry_id: str, ref: str, entry_type: str = "capture", day: date = START, amount: int = 1000,
           currency: str = "USD", status: str = "posted", updated: date | None = None) -> LedgerVersion:
    at = datetime(day.year, day.month, day.day, 10)
    upd = datetime.combine(updated, at.time()) if updated else at
    return LedgerVersion(entry_id, entry_type, "stripe", ref, "a", "m", amount, currency, status, at, upd)


def _line(line_id: str, ref: str, entry_type: str = "capture", day: date = START, amount: int = 1000,
          currency: str = "USD", payout: str = "") -> ProcessorTxn:
    return ProcessorTxn("stripe", line_id, ref, entry_type, currency, amount, day, datetime(day.year, day.month,
                        day.day, 10), ref, "pi_x", "", payout, currency)


def test_truth_rules_on_a_hand_made_case() -> None:
    d = [START + timedelta(days=i) for i in range(6)]
    ledger = [
        _entry("e1", "ch_pending"),  # never settles: pending for 3 days, then missing
        _entry("e2", "ch_dup"), _entry("e3", "ch_dup", day=d[1]),  # double booking, one line
        _entry("e4", "ch_twice"),  # two lines
        _entry("e5", "dp_x", "chargeback"), _entry("e6", "dp_x", "chargeback_reversal", day=d[1]),
        _entry("e7", "ch_void"), _entry("e7", "ch_void", status="voided", updated=d[2]),
        _entry("e8", "ch_paid"),
    ]
    lines = [
        _line("t2", "ch_dup"), _line("t4a", "ch_twice"), _line("t4b", "ch_twice", day=d[2]),
        _line("t5", "dp_x", "chargeback"), _line("t6", "dp_x", "chargeback_reversal", day=d[1], amount=999),
        _line("t9", "ch_orphan", day=d[1], currency="EUR"), _line("t8", "ch_paid", payout="po_1"),
    ]
    payouts = {(day, "stripe", "po_1", "USD"): status
               for day, status in zip(d, ["pending_bank", "funded", "amount_mismatch", "funded", "funded", "funded"])}
    rows = compute_truth(ledger, lines, d, {}, {}, payouts)
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
    # A line naming no payout waits for the bank by its own date.
    assert [status[(day, "e2")].expected_payout_status for day in d] == ["pending_bank"] * 4 + ["missing_in_bank"] * 2
    assert status[(d[0], "e1")].expected_payout_status == "not_applicable"
    paid = [status[(day, "e8")] for day in d]
    assert [r.expected_payout_status for r in paid] == [
        "pending_bank", "funded", "payout_amount_mismatch", "funded", "funded", "funded"]
    assert [r.expected_is_fully_reconciled for r in paid] == [0, 1, 0, 1, 1, 1]
    assert paid[0].payout_reference == "po_1" and status[(d[0], "e2")].payout_reference == ""


# -- CLI ----------------------------------------------------------------------------------------------------------


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="recon generate")
    add_arguments(parser)
    help_text = parser.format_help()
    assert all(name in help_text for name in ANOMALY_CLASSES)
    assert all(name in ANOMALY_CLASSES for name in (*ITEM_CLASSES, *PAYOUT_CLASSES))
    args = parser.parse_args(["--out", str(tmp_path), "--days", "2", "--per-day", "20", "--seed", "3",
                              "--start", "2026-02-01", "--rate", "voided=0.2", "--rate", "amount_mismatch=0",
                              "--rate", "late_bank_credit=0.5"])
    assert (args.days, args.per_day, args.seed, args.start) == (2, 20, 3, date(2026, 2, 1))
    assert run(args) == 0
    printed = capsys.readouterr().out
    assert "matched" in printed and "2026-02-02" in printed and "funded" in printed and "bank:" in printed
    params = json.loads((tmp_path / "generation.json").read_text(encoding="utf-8"))
    assert params["rates"]["voided"] == 0.2 and params["rates"]["amount_mismatch"] == 0.0
    assert params["rates"]["late_bank_credit"] == 0.5
    defaults = parser.parse_args([])
    assert (defaults.days, defaults.per_day, defaults.seed, defaults.start, defaults.out) == (3, 200, 42, START, None)
    with pytest.raises(SystemExit):
        parser.parse_args(["--rate", "bogus=0.1"])


def test_the_demo_command_line_still_works(tmp_path: Path) -> None:
    """`recon generate --days 3 --per-day 200 --seed 42` (what the demo runs)."""
    parser = argparse.ArgumentParser(prog="recon generate")
    add_arguments(parser)
    assert run(parser.parse_args(["--days", "3", "--per-day", "200", "--seed", "42", "--out", str(tmp_path)])) == 0
    assert len(list((tmp_path / "s3" / "inbound").rglob("*.*"))) == 4 * 3
