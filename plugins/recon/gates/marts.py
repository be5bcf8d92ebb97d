"""The gate on the marts for as-of date D.

Transactions: every posted ledger entry appears exactly once, the status vocabularies hold, per currency the ledger
total equals the sum over statuses (conservation). Payouts: the vocabulary holds, every payout's expected amount is
the sum of its lines' net, every booked bank credit appears at most once. Staging: every row published for a file
source (business date <= D) reaches its staging model, file by file.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from recon import connections, db
from recon.dbt import manifest_path
from recon.gates.gx_runner import GateResult, GxSession
from recon.ops.stages import stage
from recon.settings import Settings, check_identifier, load_settings
from recon.sources import all_sources
from recon.sqltext import date_literal, name_literal

STATUSES = ["matched", "amount_mismatch", "currency_mismatch", "pending_processor", "missing_in_processor",
            "missing_in_ledger", "duplicate_in_ledger", "duplicate_in_processor"]
PAYOUT_STATUSES = ["funded", "pending_bank", "missing_in_bank", "payout_amount_mismatch", "not_applicable"]
PAYOUT_LEG_STATUSES = ["funded", "pending_bank", "missing_in_bank", "amount_mismatch", "unexplained_bank_credit"]


def state_as_of_sql(s: Settings, as_of: date, mart: str = "fct_transaction_reconciliation") -> str:
    """A mart (fct_transaction_reconciliation or fct_payout_reconciliation) as it stood at `as_of`, rebuilt from
    its change log."""
    d = date_literal(as_of)  # GX runs the query text itself: no bind parameters
    hist = f"{s.marts_db}.{mart}_history"
    return (f"SELECT h.* FROM {hist} h JOIN (SELECT recon_key, MAX(as_of_date) AS as_of FROM {hist} "
            f"WHERE as_of_date <= {d} GROUP BY recon_key) last ON last.recon_key = h.recon_key "
            "AND last.as_of = h.as_of_date WHERE h.is_removed = 0")


def posted_ledger_as_of_sql(s: Settings, as_of: date) -> str:
    """Posted ledger entries visible at `as_of`: latest version with updated_at's date <= as_of.

    Written with NOT EXISTS, not a join to a GROUP BY entry_id derived table: MariaDB sometimes joined that derived
    table by scanning it once per mart row (20,000 entries: minutes; 1,000,000: never done); here every step is a
    primary-key lookup (entry_id, updated_at)."""
    d = date_literal(as_of)
    src = f"{s.raw_db}.src_ledger_entries"
    return (f"SELECT v.entry_id, v.currency, v.amount_minor FROM {src} v WHERE v.status = 'posted' "
            f"AND DATE(v.updated_at) <= {d} AND v.business_date <= {d} AND NOT EXISTS (SELECT 1 FROM {src} w "
            f"WHERE w.entry_id = v.entry_id AND w.updated_at > v.updated_at AND DATE(w.updated_at) <= {d} "
            f"AND w.business_date <= {d})")


def mart_expectations(s: Settings, as_of: date) -> list[dict]:
    ledger = posted_ledger_as_of_sql(s, as_of)
    return [
        {"type": "expect_column_values_to_not_be_null", "column": "recon_key"},
        {"type": "expect_column_values_to_be_unique", "column": "recon_key"},
        {"type": "expect_column_values_to_be_unique", "column": "ledger_entry_id"},
        {"type": "expect_column_values_to_be_in_set", "column": "status", "value_set": STATUSES},
        {"type": "expect_column_values_to_be_in_set", "column": "payout_status", "value_set": PAYOUT_STATUSES},
        {"type": "unexpected_rows", "description": "every posted ledger entry appears in the mart",
         "unexpected_rows_query": f"SELECT e.entry_id FROM ({ledger}) e LEFT JOIN {{batch}} b "
                                  "ON b.ledger_entry_id = e.entry_id WHERE b.recon_key IS NULL"},
        {"type": "unexpected_rows", "description": "no mart row for an entry that is not a visible posted entry",
         "unexpected_rows_query": f"SELECT b.ledger_entry_id FROM {{batch}} b LEFT JOIN ({ledger}) e "
                                  "ON e.entry_id = b.ledger_entry_id WHERE b.ledger_entry_id IS NOT NULL "
                                  "AND e.entry_id IS NULL"},
        {"type": "unexpected_rows", "description": "per currency, the ledger total equals the sum over statuses",
         "unexpected_rows_query": (
             f"SELECT l.currency, l.total AS ledger_total, m.total AS mart_total FROM (SELECT currency, SUM(amount_minor) AS total FROM ({ledger}) x "
             "GROUP BY currency) l LEFT JOIN (SELECT currency, SUM(ledger_amount_minor) AS total FROM {batch} bt "
             "WHERE ledger_entry_id IS NOT NULL GROUP BY currency) m ON m.currency = l.currency "
             "WHERE m.total IS NULL OR m.total <> l.total")},
        {"type": "unexpected_rows", "description": "the daily report's per-currency ledger totals equal the mart's",
         "unexpected_rows_query": (
             "SELECT r.currency, r.total AS report_total, m.total AS mart_total FROM (SELECT currency, SUM(ledger_amount_minor) AS total "
             f"FROM {s.marts_db}.rpt_daily_reconciliation WHERE as_of_date = {date_literal(as_of)} GROUP BY currency) r "
             "LEFT JOIN (SELECT currency, SUM(COALESCE(ledger_amount_minor, 0)) AS total FROM {batch} bt "
             "GROUP BY currency) m ON m.currency = r.currency WHERE m.total IS NULL OR m.total <> r.total")},
    ]


def payout_expectations(s: Settings) -> list[dict]:
    lines = f"{s.dbt_db}.int_processor_lines"  # built for this run's as-of date, like the state checked
    return [
        {"type": "expect_column_values_to_not_be_null", "column": "recon_key"},
        {"type": "expect_column_values_to_be_unique", "column": "recon_key"},
        {"type": "expect_column_values_to_be_in_set", "column": "status", "value_set": PAYOUT_LEG_STATUSES},
        {"type": "unexpected_rows", "description": "per payout, the expected amount equals the sum of its lines' net",
         "unexpected_rows_query": (
             "SELECT b.processor, b.payout_reference, b.currency, b.expected_amount_minor, l.total FROM {batch} b "
             "LEFT JOIN (SELECT processor, payout_reference, net_currency, SUM(net_minor) AS total "
             f"FROM {lines} WHERE line_role <> 'payout' AND payout_reference IS NOT NULL "
             "GROUP BY processor, payout_reference, net_currency) l ON l.processor = b.processor "
             "AND l.payout_reference = b.payout_reference AND l.net_currency = b.currency "
             "WHERE b.payout_reference IS NOT NULL AND (l.total IS NULL OR l.total <> b.expected_amount_minor)")},
        # no alias after {batch} when the query has no JOIN: GX aliases it itself
        {"type": "unexpected_rows", "description": "a bank credit pays at most one payout",
         "unexpected_rows_query": ("SELECT bank_line_id, COUNT(*) AS n FROM {batch} WHERE bank_line_id IS NOT NULL "
                                   "GROUP BY bank_line_id HAVING COUNT(*) > 1")},
    ]


def staging_models() -> dict[str, str]:
    """src_<table> -> the staging model that reads it, from the dbt manifest (a new source needs no entry here)."""
    manifest = json.loads(manifest_path().read_text())
    found: dict[str, str] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") == "model" and node["name"].startswith("stg_"):
            for parent in node.get("depends_on", {}).get("nodes", []):
                if parent.startswith("source."):
                    found[parent.rsplit(".", 1)[-1]] = node["name"]
    return found


def staging_counts_sql(s: Settings, as_of: date) -> tuple[str, str] | None:
    """(rows published per file with business date <= D, rows per file in the staging models), over every file
    source that has a staging model; None when there is none."""
    d = date_literal(as_of)
    models = staging_models()
    published, staged = [], []
    for source in sorted(all_sources().values(), key=lambda x: x.name):
        model = models.get(f"src_{source.table}")
        if source.kind != "file" or model is None:
            continue
        published.append(f"SELECT {name_literal(source.name)} AS source, _file_id AS file_id, COUNT(*) AS n "
                         f"FROM {s.raw_db}.src_{source.table} WHERE business_date <= {d} GROUP BY _file_id")
        model = check_identifier(model, "staging model")  # a name from the dbt manifest, pasted into SQL
        staged.append(f"SELECT file_id, COUNT(*) AS n FROM {s.dbt_db}.{model} GROUP BY file_id")
    if not published:
        return None
    return " UNION ALL ".join(published), " UNION ALL ".join(staged)


# The state rebuilt from a change log, once per gate: GX runs the batch query again for every metric of every
# expectation (about 30 times for the transactions), and a query over the whole history each time made the gate
# grow with the history (6 days of 20,000 entries: 8 s -> 32 s). Indexed for the joins of the expectations.
STATE_TABLES = {
    "fct_transaction_reconciliation": ("gate_state_transactions", ["recon_key", "ledger_entry_id", "currency"]),
    "fct_payout_reconciliation": ("gate_state_payouts", ["recon_key", "processor, payout_reference, currency",
                                                         "bank_line_id"]),
}


@contextmanager
def materialized_state(s: Settings, as_of: date, mart: str) -> Iterator[str]:
    """`state_as_of_sql(s, as_of, mart)` written once into a scratch table of the dbt database (indexed), dropped on
    exit; yields the query the gate validates (`SELECT * FROM` that table): the same rows, read from a table."""
    name, indexes = STATE_TABLES[mart]
    # a name of its own: a gate run by hand while the DAG's runs must not drop the other's table
    table = f"{check_identifier(s.dbt_db, 'database')}.{name}_{uuid.uuid4().hex[:12]}"
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(f"CREATE TABLE {table} AS {state_as_of_sql(s, as_of, mart)}")
        for n, columns in enumerate(indexes):
            cur.execute(f"CREATE INDEX ix_{n} ON {table} ({columns})")
    try:
        yield f"SELECT * FROM {table}"
    finally:
        with db.transaction(connections.TRANSFORMER) as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")


def _run_checks(s: Settings, session: GxSession, as_of: date) -> list[GateResult]:
    with materialized_state(s, as_of, "fct_transaction_reconciliation") as transactions, \
            materialized_state(s, as_of, "fct_payout_reconciliation") as payouts:
        results = [
            session.validate(f"transactions as of {as_of}", transactions, mart_expectations(s, as_of),
                             suite="marts_transactions"),
            session.validate(f"payouts as of {as_of}", payouts, payout_expectations(s), suite="marts_payouts"),
        ]
    counts = staging_counts_sql(s, as_of)
    if counts:  # file ids are unique over all sources
        published, staged = counts
        results.append(session.validate(f"staging as of {as_of}", published, [{
            "type": "unexpected_rows", "description": "every published row reaches its staging model, file by file",
            "unexpected_rows_query": (f"SELECT p.source, p.file_id, p.n AS published, t.n AS staged FROM {{batch}} p "
                                      f"LEFT JOIN ({staged}) t ON t.file_id = p.file_id WHERE t.n IS NULL OR t.n <> p.n"),
        }], suite="marts_staging"))
    return results


def gate_marts(as_of: date) -> GateResult:
    """Run the checks, publish them to the GX Data Docs, record the stage (pipeline_runs) and return the verdict
    (the task fails the run on a failed gate)."""
    s = load_settings()
    with stage("gate_marts", dag_id="reconcile_daily", business_date=as_of) as figures:
        session = GxSession(db.sqlalchemy_url(connections.TRANSFORMER, database=s.dbt_db))  # GX's temporary tables
        results = _run_checks(s, session, as_of)
        session.build_docs()
        gate = GateResult(name=f"marts as of {as_of}", success=all(r.success for r in results),
                          evaluated=sum(r.evaluated for r in results),
                          failures=[f"{r.name}: {f}" for r in results for f in r.failures],
                          docs_url=next((r.docs_url for r in sorted(results, key=lambda r: r.success)), None))
        figures.expectations_evaluated, figures.expectations_failed = gate.evaluated, len(gate.failures)
        figures.data_docs_url, figures.failed, figures.detail = gate.docs_url, not gate.success, gate.summary()
    return gate
