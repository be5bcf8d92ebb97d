"""recon.alerts without services: amounts per currency exponent, the top breaks' order, the messages and the run
link, the webhook URL rebuilt from every accepted connection shape (as recon.connections and Airflow parse them),
and what happens with no connection, a broken one or a refusing webhook."""
from __future__ import annotations

import json
import logging
import urllib.error
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest

from recon import alerts, connections
from recon.alerts import AlertError, Break, Webhook

pytestmark = pytest.mark.unit

D = date(2026, 1, 7)
SLACK = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
RUN_URL = "https://airflow.example.com/dags/reconcile_daily/runs/scheduled__2026-01-07T00%3A00%3A00%2B00%3A00"


def _break(break_id: str, amount: int, currency: str = "USD", age: int = 1, **kw) -> Break:
    values = dict(leg="transaction", reason="amount_mismatch", processor="stripe", reference=f"ch_{break_id}")
    values.update(kw)
    return Break(break_id=break_id, amount_minor=amount, currency=currency, age_days=age, **values)


# --- amounts and ordering -------------------------------------------------------------------------------------

@pytest.mark.parametrize("minor, currency, expected", [
    (1234, "USD", "12.34 USD"), (1234, "JPY", "1234 JPY"), (1234, "KWD", "1.234 KWD"), (5, "EUR", "0.05 EUR"),
    (0, "USD", "0.00 USD"), (123456789, "usd", "1234567.89 USD"), (1234, "XYZ", "1234 XYZ (minor units)"),
])
def test_format_amount_uses_the_currency_exponent(minor, currency, expected) -> None:
    assert alerts.format_amount(minor, currency) == expected


def test_amounts_are_summed_per_currency() -> None:
    breaks = [_break("a", 1000), _break("b", 234), _break("c", 500, "JPY"), _break("d", 1, "EUR")]
    assert alerts.amounts_by_currency(breaks) == "0.01 EUR, 500 JPY, 12.34 USD"


def test_top_breaks_largest_in_major_units_then_oldest_then_id() -> None:
    breaks = [
        _break("small", 100), _break("jpy", 2000, "JPY"),  # 1.00 USD; 2000 JPY ranks as 2000 (no FX)
        _break("big", 500000), _break("mid_old", 9999, age=9), _break("mid_new", 9999, age=2),
        _break("mid_old_b", 9999, age=9), _break("kwd", 1500, "KWD"),  # 1.500 KWD
    ]
    assert [b.break_id for b in alerts.top_breaks(breaks)] == ["big", "jpy", "mid_old", "mid_old_b", "mid_new"]
    assert [b.break_id for b in alerts.top_breaks(breaks, n=10)][-2:] == ["kwd", "small"]


# --- messages -------------------------------------------------------------------------------------------------

def test_breaks_alert_message() -> None:
    new = [_break(f"b{i}", 1000 * i) for i in range(1, 7)] + [
        _break("jp", 1234, "JPY", age=4, leg="payout", reason="missing_in_bank", processor="adyen",
               reference="RECON_MERCHANT:1001 <&>")]
    payload = alerts.format_breaks_alert(D, new, {"P1": 9, "P3": 4, "P2": 2}, RUN_URL)
    json.dumps(payload)  # what is posted
    text = payload["text"]
    assert "7 new P1 breaks as of 2026-01-07" in text
    assert "New P1 amount: 1234 JPY, 210.00 USD" in text
    assert "Open breaks by priority: P1 9 · P2 2 · P3 4" in text
    assert "Top 5 of 7 new P1 breaks by amount:" in text
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert [line.split("`")[1] for line in lines] == ["jp", "b6", "b5", "b4", "b3"]
    assert lines[0] == ("• `jp` payout · missing_in_bank · adyen · RECON_MERCHANT:1001 &lt;&amp;&gt; · "
                        "*1234 JPY* · 4 days")
    assert lines[1].endswith("· ch_b6 · *60.00 USD* · 1 day")
    assert text.endswith(f"<{RUN_URL}|Open the Airflow run>")
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    assert payload["blocks"][0]["text"]["text"] == "recon: 7 new P1 breaks as of 2026-01-07"


def test_breaks_alert_one_break_no_link_and_a_later_mart() -> None:
    payload = alerts.format_breaks_alert(D, [_break("x", 5)], {"P1": 1}, None, mart_as_of=date(2026, 1, 9))
    text = payload["text"]
    assert "1 new P1 break as of" in text and "New P1 break by amount:" in text
    assert "P1 1 · P2 0 · P3 0" in text and "as they stand on 2026-01-09" in text
    assert "Airflow run" not in text and [b["type"] for b in payload["blocks"]][-1] == "section"


def test_gate_failure_alert() -> None:
    summary = "marts as of 2026-01-07: 1 of 12 expectations failed: per payout ... <b> ```x```"
    payload = alerts.gate_failure_alert(D, "gate_marts", summary, RUN_URL)
    text = payload["text"]
    assert text.startswith(":x: *recon: gate_marts failed for 2026-01-07*")
    assert "1 of 12 expectations failed: per payout ... &lt;b&gt; '''x'''" in text
    assert text.count("```") == 2 and text.endswith(f"<{RUN_URL}|Open the Airflow run>")
    long = alerts.gate_failure_alert(D, "dbt.fct_x_model_build", "e" * 5000, None)
    assert "(2500 more characters in the task log)" in long["text"]
    assert all(len(b["text"]["text"]) <= 3000 for b in long["blocks"] if b["type"] == "section")


# --- the run link ---------------------------------------------------------------------------------------------

def _context(run_id: str = "scheduled__2026-01-07T00:00:00+00:00") -> dict:
    return {"dag_run": SimpleNamespace(dag_id="reconcile_daily", run_id=run_id), "run_id": run_id,
            "dag": SimpleNamespace(dag_id="reconcile_daily"),
            "logical_date": datetime(2026, 1, 7, tzinfo=timezone.utc), "ds": "2026-01-07"}


def test_run_url_from_api_base_url(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")
    assert alerts.run_url(_context()) == RUN_URL
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://corp.example.com/airflow")
    assert alerts.run_url(_context("manual__x y")) == (
        "https://corp.example.com/airflow/dags/reconcile_daily/runs/manual__x%20y")


def test_run_url_defaults_and_missing(monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    assert alerts.run_url(_context()).startswith("http://localhost:8080/dags/reconcile_daily/runs/scheduled__")
    assert alerts.run_url({}) is None


# --- the webhook URL from the connection ----------------------------------------------------------------------

def _from_env_value(value: str) -> Webhook:
    return alerts.webhook_from_conn(connections.parse_conn(alerts.CONN_ID, value))


def _from_airflow_uri(value: str) -> Webhook:
    """As a connection defined in Airflow (UI, secrets backend) reaches recon.connections.get_conn in a task."""
    from airflow.sdk import Connection

    c = Connection.from_uri(value, conn_id=alerts.CONN_ID)
    return alerts.webhook_from_conn(connections.ConnInfo(alerts.CONN_ID, c.conn_type or "", c.host, c.port, c.login,
                                                         c.password, c.schema, dict(c.extra_dejson or {})))


@pytest.mark.parametrize("value, expected", [
    (SLACK, SLACK),
    ("http://127.0.0.1:8099/hook", "http://127.0.0.1:8099/hook"),
    ("https://chat.googleapis.com/v1/spaces/AAA/messages?key=K1&token=T%3D1",
     "https://chat.googleapis.com/v1/spaces/AAA/messages?key=K1&token=T%3D1"),
    ("generic://?webhook_url=https%3A%2F%2Fhooks.slack.com%2Fservices%2FT000%2FB000%2FXXXXSECRET", SLACK),
    ('{"conn_type": "https", "host": "hooks.slack.com", "schema": "services/T000/B000/XXXXSECRET"}', SLACK),
    ('{"conn_type": "http", "host": "127.0.0.1", "port": 8099, "schema": "hook"}', "http://127.0.0.1:8099/hook"),
    ('{"conn_type": "generic", "extra": {"webhook_url": "' + SLACK + '"}}', SLACK),
    ('{"conn_type": "http", "host": "' + SLACK + '"}', SLACK),  # the full URL typed in the UI's Host field
    ('{"conn_type": "http", "host": "https://hooks.slack.com", "schema": "services/T000/B000/XXXXSECRET"}', SLACK),
    ('{"conn_type": "http", "host": "http://127.0.0.1", "port": 8099, "schema": "hook"}',
     "http://127.0.0.1:8099/hook"),
    ('{"conn_type": "http", "host": "' + SLACK + '", "schema": "https"}', SLACK),  # HTTP provider: schema = scheme
    ('{"conn_type": "slackwebhook", "password": "' + SLACK + '"}', SLACK),
    ('{"conn_type": "slackwebhook", "password": "T000/B000/XXXXSECRET"}', SLACK),
])
def test_webhook_url_from_connection_shapes(value: str, expected: str) -> None:
    assert _from_env_value(value).url == expected


@pytest.mark.parametrize("value", [
    SLACK, "http://127.0.0.1:8099/hook",
    "generic://?webhook_url=https%3A%2F%2Fhooks.slack.com%2Fservices%2FT000%2FB000%2FXXXXSECRET"])
def test_airflow_parses_the_uri_to_the_same_url(value: str) -> None:
    assert _from_airflow_uri(value).url == _from_env_value(value).url


def test_basic_auth_from_login_and_password() -> None:
    hook = _from_env_value("https://alerts:p%40ss@example.com/hook")
    assert (hook.url, hook.login, hook.password) == ("https://example.com/hook", "alerts", "p@ss")
    assert alerts._request(hook, b"{}").get_header("Authorization") == "Basic YWxlcnRzOnBAc3M="


def test_host_is_all_that_is_shown() -> None:
    assert Webhook(SLACK).host == "hooks.slack.com"


@pytest.mark.parametrize("value", ["mysql://u:p@db:3306/x", '{"conn_type": "generic"}',
                                   '{"conn_type": "generic", "extra": {"webhook_url": "ftp://x/SECRET"}}'])
def test_unusable_connection_is_an_error(value: str) -> None:
    with pytest.raises(AlertError, match="recon_alerts_webhook") as err:
        _from_env_value(value)
    assert "SECRET" not in str(err.value)


# --- no connection, a broken one, a refusing webhook ----------------------------------------------------------

def _not_defined(conn_id: str):
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")
    except AirflowNotFoundException as exc:  # wrapped as recon.connections.get_conn does
        raise RuntimeError(f"connection {conn_id!r} is not defined") from exc


def test_no_connection_means_alerts_off(monkeypatch, caplog) -> None:
    monkeypatch.setattr(connections, "get_conn", _not_defined)
    monkeypatch.setattr(alerts, "read_breaks", lambda as_of: pytest.fail("the mart is read with alerts off"))
    caplog.set_level(logging.INFO, logger="recon.alerts")
    assert alerts.resolve_webhook() is None
    assert alerts.send({"text": "x"}) is False
    assert alerts.post_breaks_alert(D, None) == "off"
    alerts.on_gate_failure({**_context(), "task": SimpleNamespace(task_id="gate_marts"), "exception": ValueError()})
    assert ("no alert webhook configured (connection recon_alerts_webhook): alerts are off"
            in caplog.messages)
    assert all(r.levelno == logging.INFO for r in caplog.records)


def test_nothing_to_send() -> None:
    assert alerts.send(None) is False


def test_broken_connection_is_an_error_not_silence(monkeypatch, caplog) -> None:
    def broken(conn_id: str):
        raise RuntimeError("connection could not be parsed") from ValueError("bad JSON")

    monkeypatch.setattr(connections, "get_conn", broken)
    with pytest.raises(AlertError, match="could not be read"):
        alerts.resolve_webhook()
    assert alerts.post_breaks_alert(D, None) == "failed"
    assert any(r.levelno == logging.WARNING and "NOT sent" in r.getMessage() for r in caplog.records)


def test_a_4xx_is_not_retried_and_never_shows_the_path(monkeypatch) -> None:
    calls = []

    def refuse(request, timeout):
        calls.append((request.full_url, timeout))
        raise urllib.error.HTTPError(request.full_url, 404, "Not Found", {}, None)

    monkeypatch.setattr(alerts.urllib.request, "urlopen", refuse)
    with pytest.raises(AlertError) as err:
        alerts.send({"text": "x"}, Webhook(SLACK))
    assert calls == [(SLACK, 10)]
    assert "hooks.slack.com" in str(err.value) and "HTTP 404" in str(err.value)
    assert "XXXXSECRET" not in str(err.value) and "services" not in str(err.value)


def test_gate_failure_callback_posts_and_never_raises(monkeypatch, caplog) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com")
    monkeypatch.setattr(alerts, "resolve_webhook", lambda: Webhook(SLACK))
    sent = []
    monkeypatch.setattr(alerts, "post_json", lambda hook, payload: sent.append(payload) or 200)
    context = {**_context(), "task": SimpleNamespace(task_id="gate_marts"),
               "exception": RuntimeError("mart gate failed for 2026-01-07: 1 of 12 expectations failed")}
    alerts.on_gate_failure(context)
    assert len(sent) == 1
    assert sent[0]["text"].startswith(":x: *recon: gate_marts failed for 2026-01-07*")
    assert "RuntimeError: mart gate failed for 2026-01-07: 1 of 12 expectations failed" in sent[0]["text"]
    assert RUN_URL in sent[0]["text"]

    def down(hook, payload):
        raise AlertError("alert webhook at hooks.slack.com failed after 4 attempts: HTTP 503")

    monkeypatch.setattr(alerts, "post_json", down)
    alerts.on_gate_failure(context)  # logged, not raised
    assert any(r.levelno == logging.ERROR and "hooks.slack.com" in r.getMessage() for r in caplog.records)
