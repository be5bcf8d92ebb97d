"""End to end, the breaks on generated data (the five days of conftest.five_days, then a sixth):

- every as-of date's open breaks are exactly the items the ground truth says are not matched / not funded, with
  the reason and the amount at stake re-derived here from the truth;
- break ids are stable: md5(leg|item recon_key), the same id for the same item on every date;
- every break's lifecycle (first seen, opened, closed, times opened, open / reopened / auto_resolved, age) equals the
  one re-derived from the truth's day-by-day statuses, so a late match auto-resolves its break;
- priorities follow the thresholds in dbt_project.yml;
- a person resolves breaks with `recon breaks resolve` (the real CLI): refused for an unknown or closed break; the
  sixth day then reopens the resolved break that changed, keeps the others resolved; the resolutions table only
  grows and refuses UPDATE and DELETE;
- the sixth day's reconcile_daily run posts the P1 breaks it opened (read from the real mart) to the webhook
  connection, here a local HTTP server.
"""
from __future__ import annotations

import csv
import hashlib
import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pymysql
import pytest
import yaml
from e2e_data import DAYS, EXTRA_DAY

from recon import cli, db, runner, seed
from recon.currencies import EXPONENTS
from recon.settings import load_settings
from recon.stack.config import admin_login

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]

# (leg, identity): identity as in recon.truth - ("L", entry) / ("P", line) / ("PO", processor, ref, ccy) /
# ("BC", bank source, bank reference)
Item = tuple[str, tuple[str, ...]]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _int(text: str) -> int | None:
    return int(text) if text not in ("", None) else None


def _truth_breaks(data_dir: Path) -> dict[date, dict[Item, tuple[str, int]]]:
    """Per as-of date: every item the truth says is broken -> (reason, amount at stake)."""
    out: dict[date, dict[Item, tuple[str, int]]] = defaultdict(dict)
    with open(data_dir / "truth" / "transactions.csv", newline="") as handle:
        for r in csv.DictReader(handle):
            if r["expected_status"] == "matched":
                continue
            ledger, proc = _int(r["ledger_amount_minor"]), _int(r["processor_amount_minor"])
            if r["expected_status"] == "amount_mismatch":
                amount = abs(ledger - proc)
            else:
                amount = abs(ledger if ledger is not None else proc)
            ident = ("L", r["ledger_entry_id"]) if r["ledger_entry_id"] else ("P", r["processor_line_id"])
            out[date.fromisoformat(r["as_of_date"])][("transaction", ident)] = (r["expected_status"], amount)
    with open(data_dir / "truth" / "payouts.csv", newline="") as handle:
        for r in csv.DictReader(handle):
            status = r["expected_status"]
            if status == "funded":
                continue
            expected, bank = _int(r["expected_amount_minor"]), _int(r["bank_amount_minor"])
            if status == "amount_mismatch":
                amount = abs(expected - (bank if bank is not None else _int(r["reported_amount_minor"])))
            elif status == "unexplained_bank_credit":
                amount = abs(bank)
            else:
                amount = abs(expected)
            ident = (("PO", r["processor"], r["payout_reference"], r["currency"]) if r["kind"] == "payout"
                     else ("BC", r["bank_source"], r["bank_reference"]))
            out[date.fromisoformat(r["as_of_date"])][("payout", ident)] = (status, amount)
    return out


def _item_identities() -> dict[str, Item]:
    """break item_key (the item's recon_key) -> the truth's identity of the item, from the items' change logs."""
    marts = load_settings().marts_db
    out: dict[str, Item] = {}
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"SELECT DISTINCT recon_key, ledger_entry_id, processor_line_id "
                    f"FROM {marts}.fct_transaction_reconciliation_history")
        for key, entry, line in cur.fetchall():
            out[key] = ("transaction", ("L", entry) if entry else ("P", line))
        cur.execute(f"SELECT DISTINCT recon_key, processor, payout_reference, currency, bank_source, bank_reference "
                    f"FROM {marts}.fct_payout_reconciliation_history")
        for key, proc, ref, ccy, bank_source, bank_ref in cur.fetchall():
            out[key] = ("payout", ("PO", proc, ref, ccy) if ref else ("BC", bank_source, bank_ref))
    return out


def _mart_breaks_as_of(day: date) -> dict[str, tuple[str, str, str, int]]:
    """break_id -> (leg, item_key, reason, amount) of the breaks open as of `day`, from the break change log."""
    marts = load_settings().marts_db
    hist = f"{marts}.fct_reconciliation_breaks_history"
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"SELECT h.break_id, h.leg, h.item_key, h.reason, h.amount_minor FROM {hist} h "
                    f"JOIN (SELECT break_id, MAX(as_of_date) AS d FROM {hist} WHERE as_of_date <= %s "
                    "GROUP BY break_id) last ON last.break_id = h.break_id AND last.d = h.as_of_date "
                    "WHERE h.is_removed = 0", (day,))
        return {b: (leg, key, reason, int(amount)) for b, leg, key, reason, amount in cur.fetchall()}


def _fct_breaks() -> dict[str, dict]:
    marts = load_settings().marts_db
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"SELECT * FROM {marts}.fct_reconciliation_breaks")
        names = [c[0] for c in cur.description]
        return {row[names.index("break_id")]: dict(zip(names, row)) for row in cur.fetchall()}


@dataclass
class Lifecycle:
    first_seen: date
    opened: date
    last_seen: date
    closed: date | None
    times_opened: int
    lifecycle: str


def _truth_lifecycles(truth: dict[date, dict[Item, tuple[str, int]]], days: list[date]) -> dict[Item, Lifecycle]:
    """Re-derived from the truth's day-by-day broken / not broken, days processed in order."""
    out: dict[Item, Lifecycle] = {}
    for item in {i for day in days for i in truth[day]}:
        broken = [day for day in days if item in truth[day]]
        opened = [day for i, day in enumerate(days) if item in truth[day] and (i == 0 or item not in truth[days[i - 1]])]
        still_broken = item in truth[days[-1]]
        closed = None if still_broken else next(d for d in days if d > broken[-1])
        out[item] = Lifecycle(broken[0], opened[-1], days[-1] if still_broken else broken[-1], closed, len(opened),
                              ("reopened" if len(opened) > 1 else "open") if still_broken else "auto_resolved")
    return out


def test_open_breaks_equal_the_unreconciled_items_of_the_truth_on_every_date(five_days: Path) -> None:
    truth = _truth_breaks(five_days)
    identities = _item_identities()
    ids_by_item: dict[Item, set[str]] = defaultdict(set)
    for day in DAYS:
        breaks = _mart_breaks_as_of(day)
        actual = {}
        for break_id, (leg, item_key, reason, amount) in breaks.items():
            assert break_id == _md5(f"{leg}|{item_key}"), "break_id is md5(leg|item recon_key)"
            item = identities[item_key]
            assert item[0] == leg
            ids_by_item[item].add(break_id)
            actual[item] = (reason, amount)
        expected = truth[day]
        assert expected, f"the truth has no breaks as of {day}"
        diff = {k: (expected.get(k), actual.get(k)) for k in set(expected) | set(actual)
                if expected.get(k) != actual.get(k)}
        assert not diff, f"as of {day}: {len(diff)} differences, e.g. {list(diff.items())[:5]}"
    # one break id per item across all dates: stable
    assert ids_by_item and all(len(ids) == 1 for ids in ids_by_item.values())


def test_every_lifecycle_equals_the_one_rederived_from_the_truth(five_days: Path) -> None:
    expected = _truth_lifecycles(_truth_breaks(five_days), DAYS)
    identities = _item_identities()
    fct = _fct_breaks()
    assert len(fct) == len(expected)
    auto_resolved_pending = 0
    for break_id, row in fct.items():
        want = expected[identities[row["item_key"]]]
        got = Lifecycle(row["first_seen_as_of"], row["opened_as_of"], row["last_seen_as_of"], row["closed_as_of"],
                        row["times_opened"], row["lifecycle"])
        assert got == want, f"break {break_id} ({row['reason']}): expected {want}, got {got}"
        assert row["age_days"] == (want.last_seen - want.opened).days
        assert row["as_of_date"] == DAYS[-1] and row["resolution_id"] is None
        if row["lifecycle"] == "auto_resolved" and row["reason"] in ("pending_processor", "pending_bank"):
            auto_resolved_pending += 1
    # late settlements and late bank credits: a late match auto-resolved their break
    assert auto_resolved_pending > 0
    assert {r["lifecycle"] for r in fct.values()} >= {"open", "auto_resolved"}


def test_priority_follows_the_configured_thresholds(five_days: Path) -> None:
    config = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["vars"]["break_priority"]
    amounts = config["min_amount_major"]
    seen = set()
    for row in _fct_breaks().values():
        p1_amount, p2_amount = amounts.get(row["currency"], amounts["default"])
        major = Decimal(row["amount_minor"]).scaleb(-EXPONENTS[row["currency"]])
        age = row["age_days"]
        if row["reason"] in ("pending_processor", "pending_bank"):
            want = "P3"
        elif major >= p1_amount or age >= config["p1_min_age_days"]:
            want = "P1"
        elif major >= p2_amount or age >= config["p2_min_age_days"]:
            want = "P2"
        else:
            want = "P3"
        assert row["priority"] == want, row
        seen.add(want)
    assert seen == {"P1", "P2", "P3"}


def _resolve(break_id: str, reason: str, capsys) -> tuple[int, str]:
    code = cli.main(["breaks", "resolve", break_id, "--reason", reason, "--note", f"e2e: {reason}",
                     "--by", "e2e-test"])
    out = capsys.readouterr()
    return code, out.out + out.err


def _resolution_count() -> int:
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"SELECT COUNT(*) FROM {load_settings().raw_db}.break_resolutions")
        return int(cur.fetchone()[0])


@pytest.fixture()
def webhook(monkeypatch) -> Iterator[list[dict[str, Any]]]:
    """A local HTTP server as the alert webhook (connection recon_alerts_webhook); yields the JSON bodies posted."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AIRFLOW_CONN_RECON_ALERTS_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook/e2e")
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


def test_resolutions_audit_trail_and_reopening_on_a_sixth_day(five_days: Path, capsys, webhook) -> None:
    truth = _truth_breaks(five_days)
    identities = _item_identities()
    fct = _fct_breaks()
    by_item = {identities[row["item_key"]]: row for row in fct.values()}
    last, extra = truth[DAYS[-1]], truth[EXTRA_DAY]
    # from the truth: open breaks that change on the sixth day, stay the same, or clear
    changes = [i for i in last if i in extra and extra[i] != last[i]]
    stays = [i for i in last if extra.get(i) == last[i]]
    clears = [i for i in last if i not in extra]
    assert changes and stays and clears, "seed 42 has each kind of sixth-day change"
    picked = {"changes": by_item[changes[0]]["break_id"], "stays": by_item[stays[0]]["break_id"],
              "clears": by_item[clears[0]]["break_id"]}
    assert _resolution_count() == 0

    # refused: unknown break, a break that data already closed
    code, text = _resolve("0" * 32, "write_off", capsys)
    assert code == 2 and "unknown break" in text
    closed = next(b for b, row in fct.items() if row["lifecycle"] == "auto_resolved")
    code, text = _resolve(closed, "write_off", capsys)
    assert code == 2 and "already closed" in text and "auto_resolved" in text
    assert _resolution_count() == 0

    for kind, reason in (("changes", "timing_difference"), ("stays", "write_off"), ("clears", "timing_difference")):
        code, text = _resolve(picked[kind], reason, capsys)
        assert code == 0, text
        assert "recorded resolution" in text and "refreshed" in text
    fct = _fct_breaks()
    for kind, break_id in picked.items():
        row = fct[break_id]
        assert row["lifecycle"] == "resolved" and row["resolved_by"] == "e2e-test", kind
    # resolving a resolved break again is refused
    code, text = _resolve(picked["stays"], "write_off", capsys)
    assert code == 2 and "already closed" in text
    assert _resolution_count() == 3

    # append-only: the database refuses UPDATE and DELETE, whoever sends them
    raw = load_settings().raw_db
    for statement in (f"UPDATE {raw}.break_resolutions SET note = 'changed'",
                      f"DELETE FROM {raw}.break_resolutions"):
        with pytest.raises(pymysql.err.OperationalError, match="append-only"):
            with db.transaction(login=admin_login()) as cur:
                cur.execute(statement)
    assert _resolution_count() == 3

    # the sixth day: the break that changed reopens; the others stay resolved (the cleared one now closed by data)
    seed.seed_day(five_days, EXTRA_DAY)
    assert runner.run_days(EXTRA_DAY, EXTRA_DAY) == 0
    fct = _fct_breaks()
    # the run posted the P1 breaks it opened, as the mart shows them
    new_p1 = [r for r in fct.values() if r["priority"] == "P1" and r["lifecycle"] in ("open", "reopened")
              and r["opened_as_of"] == EXTRA_DAY]
    assert new_p1, "seed 42 opens P1 breaks on the sixth day"
    assert len(webhook) == 1, webhook
    text = webhook[0]["text"]
    assert f"{len(new_p1)} new P1 break" in text and str(EXTRA_DAY) in text
    biggest = max(new_p1, key=lambda r: Decimal(r["amount_minor"]).scaleb(-EXPONENTS[r["currency"]]))
    assert biggest["break_id"] in text and "/dags/reconcile_daily/runs/" in text
    changed = fct[picked["changes"]]
    assert changed["lifecycle"] == "reopened" and changed["resolution_id"] is not None
    assert changed["reason"] == extra[changes[0]][0]
    assert fct[picked["stays"]]["lifecycle"] == "resolved"
    cleared = fct[picked["clears"]]
    assert cleared["lifecycle"] == "resolved" and cleared["closed_as_of"] == EXTRA_DAY
    # a reopened break can be resolved again; the trail keeps both resolutions
    code, text = _resolve(picked["changes"], "write_off", capsys)
    assert code == 0, text
    assert _fct_breaks()[picked["changes"]]["lifecycle"] == "resolved"
    assert _resolution_count() == 4

    # every other break still equals the truth's lifecycle over six days
    expected = _truth_lifecycles(_truth_breaks(five_days), [*DAYS, EXTRA_DAY])
    identities = _item_identities()
    for break_id, row in _fct_breaks().items():
        if break_id in picked.values():
            continue
        want = expected[identities[row["item_key"]]]
        assert (row["lifecycle"], row["opened_as_of"], row["closed_as_of"]) == (want.lifecycle, want.opened,
                                                                               want.closed), break_id

    # summary --as-of answers for that date: the resolutions were recorded against the fifth day, none before
    code = cli.main(["summary", "--as-of", DAYS[-2].isoformat()])
    text = capsys.readouterr().out
    assert code == 0 and f"Breaks as of {DAYS[-2]}" in text and "resolved by a person 0" in text
    code = cli.main(["summary", "--as-of", DAYS[-1].isoformat()])
    assert code == 0 and "resolved by a person 3" in capsys.readouterr().out
    code = cli.main(["summary"])
    text = capsys.readouterr().out
    assert code == 0 and f"Breaks as of {EXTRA_DAY}" in text and "resolved by a person 3" in text
