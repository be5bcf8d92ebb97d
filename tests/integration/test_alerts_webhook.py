"""Alerts end to end: a real HTTP server on a free port stands in for the webhook (AIRFLOW_CONN_RECON_ALERTS_WEBHOOK
points at it), a hand-written breaks mart on the private MariaDB stands in for fct_reconciliation_breaks. Checks
the posted JSON (counts, amounts per currency, top breaks, link), the retry on a 500, the final failure, the gate
failure message, and the on_failure_callback inside a real Airflow run.

The mart is created in a namespace of this test's own (`<ns>_alerts`, so `<ns>_alerts_marts`, with its own users),
dropped afterwards: it can never replace the real mart dbt builds in `<ns>_marts`."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from recon import alerts, db
from recon.settings import load_settings
from recon.stack.config import admin_login

pytestmark = pytest.mark.integration

D = date(2026, 1, 7)
RUN = "https://airflow.example.com/dags/reconcile_daily/runs/scheduled__2026-01-07T00%3A00%3A00%2B00%3A00"
SECRET_PATH = "/hook/T000/B000/SECRETPATH"


def bid(name: str) -> str:
    """A break id shaped like the mart's (32 hex characters)."""
    return hashlib.md5(name.encode()).hexdigest()


# name, leg, reason, processor, reference, amount_minor, currency, opened_as_of, age_days, priority, lifecycle
BREAKS = [
    ("usd_big", "transaction", "amount_mismatch", "stripe", "ch_big", 250000, "USD", D, 0, "P1", "open"),
    ("eur", "payout", "missing_in_bank", "adyen", "RECON_MERCHANT:1001", 7050, "EUR", D, 3, "P1", "open"),
    ("jpy", "transaction", "missing_in_processor", "adyen", "2222222222222222", 5000, "JPY", D, 2, "P1", "reopened"),
    ("usd_small", "transaction", "missing_in_ledger", "stripe", "ch_small", 1234, "USD", D, 1, "P1", "open"),
    ("kwd", "transaction", "amount_mismatch", "stripe", "ch_kwd", 1500, "KWD", D, 5, "P1", "open"),
    ("usd_mid", "payout", "unexplained_bank_credit", None, "B9", 99900, "USD", D, 0, "P1", "open"),
    # not new P1 breaks of this run: opened earlier, closed, or another priority
    ("p1_old", "transaction", "missing_in_processor", "stripe", "ch_old", 777, "USD", date(2026, 1, 3), 4, "P1",
     "open"),
    ("p1_resolved", "transaction", "amount_mismatch", "stripe", "ch_r", 999999, "USD", D, 0, "P1", "resolved"),
    ("p1_auto", "transaction", "pending_processor", "stripe", "ch_a", 999999, "USD", D, 0, "P1", "auto_resolved"),
    ("p2_a", "transaction", "pending_processor", "stripe", "ch_p2a", 100, "USD", D, 0, "P2", "open"),
    ("p2_b", "payout", "pending_bank", "adyen", "RECON_MERCHANT:1002", 100, "EUR", D, 1, "P2", "reopened"),
    ("p3_a", "transaction", "duplicate_in_ledger", "stripe", "ch_p3", 100, "USD", D, 0, "P3", "open"),
    ("p3_b", "transaction", "duplicate_in_ledger", "stripe", "ch_p3b", 100, "USD", D, 0, "P3", "auto_resolved"),
]

DDL = """CREATE TABLE {table} (
  as_of_date DATE NOT NULL, break_id CHAR(32) NOT NULL, leg VARCHAR(16) NOT NULL, item_key VARCHAR(255),
  reason VARCHAR(32) NOT NULL, side VARCHAR(16), processor VARCHAR(32), reference VARCHAR(255),
  ledger_entry_id VARCHAR(64), business_date DATE, amount_minor BIGINT NOT NULL, currency CHAR(3) NOT NULL,
  first_seen_as_of DATE, opened_as_of DATE, last_seen_as_of DATE, closed_as_of DATE, age_days INT,
  age_bucket VARCHAR(8), priority CHAR(2) NOT NULL, lifecycle VARCHAR(16) NOT NULL, times_opened INT,
  resolution_id VARCHAR(64), resolution_reason VARCHAR(64), resolution_note TEXT, resolved_by VARCHAR(64),
  resolved_at DATETIME, PRIMARY KEY (break_id))"""


@pytest.fixture(scope="module")
def alerts_namespace(stack: None) -> Iterator[str]:
    """This module's own namespace, set up like any other (`recon stack init`: databases, tables and users), so the
    alerts read its mart through its own transformer user, as in a real run; dropped with its users afterwards."""
    from recon.stack import manager
    from recon.stack.config import stack_environment

    namespace = f"{load_settings().namespace}_alerts"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RECON_NAMESPACE", namespace)
        for key, value in stack_environment().items():  # the connections of the namespace's users
            if key.startswith(("AIRFLOW_CONN_RECON_", "RECON_TRANSFORMER_", "RECON_ANALYST_USER")):
                env.setenv(key, value)
        manager.init()
        settings = load_settings()
        try:
            yield namespace
        finally:
            with db.transaction(login=admin_login()) as cur:
                for database in (settings.raw_db, settings.dbt_db, settings.marts_db, settings.product_db):
                    cur.execute(f"DROP DATABASE IF EXISTS {database}")
                for user in (settings.loader_user, settings.transformer_user, settings.analyst_user):
                    for host in ("%", "localhost"):
                        cur.execute("DROP USER IF EXISTS %s@%s", (user, host))


@pytest.fixture()
def breaks_mart(alerts_namespace: str) -> Iterator[str]:
    marts = load_settings().marts_db
    table = f"{marts}.fct_reconciliation_breaks"
    rows = [(D, bid(name), leg, f"item:{name}", reason, "ledger", processor, ref, None, opened, amount, currency,
             opened, opened, D, None if lifecycle in ("open", "reopened") else D, age, "0-1", priority, lifecycle,
             2 if lifecycle == "reopened" else 1)
            for name, leg, reason, processor, ref, amount, currency, opened, age, priority, lifecycle in BREAKS]
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {marts}")
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(DDL.format(table=table))
        cur.executemany(
            f"INSERT INTO {table} (as_of_date, break_id, leg, item_key, reason, side, processor, reference, "
            "ledger_entry_id, business_date, amount_minor, currency, first_seen_as_of, opened_as_of, "
            "last_seen_as_of, closed_as_of, age_days, age_bucket, priority, lifecycle, times_opened) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    yield table
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")


@dataclass
class WebhookServer:
    url: str
    host: str
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    received: list[dict[str, Any]] = field(default_factory=list)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture()
def webhook(monkeypatch) -> Iterator[WebhookServer]:
    state = WebhookServer(url="", host="127.0.0.1")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"internal_error")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}{SECRET_PATH}"
    monkeypatch.setenv("AIRFLOW_CONN_RECON_ALERTS_WEBHOOK", state.url)
    monkeypatch.setattr(alerts, "RETRY_DELAYS_SECONDS", (0.05, 0.1, 0.2))  # the same backoff, faster
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _no_secret(text: str) -> None:
    assert "SECRETPATH" not in text and "/hook/" not in text, text


def test_breaks_alert_is_posted_with_counts_amounts_top_breaks_and_link(breaks_mart, webhook) -> None:
    payload = alerts.breaks_alert(D, RUN)
    assert alerts.send(payload) is True

    assert len(webhook.received) == 1
    request = webhook.received[0]
    assert request["path"] == SECRET_PATH
    assert request["headers"]["Content-Type"].startswith("application/json")
    posted = json.loads(request["body"])
    assert posted == payload
    text = posted["text"]
    assert "*recon: 6 new P1 breaks as of 2026-01-07*" in text
    assert "New P1 amount: 70.50 EUR, 5000 JPY, 1.500 KWD, 3511.34 USD" in text
    assert "Open breaks by priority: P1 7 · P2 2 · P3 1" in text
    assert "Top 5 of 6 new P1 breaks by amount:" in text
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert [line.split("`")[1] for line in lines] == [bid(n) for n in ("jpy", "usd_big", "usd_mid", "eur", "usd_small")]
    assert lines[0] == (f"• `{bid('jpy')}` transaction · missing_in_processor · adyen · 2222222222222222 · "
                        "*5000 JPY* · 2 days")
    assert lines[2] == f"• `{bid('usd_mid')}` payout · unexplained_bank_credit · - · B9 · *999.00 USD* · 0 days"
    assert lines[3].endswith("· RECON_MERCHANT:1001 · *70.50 EUR* · 3 days")
    assert text.endswith(f"<{RUN}|Open the Airflow run>")
    for name in ("kwd", "p1_old", "p1_resolved", "p1_auto", "p2_a", "p3_a"):
        assert bid(name) not in text
    assert [b["type"] for b in posted["blocks"]] == ["header", "section", "section", "context"]


def test_the_task_entry_point_sends_once_and_stays_quiet_without_new_p1(breaks_mart, webhook) -> None:
    assert alerts.post_breaks_alert(D, RUN) == "sent"
    assert alerts.breaks_alert(date(2026, 1, 3), RUN) is not None  # p1_old was new that day
    assert alerts.post_breaks_alert(date(2026, 1, 8), RUN) == "nothing"
    assert len(webhook.received) == 1


def test_a_500_is_retried(webhook, caplog) -> None:
    webhook.statuses[:] = [500]
    caplog.set_level(logging.INFO, logger="recon.alerts")
    assert alerts.send({"text": "hello"}) is True
    assert [r["body"] for r in webhook.received] == [b'{"text": "hello"}'] * 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "127.0.0.1" in warnings[0] and "HTTP 500" in warnings[0]
    for message in caplog.messages:
        _no_secret(message)


def test_a_final_failure_names_host_and_status_and_does_not_fail_the_run(breaks_mart, webhook, caplog) -> None:
    webhook.statuses[:] = [503] * 4
    with pytest.raises(alerts.AlertError) as err:
        alerts.send({"text": "x"})
    assert "alert webhook at 127.0.0.1 failed after 4 attempts: HTTP 503" in str(err.value)
    _no_secret(str(err.value))
    assert len(webhook.received) == 4

    webhook.statuses[:] = [503] * 4
    assert alerts.post_breaks_alert(D, RUN) == "failed"  # logged; the task (and the run) still succeed
    warning = [r.getMessage() for r in caplog.records if "NOT sent" in r.getMessage()]
    assert warning and "HTTP 503" in warning[0]
    for message in caplog.messages:
        _no_secret(message)


def test_connection_refused_is_retried_then_reported(monkeypatch) -> None:
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_RECON_ALERTS_WEBHOOK", f"http://127.0.0.1:{port}{SECRET_PATH}")
    monkeypatch.setattr(alerts, "RETRY_DELAYS_SECONDS", (0.01, 0.01, 0.01))
    with pytest.raises(alerts.AlertError, match="127.0.0.1 failed after 4 attempts: URLError") as err:
        alerts.send({"text": "x"})
    _no_secret(str(err.value))


def test_gate_failure_payload_is_posted(webhook) -> None:
    summary = "marts as of 2026-01-07: 1 of 12 expectations failed: per payout, the expected amount equals ..."
    assert alerts.send(alerts.gate_failure_alert(D, "gate_marts", summary, RUN)) is True
    context = {"task": SimpleNamespace(task_id="dbt.fct_transaction_reconciliation_model_build"),
               "exception": RuntimeError("dbt build failed: 1 of 9 tests failed"), "run_id": "manual__1",
               "dag_run": SimpleNamespace(dag_id="reconcile_daily", run_id="manual__1"),
               "logical_date": datetime(2026, 1, 7, tzinfo=timezone.utc)}
    alerts.on_gate_failure(context)
    first, second = webhook.payloads()
    assert first["text"].startswith(":x: *recon: gate_marts failed for 2026-01-07*")
    assert summary in first["text"] and first["text"].endswith(f"<{RUN}|Open the Airflow run>")
    assert "dbt.fct_transaction_reconciliation_model_build failed for 2026-01-07" in second["text"]
    assert "RuntimeError: dbt build failed: 1 of 9 tests failed" in second["text"]
    assert "/dags/reconcile_daily/runs/manual__1|" in second["text"]


CALLBACK_DAG = """# Airflow DAG file written by tests/integration/test_alerts_webhook.py
from datetime import datetime, timezone

from airflow.sdk import DAG, task

from recon.alerts import on_gate_failure

with DAG(dag_id="recon_test_alert_callback", schedule=None, catchup=False,
         start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
    @task(task_id="gate_marts", retries=0, on_failure_callback=on_gate_failure)
    def failing_gate() -> None:
        raise RuntimeError("mart gate failed for 2026-01-07: 1 of 12 expectations failed")

    failing_gate()
"""

NO_WEBHOOK_DAG = """# Airflow DAG file written by tests/integration/test_alerts_webhook.py
from datetime import datetime, timezone

from airflow.sdk import DAG, task

with DAG(dag_id="recon_test_alert_off", schedule=None, catchup=False,
         start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
    @task(task_id="alert_breaks", retries=0)
    def alert_breaks() -> None:
        from recon.alerts import post_breaks_alert

        outcome = post_breaks_alert(datetime(2026, 1, 7).date(), None)
        if outcome != "off":
            raise RuntimeError(f"expected alerts off, got {outcome}")

    alert_breaks()
"""


def _run_in_airflow(source: str, dag_id: str, folder, monkeypatch) -> Any:
    """dag.test() runs only DAGs of a configured DAG bundle: the DAG goes to a bundle of its own (the project's
    DAGs folder is left alone), and the project's bundle is made active again afterwards."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag

    (folder / f"{dag_id}.py").write_text(source)
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([{
        "name": "recon-alerts-test", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(folder), "refresh_interval": 0}}]))
    try:
        bag = DagBag(dag_folder=str(folder))
        assert bag.import_errors == {}
        return bag.dags[dag_id].test(logical_date=datetime(2026, 1, 7, tzinfo=timezone.utc))
    finally:
        monkeypatch.delenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST")
        DagBundlesManager().sync_bundles_to_db()


def test_on_failure_callback_in_a_real_airflow_run(stack, webhook, monkeypatch, tmp_path) -> None:
    """Airflow 3's task runner calls on_failure_callback with the task context (task, dag_run, run_id,
    logical_date, exception): what on_gate_failure reads."""
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com")
    run = _run_in_airflow(CALLBACK_DAG, "recon_test_alert_callback", tmp_path, monkeypatch)
    assert "failed" in str(run.state)
    [payload] = webhook.payloads()
    text = payload["text"]
    assert text.startswith(":x: *recon: gate_marts failed for 2026-01-07*")
    assert "RuntimeError: mart gate failed for 2026-01-07: 1 of 12 expectations failed" in text
    assert re.search(r"<https://airflow\.example\.com/dags/recon_test_alert_callback/runs/manual__[0-9T%A-F.-]+\|"
                     r"Open the Airflow run>$", text), text


def test_no_webhook_inside_an_airflow_task_means_off(stack, monkeypatch, tmp_path) -> None:
    """In a task, a missing connection comes from Airflow's own lookup (not the environment): still 'off'."""
    monkeypatch.delenv("AIRFLOW_CONN_RECON_ALERTS_WEBHOOK", raising=False)
    run = _run_in_airflow(NO_WEBHOOK_DAG, "recon_test_alert_off", tmp_path, monkeypatch)
    assert "success" in str(run.state)
