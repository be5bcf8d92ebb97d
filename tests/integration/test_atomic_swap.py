"""Rebuilding a `table` mart never makes it disappear for a reader (macros/materializations/table_atomic.sql).

A poller thread runs `SELECT COUNT(*)` on the mart in a tight loop from its own connection while dbt rebuilds it;
any error it gets fails the test. Before each rebuild one row is deleted from the live table, so the poller's counts
go N-1 -> N exactly when the new table is swapped in: seeing both values during a run proves it polled across the
swap. The same poller, against the stock two-statement swap done by hand, does see "doesn't exist" errors.
"""
from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime
from pathlib import Path

import pymysql
import pytest

from recon import db, dbt
from recon.settings import load_settings
from recon.stack.config import admin_login

pytestmark = pytest.mark.integration

AS_OF = "2026-01-06"
MODEL = "fct_transaction_reconciliation"
ENTRIES = 300  # ledger entries, each matched by a Stripe line: the mart has one row per entry
REBUILDS = 4
INDEXES = {"ix_recon_key", "ix_status", "ix_business_date"}  # the model's post_hooks (macro recon_index)


class Poller(threading.Thread):
    """SELECT COUNT(*) in a loop; records (time, count or None) per poll and every error."""

    def __init__(self, table: str) -> None:
        super().__init__(daemon=True)
        self.table = table
        self.polls: list[tuple[float, int | None]] = []
        self.errors: list[tuple[float, int, str]] = []
        self._done = threading.Event()

    def run(self) -> None:
        conn = db.connect(autocommit=True, login=admin_login())
        try:
            with conn.cursor() as cur:
                while not self._done.is_set():
                    try:
                        cur.execute(f"SELECT COUNT(*) FROM {self.table}")
                        count = cur.fetchone()[0]
                    except pymysql.MySQLError as exc:
                        self.errors.append((time.time(), exc.args[0], str(exc.args[-1])))
                        count = None
                    self.polls.append((time.time(), count))
        finally:
            conn.close()

    def __enter__(self) -> Poller:
        self.start()
        while not self.polls:  # polling for sure before the caller starts swapping
            time.sleep(0.001)
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self.join(10)

    def between(self, start: float, end: float) -> list[int | None]:
        return [count for t, count in list(self.polls) if start <= t <= end]


def _exec(*statements: str) -> list[tuple]:
    conn = db.connect(autocommit=True, login=admin_login())
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def _dbt(tmp: Path, *args: str) -> str:
    return dbt.run_dbt(["run", "--vars", f"{{as_of_date: '{AS_OF}'}}", *args, "--target-path", str(tmp / "target")],
                       capture=True).stdout


def _execute_window(tmp: Path) -> tuple[float, float]:
    """When dbt materialized the model (create __dbt_tmp, swap, hooks, drop backup), from run_results.json."""
    timing = json.loads((tmp / "target" / "run_results.json").read_text())["results"][0]["timing"]
    execute = next(t for t in timing if t["name"] == "execute")
    return tuple(datetime.fromisoformat(execute[k].replace("Z", "+00:00")).timestamp()
                 for k in ("started_at", "completed_at"))


def _relations(marts: str) -> dict[str, str]:
    return dict(_exec(f"SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = '{marts}' "
                      f"AND table_name LIKE '{MODEL}%' AND table_name NOT LIKE '%history%'"))


def _indexes(marts: str) -> set[str]:
    return {name for (name,) in _exec(f"SELECT DISTINCT index_name FROM information_schema.statistics "
                                      f"WHERE table_schema = '{marts}' AND table_name = '{MODEL}'")}


@pytest.fixture(scope="module")
def warehouse(stack, tmp_path_factory) -> Path:
    """An empty namespace with ENTRIES matched transactions and the mart and its parents built once for AS_OF."""
    from recon.stack import manager

    manager.reset()
    raw = load_settings().raw_db
    with db.transaction() as cur:
        cur.executemany(
            f"INSERT INTO {raw}.src_ledger_entries (entry_id, entry_type, processor, processor_reference, account_id, "
            "merchant_id, amount_minor, currency, status, occurred_at, updated_at, business_date, _file_id, "
            "_row_number, _load_id, _published_at) VALUES (%s, 'capture', 'stripe', %s, 'acc', 'mer', %s, 'USD', "
            "'posted', '2026-01-05 10:00', '2026-01-05 10:00', '2026-01-05', 1, %s, 'test', UTC_TIMESTAMP())",
            [(f"le_{i}", f"ch_{i}", 1000 + i, i + 2) for i in range(ENTRIES)])
        cur.executemany(
            f"INSERT INTO {raw}.src_stripe_payout_lines (business_date, balance_transaction_id, automatic_payout_id, "
            "created_utc, currency, gross_minor, fee_minor, net_minor, reporting_category, source_id, description, "
            "_file_id, _row_number, _load_id, _published_at) VALUES ('2026-01-05', %s, 'po_1', '2026-01-05 10:00', "
            "'USD', %s, 30, %s, 'charge', %s, 'x', 2, %s, 'test', UTC_TIMESTAMP())",
            [(f"txn_{i}", 1000 + i, 970 + i, f"ch_{i}", i + 2) for i in range(ENTRIES)])
    tmp = tmp_path_factory.mktemp("atomic_swap")
    _dbt(tmp, "--select", f"+{MODEL}")
    return tmp


def test_materialization_is_overridden_for_both_adapters(warehouse: Path) -> None:
    macros = json.loads((warehouse / "target" / "manifest.json").read_text())["macros"]
    for adapter in ("mariadb", "mysql"):
        assert macros[f"macro.recon.materialization_table_{adapter}"]["package_name"] == "recon"


def test_dbt_rebuilds_never_hide_the_table(warehouse: Path) -> None:
    marts = load_settings().marts_db
    table = f"{marts}.{MODEL}"
    assert _exec(f"SELECT COUNT(*) FROM {table}") == [(ENTRIES,)]
    swap = rf"rename table `{marts}`.`{MODEL}` to `{marts}`.`{MODEL}__dbt_backup`, `{marts}`.`{MODEL}__dbt_tmp` to"
    polls_in_execute, polls_in_runs, outputs = [], [], []
    with Poller(table) as poller:
        for _ in range(REBUILDS):
            _exec(f"DELETE FROM {table} LIMIT 1")  # the old table has one row less than the rebuilt one
            start = time.time()
            outputs.append(_dbt(warehouse, "--select", MODEL, "--debug"))  # --debug: its SQL on stdout
            end = time.time()
            seen = poller.between(start, end)
            assert ENTRIES - 1 in seen and ENTRIES in seen, "the poller did not straddle the swap"
            polls_in_runs.append(len(seen))
            polls_in_execute.append(len(poller.between(*_execute_window(warehouse))))
    print(f"\npolls during each dbt run {polls_in_runs}, during its materialization {polls_in_execute}, "
          f"errors {len(poller.errors)}")
    assert poller.errors == []
    assert min(polls_in_execute) >= 20, polls_in_execute  # polled while the model itself was being swapped
    assert all(re.search(swap, out) for out in outputs)  # the one-statement swap, not dbt-mysql's drop + rename
    assert _exec(f"SELECT COUNT(*) FROM {table}") == [(ENTRIES,)]
    assert _relations(marts) == {MODEL: "BASE TABLE"}  # no __dbt_tmp / __dbt_backup left
    assert _indexes(marts) >= INDEXES  # post_hooks ran against the final table


@pytest.mark.parametrize("atomic", [False, True], ids=["stock_two_renames", "one_rename"])
def test_the_poller_sees_a_non_atomic_swap(warehouse: Path, atomic: bool) -> None:
    """The stock sequence by hand (old -> __dbt_backup, then __dbt_tmp -> old; a pause stands for the time between
    dbt's two statements) makes the poller fail; the single RENAME of the materialization does not."""
    marts = load_settings().marts_db
    table, tmp, backup = (f"{marts}.{MODEL}{suffix}" for suffix in ("", "__dbt_tmp", "__dbt_backup"))
    with Poller(table) as poller:
        for _ in range(REBUILDS):
            _exec(f"CREATE TABLE {tmp} AS SELECT * FROM {table}")
            if atomic:
                _exec(f"RENAME TABLE {table} TO {backup}, {tmp} TO {table}")
            else:
                _exec(f"RENAME TABLE {table} TO {backup}")
                time.sleep(0.05)
                _exec(f"RENAME TABLE {tmp} TO {table}")
            _exec(f"DROP TABLE {backup}")
            time.sleep(0.05)
    codes = {code for _, code, _ in poller.errors}
    print(f"\n{'atomic' if atomic else 'two statements'}: {len(poller.polls)} polls, {len(poller.errors)} errors "
          f"{codes}")
    if atomic:
        assert poller.errors == []
    else:
        assert len(poller.errors) >= REBUILDS and codes == {1146}  # ER_NO_SUCH_TABLE: "... doesn't exist"


def test_leftovers_a_view_and_a_missing_table(warehouse: Path) -> None:
    """A crashed run's __dbt_tmp (table) and __dbt_backup (a view, as the stock path leaves a renamed view), a
    target that is a view, a target that does not exist: each run ends with just the indexed table."""
    marts = load_settings().marts_db
    table = f"{marts}.{MODEL}"
    _exec(f"CREATE TABLE {table}__dbt_tmp (x int)", f"CREATE VIEW {table}__dbt_backup AS SELECT 1 AS x")
    _dbt(warehouse, "--select", MODEL)
    assert _relations(marts) == {MODEL: "BASE TABLE"} and _indexes(marts) >= INDEXES

    _exec(f"DROP TABLE {table}", f"CREATE VIEW {table} AS SELECT 1 AS x")
    _dbt(warehouse, "--select", MODEL)
    assert _relations(marts) == {MODEL: "BASE TABLE"} and _indexes(marts) >= INDEXES

    _exec(f"DROP TABLE {table}")
    _dbt(warehouse, "--select", MODEL)
    assert _relations(marts) == {MODEL: "BASE TABLE"} and _indexes(marts) >= INDEXES
    assert _exec(f"SELECT COUNT(*) FROM {table}") == [(ENTRIES,)]
