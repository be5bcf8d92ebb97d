"""Alerts to a chat webhook when `reconcile_daily` opens P1 breaks or a gate fails.

The webhook is the optional Airflow connection `recon_alerts_webhook` (recon.connections.ALERTS_WEBHOOK); the
body is Slack-compatible JSON: `text` holds the whole message in Slack mrkdwn (what any Slack-compatible webhook
shows), `blocks` the same content laid out for Slack. Without the connection, alerts are off: one log line, no error.

Failure policy: `send` raises AlertError when the webhook cannot be reached or refuses the message. The DAG's entry
points decide what that means: `post_breaks_alert` (task alert_breaks, after a successful run) logs a warning and
lets the run succeed, because the reconciliation itself is right and a chat outage must not make it look failed;
`on_gate_failure` (on_failure_callback of the gates) logs an error, the run having failed already.

A webhook URL's path is a secret (a Slack webhook's path is its credential): only its host is ever logged.
"""
from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Mapping, Sequence
from urllib.parse import quote, urlencode, urlsplit

from recon import connections, currencies
from recon.airflow_links import airflow_base_url
from recon.orchestration.common import run_business_date

log = logging.getLogger(__name__)

CONN_ID = connections.ALERTS_WEBHOOK
OFF_MESSAGE = f"no alert webhook configured (connection {CONN_ID}): alerts are off"
TIMEOUT_SECONDS = 10
RETRY_DELAYS_SECONDS = (1.0, 2.0, 4.0)  # the waits between the 4 attempts on connection errors, 429 and 5xx
TOP_BREAKS = 5
PRIORITIES = ("P1", "P2", "P3")
OPEN_LIFECYCLES = ("open", "reopened")
SLACK_TEXT_LIMIT = 2900  # Slack refuses a section text over 3000 characters
GATE_SUMMARY_LIMIT = 2500  # keeps the gate message under the section limit with its header and link
_PATH_SAFE = "/-._~!$&'()*+,;=:@"  # RFC 3986 path characters kept as they are when the path is re-quoted
_SLACK_DEFAULT_ENDPOINT = "hooks.slack.com/services"  # what the Slack provider's slackwebhook type assumes


class AlertError(RuntimeError):
    """The alert could not be posted (or the webhook connection is unusable); the message names the host only."""


@dataclass(frozen=True)
class Webhook:
    url: str
    login: str | None = None
    password: str | None = None

    @property
    def host(self) -> str:
        """What logs and errors may show: the host, never the path."""
        return urlsplit(self.url).hostname or "?"


@dataclass(frozen=True)
class Break:
    break_id: str
    leg: str
    reason: str
    processor: str | None
    reference: str | None
    amount_minor: int
    currency: str
    age_days: int


# ---------------------------------------------------------------------------------------------------------------
# the connection
# ---------------------------------------------------------------------------------------------------------------

def webhook_from_conn(info: connections.ConnInfo) -> Webhook:
    """The webhook a connection names. Accepted, first match wins:
    1. extra `webhook_url`: the full URL (any conn_type);
    2. a host holding a full URL (`https://hooks.slack.com/services/...`, as typed in the UI's Host field);
       `schema`, when the host URL has no path, is its path;
    3. conn_type `http`/`https`: scheme://host[:port]/schema, string extras as the query (the URI form:
       `AIRFLOW_CONN_RECON_ALERTS_WEBHOOK='https://hooks.slack.com/services/T/B/X'` parses to exactly that);
    4. conn_type `slackwebhook` (the Slack provider's type): the password is the full URL, or the path under
       https://<host or hooks.slack.com/services>/.
    Login and password of an http/https connection are sent as HTTP basic auth."""
    extra = info.extra or {}
    conn_type = (info.conn_type or "").lower()
    auth = (info.login, info.password) if conn_type in ("http", "https") else (None, None)
    if isinstance(extra.get("webhook_url"), str) and extra["webhook_url"].strip():
        return _checked(Webhook(extra["webhook_url"].strip(), *auth))
    if info.host and "://" in info.host:
        return _checked(Webhook(_url_from_full_host(info.host, info.port, info.schema), *auth))
    if conn_type in ("http", "https") and info.host:
        return _checked(Webhook(_url_from_parts(conn_type, info.host, info.port, info.schema, extra), *auth))
    if conn_type == "slackwebhook" and info.password:
        if "://" in info.password:
            return _checked(Webhook(info.password.strip()))
        endpoint = (info.host or _SLACK_DEFAULT_ENDPOINT).strip("/")
        return _checked(Webhook(f"https://{endpoint}/{info.password.strip().lstrip('/')}"))
    raise AlertError(
        f"connection {CONN_ID} (conn_type {info.conn_type or '-'!r}) does not give a webhook URL: set it to the URL "
        f"itself (AIRFLOW_CONN_{CONN_ID.upper()}='https://hooks.slack.com/services/...'), or put the URL in the "
        "Host field or in extra {\"webhook_url\": \"...\"}")


def _url_from_full_host(host: str, port: int | None, schema: str | None) -> str:
    parts = urlsplit(host.strip())
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    path = parts.path
    # the HTTP provider's convention puts the scheme in `schema`: that is not a path
    if path in ("", "/") and schema and schema.lower() not in ("http", "https"):
        path = "/" + quote(schema.lstrip("/"), safe=_PATH_SAFE)
    return parts._replace(netloc=netloc, path=path).geturl()


def _url_from_parts(scheme: str, host: str, port: int | None, schema: str | None, extra: Mapping[str, Any]) -> str:
    netloc = f"{host}:{port}" if port else host
    path = "/" + quote(schema.lstrip("/"), safe=_PATH_SAFE) if schema else ""
    # a URI's query string lands in extra (Airflow parses it so): put it back, e.g. Google Chat's ?key=..&token=..
    query = {k: v for k, v in extra.items() if k != "webhook_url" and isinstance(v, str)}
    return f"{scheme}://{netloc}{path}" + (f"?{urlencode(query)}" if query else "")


def _checked(hook: Webhook) -> Webhook:
    parts = urlsplit(hook.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AlertError(f"connection {CONN_ID}: the webhook URL must be http(s)://host/... "
                         f"(got scheme {parts.scheme or '-'!r}, host {parts.hostname or '-'!r})")
    return hook


def _is_not_found(exc: BaseException | None) -> bool:
    """recon.connections.get_conn wraps Airflow's AirflowNotFoundException: the connection is simply not defined."""
    while exc is not None:
        if type(exc).__name__ == "AirflowNotFoundException":
            return True
        exc = exc.__cause__
    return False


def resolve_webhook() -> Webhook | None:
    """The configured webhook, or None (logged once) when the connection does not exist. A connection that exists
    but cannot be read or used raises AlertError: a typo must not silently turn alerts off."""
    try:
        info = connections.get_conn(CONN_ID)
    except Exception as exc:  # noqa: BLE001 - sorted into "not configured" and "broken"
        if _is_not_found(exc):
            log.info(OFF_MESSAGE)
            return None
        # the cause's text is withheld: a parse error may quote the whole URL
        raise AlertError(f"connection {CONN_ID} could not be read ({type(exc).__name__}): check its format") from None
    return webhook_from_conn(info)


# ---------------------------------------------------------------------------------------------------------------
# posting
# ---------------------------------------------------------------------------------------------------------------

def _scrub(text: str, hook: Webhook) -> str:
    """Some errors (e.g. http.client.InvalidURL) quote the URL: hide everything after the host."""
    parts = urlsplit(hook.url)
    for secret in (hook.url, parts.path, parts.query, hook.password):
        if secret and secret not in ("/",):
            text = text.replace(secret, "***")
    return text


def _request(hook: Webhook, body: bytes) -> urllib.request.Request:
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "recon-alerts"}
    if hook.login or hook.password:
        token = base64.b64encode(f"{hook.login or ''}:{hook.password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return urllib.request.Request(hook.url, data=body, headers=headers, method="POST")


def post_json(hook: Webhook, payload: Mapping[str, Any]) -> int:
    """POST the payload; retries with backoff on connection errors, timeouts, 429 and 5xx (a chat service's
    hiccup), not on other 4xx (a revoked webhook or a refused body stays refused). Returns the HTTP status."""
    body = json.dumps(payload, default=str).encode("utf-8")
    attempts = len(RETRY_DELAYS_SECONDS) + 1
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(_request(hook, body), timeout=TIMEOUT_SECONDS) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            try:  # the service's own words ("invalid_token", "no_service") say what to fix
                detail = _scrub(exc.read(300).decode("utf-8", "replace").strip(), hook)
            except OSError:
                detail = ""
            last = f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
            if exc.code != 429 and exc.code < 500:
                raise AlertError(f"alert webhook at {hook.host} refused the message: {last}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, DNS, TLS, timeout, bad URL
            reason = getattr(exc, "reason", None) or exc
            last = _scrub(f"{type(exc).__name__}: {reason}", hook)
        if attempt < attempts:
            delay = RETRY_DELAYS_SECONDS[attempt - 1]
            log.warning("alert webhook at %s: attempt %d of %d failed (%s); retrying in %.0fs",
                        hook.host, attempt, attempts, last, delay)
            time.sleep(delay)
    raise AlertError(f"alert webhook at {hook.host} failed after {attempts} attempts: {last}")


def send(payload: Mapping[str, Any] | None, hook: Webhook | None = None) -> bool:
    """Post one alert. False when there is nothing to send or alerts are off, True once posted; AlertError when
    the webhook cannot be reached or refuses it (the caller decides whether that fails its task)."""
    if payload is None:
        return False
    hook = hook or resolve_webhook()
    if hook is None:
        return False
    status = post_json(hook, payload)
    log.info("alert posted to %s (HTTP %d)", hook.host, status)
    return True


# ---------------------------------------------------------------------------------------------------------------
# formatting (Slack mrkdwn)
# ---------------------------------------------------------------------------------------------------------------

def escape(text: Any) -> str:
    """Slack reads &, < and > as markup (links, mentions): partner data such as references must not be."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _exponent(currency: str) -> int | None:
    try:
        return currencies.exponent(currency)
    except ValueError:
        return None


def format_amount(amount_minor: int, currency: str) -> str:
    """Integer minor units with the currency's exponent: 1234 USD -> '12.34 USD', 1234 JPY -> '1234 JPY'."""
    exp = _exponent(currency)
    if exp is None:  # not ISO 4217: show what we have rather than guess a decimal point
        return f"{amount_minor} {currency} (minor units)"
    value = Decimal(int(amount_minor)).scaleb(-exp)
    return f"{value:.{exp}f} {currency.strip().upper()}"


def amounts_by_currency(breaks: Sequence[Break]) -> str:
    totals: Counter[str] = Counter()
    for b in breaks:
        totals[b.currency] += b.amount_minor
    return ", ".join(format_amount(total, cur) for cur, total in sorted(totals.items()))


def top_breaks(breaks: Sequence[Break], n: int = TOP_BREAKS) -> list[Break]:
    """Largest first in the currency's units (no FX rates here: 2000 JPY ranks above 12.34 USD), then oldest, then
    break id so the order is stable."""
    def key(b: Break) -> tuple[Decimal, int, str]:
        return (-Decimal(b.amount_minor).scaleb(-(_exponent(b.currency) or 0)), -b.age_days, b.break_id)

    return sorted(breaks, key=key)[:n]


def _link(run_url: str | None) -> str | None:
    return f"<{run_url}|Open the Airflow run>" if run_url else None


def _break_line(b: Break) -> str:
    days = "day" if b.age_days == 1 else "days"
    return (f"• `{escape(b.break_id)}` {escape(b.leg)} · {escape(b.reason)} · {escape(b.processor or '-')} · "
            f"{escape(b.reference or '-')} · *{format_amount(b.amount_minor, b.currency)}* · {b.age_days} {days}")


def _blocks(title: str, sections: Sequence[str], link: str | None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": s[:SLACK_TEXT_LIMIT]}} for s in sections if s]
    if link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
    return blocks


def format_breaks_alert(as_of: date, new_p1: Sequence[Break], open_counts: Mapping[str, int],
                        run_url: str | None, mart_as_of: date | None = None) -> dict[str, Any]:
    """The message for the P1 breaks a run opened; pure, so it is tested without a database. `mart_as_of` is the
    date the breaks mart shows (the latest processed): said when a re-run of an earlier date reads a later state."""
    n = len(new_p1)
    title = f"recon: {n} new P1 break{'s' if n != 1 else ''} as of {as_of.isoformat()}"
    counts = " · ".join(f"{p} {open_counts.get(p, 0)}" for p in PRIORITIES)
    others = sorted(set(open_counts) - set(PRIORITIES))  # a priority we do not know yet still shows
    counts += "".join(f" · {escape(p)} {open_counts[p]}" for p in others)
    summary = f"New P1 amount: {amounts_by_currency(new_p1)}\nOpen breaks by priority: {counts}"
    if mart_as_of and mart_as_of != as_of:
        summary += f"\n_Breaks as they stand on {mart_as_of.isoformat()}, the latest date processed._"
    top = top_breaks(new_p1)
    head = (f"Top {len(top)} of {n} new P1 breaks by amount:" if n > len(top)
            else f"New P1 break{'s' if n != 1 else ''} by amount:")
    listing = "\n".join([head, *(_break_line(b) for b in top)])
    link = _link(run_url)
    text = "\n".join(x for x in (f":rotating_light: *{title}*", summary, listing, link) if x)
    return {"text": text, "blocks": _blocks(title, [summary, listing], link)}


def gate_failure_alert(as_of: date, gate_name: str, summary_text: str, run_url: str | None) -> dict[str, Any]:
    """The message for a failed gate (the mart gate, or a dbt build/test task)."""
    title = f"recon: {gate_name} failed for {as_of.isoformat()}"
    detail = (summary_text or "failed (no detail recorded)").strip()
    if len(detail) > GATE_SUMMARY_LIMIT:
        detail = detail[:GATE_SUMMARY_LIMIT] + f"… ({len(detail) - GATE_SUMMARY_LIMIT} more characters in the task log)"
    detail = escape(detail).replace("```", "'''")  # keep the code block closed
    body = (f"reconcile_daily stopped at `{escape(gate_name)}`: no summary or breaks alert for this date until it "
            f"is fixed and re-run.\n```{detail}```")
    link = _link(run_url)
    text = "\n".join(x for x in (f":x: *{escape(title)}*", body, link) if x)
    return {"text": text, "blocks": _blocks(title, [body], link)}


# ---------------------------------------------------------------------------------------------------------------
# reading the breaks mart
# ---------------------------------------------------------------------------------------------------------------

def read_breaks(as_of: date) -> tuple[list[Break], dict[str, int], date | None]:
    """(P1 breaks opened by the run for `as_of` and still open, open breaks per priority, the as-of date the mart
    shows) from the breaks mart, which holds every break as of the latest date processed."""
    from recon import db
    from recon.settings import load_settings

    table = f"{load_settings().marts_db}.fct_reconciliation_breaks"
    lifecycles = ", ".join(["%s"] * len(OPEN_LIFECYCLES))  # values are bound, never pasted into the SQL
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(
            "SELECT break_id, leg, reason, processor, reference, amount_minor, currency, age_days "
            f"FROM {table} WHERE priority = 'P1' AND lifecycle IN ({lifecycles}) AND opened_as_of = %s",
            (*OPEN_LIFECYCLES, as_of))
        new_p1 = [Break(str(i), str(leg), str(r), p, ref, int(a or 0), str(c).strip().upper(), int(age or 0))
                  for i, leg, r, p, ref, a, c, age in cur.fetchall()]
        cur.execute(f"SELECT priority, COUNT(*) FROM {table} WHERE lifecycle IN ({lifecycles}) GROUP BY priority",
                    OPEN_LIFECYCLES)
        open_counts = {str(p): int(n) for p, n in cur.fetchall()}
        cur.execute(f"SELECT MAX(as_of_date) FROM {table}")
        mart_as_of = cur.fetchone()[0]
    return new_p1, open_counts, mart_as_of


def breaks_alert(as_of: date, run_url: str | None) -> dict[str, Any] | None:
    """The payload when the run for `as_of` opened P1 breaks; None when there is nothing to report."""
    new_p1, open_counts, mart_as_of = read_breaks(as_of)
    if not new_p1:
        return None
    return format_breaks_alert(as_of, new_p1, open_counts, run_url, mart_as_of)


# ---------------------------------------------------------------------------------------------------------------
# Airflow entry points (reconcile_daily)
# ---------------------------------------------------------------------------------------------------------------

def run_url(context: Mapping[str, Any]) -> str | None:
    """The Airflow 3 UI page of the task's DAG run: <base_url>/dags/<dag_id>/runs/<run_id> (run ids hold ':'
    and '+', hence the quoting)."""
    dag_run = context.get("dag_run")
    dag_id = getattr(dag_run, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    run_id = context.get("run_id") or getattr(dag_run, "run_id", None)
    if not dag_id or not run_id:
        return None
    return f"{airflow_base_url()}/dags/{quote(str(dag_id), safe='')}/runs/{quote(str(run_id), safe='')}"


def post_breaks_alert(as_of: date, url: str | None) -> str:
    """Task alert_breaks: 'off', 'nothing', 'sent' or 'failed'. Never raises: the run it follows succeeded, and a
    chat outage (or a breaks mart that cannot be read) is logged as a warning instead of failing it."""
    try:
        hook = resolve_webhook()  # first, so that with alerts off the mart is not even read
        if hook is None:
            return "off"
        payload = breaks_alert(as_of, url)
        if payload is None:
            log.info("no new P1 break as of %s: no alert", as_of)
            return "nothing"
        send(payload, hook)
        return "sent"
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.warning("breaks alert for %s NOT sent (the reconciliation itself succeeded): %s", as_of,
                    exc if isinstance(exc, AlertError) else f"{type(exc).__name__}: {exc}")
        return "failed"


def on_gate_failure(context: Mapping[str, Any]) -> None:
    """on_failure_callback of gate_marts and the dbt tasks: post the failure. The task has failed already, so a
    failure to alert is logged as an error and goes no further."""
    try:
        hook = resolve_webhook()
        if hook is None:
            return
        task = context.get("task") or context.get("ti")
        gate = str(getattr(task, "task_id", None) or "unknown task")
        error = context.get("exception")
        detail = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error or "")
        send(gate_failure_alert(run_business_date(context), gate, detail, run_url(context)), hook)
    except Exception as exc:  # noqa: BLE001 - a callback must not raise
        log.error("gate failure alert NOT sent: %s", exc if isinstance(exc, AlertError) else
                  f"{type(exc).__name__}: {exc}")
