"""The namespace's loader and transformer users (recon.access), made by `recon stack up`: each logs in through the
connection its processes use, can do its job, and is refused outside it; their grants on the server are exactly
the ones the code declares, and the setup is idempotent (it keeps the passwords and revokes what was granted by
hand). The analyst user has its own tests (test_analyst_access.py)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pymysql
import pytest

from recon import access, connections, db, dbt
from recon.settings import Settings, load_settings
from recon.sources import all_sources, get_source
from recon.stack import manager, mariadb
from recon.stack.config import admin_login, load_stack_config, local_secret, stack_environment

pytestmark = pytest.mark.integration

PROBE = "zz_privilege_probe"  # made in <ns> and <ns>_marts by the admin login, dropped afterwards
# 1142 table command denied, 1044 database access denied, 1143 column denied, 1227 needs a global privilege
DENIED = {1142, 1044, 1143, 1227}


def _admin(*statements: str) -> list[tuple]:
    conn = db.connect(autocommit=True, database="", login=admin_login())
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


@pytest.fixture()
def ns(stack: None) -> Iterator[Settings]:
    settings = load_settings()
    for database in (settings.dbt_db, settings.marts_db):
        _admin(f"DROP TABLE IF EXISTS {database}.{PROBE}",
               f"CREATE TABLE {database}.{PROBE} (id INT PRIMARY KEY) ENGINE=InnoDB",
               f"INSERT INTO {database}.{PROBE} VALUES (1)")
    yield settings
    # what a test made (a refused CREATE makes nothing; one that was wrongly allowed is removed too)
    leftovers = [f"DROP {kind} IF EXISTS {database}.{name}"
                 for database in (settings.raw_db, settings.dbt_db, settings.marts_db, settings.product_db)
                 for name in (PROBE, "zz_loader_new", "zz_transformer_new", "zz_transformer_view")
                 for kind in ("TABLE", "VIEW")]
    _admin(*leftovers)


def _as(conn_id: str) -> pymysql.Connection:
    """The runtime connection of a process (autocommit off: allowed writes are rolled back by the caller)."""
    return db.connect(conn_id, database="")


def _allowed(conn_id: str, *statements: str, params: tuple = ()) -> None:
    """Each statement runs (privileges granted); nothing is kept: rolled back, or a WHERE that matches nothing."""
    conn = _as(conn_id)
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql, params or None)
                cur.fetchall()
        conn.rollback()
    finally:
        conn.close()


def _refused(conn_id: str, sql: str) -> None:
    conn = _as(conn_id)
    try:
        with conn.cursor() as cur:
            with pytest.raises((pymysql.err.OperationalError, pymysql.err.ProgrammingError)) as denied:
                cur.execute(sql)
            assert denied.value.args[0] in DENIED, f"{sql}: expected an access-denied error, got {denied.value}"
        conn.rollback()
    finally:
        conn.close()


def _tables(s: Settings) -> dict[str, str]:
    stripe, ledger = get_source("stripe"), get_source("ledger")
    return {"landing": f"{s.raw_db}.landing_{stripe.table}", "src": f"{s.raw_db}.src_{stripe.table}",
            "src_ledger": f"{s.raw_db}.src_{ledger.table}", "manifest": f"{s.raw_db}.file_manifest",
            "runs": f"{s.raw_db}.ingest_runs", "watermarks": f"{s.raw_db}.extract_watermarks",
            "settings": f"{s.raw_db}.source_settings", "arrivals": f"{s.raw_db}.source_arrivals",
            "lock": f"{s.raw_db}.reconcile_lock", "resolutions": f"{s.raw_db}.break_resolutions",
            "product": f"{s.product_db}.ledger_entries", "stg": f"{s.dbt_db}.{PROBE}", "mart": f"{s.marts_db}.{PROBE}"}


# --- who is who ---------------------------------------------------------------------------------------------------

def test_every_runtime_connection_logs_in_as_its_own_user(ns: Settings) -> None:
    expected = {connections.WAREHOUSE: ns.loader_user, connections.PRODUCT_DB: ns.loader_user,
                connections.TRANSFORMER: ns.transformer_user}
    for conn_id, user in expected.items():
        conn = _as(conn_id)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT CURRENT_USER()")
                assert cur.fetchone()[0].split("@")[0] == user, conn_id
        finally:
            conn.close()
    env = stack_environment()
    cfg = load_stack_config()
    assert env["RECON_TRANSFORMER_USER"] == ns.transformer_user  # dbt's profile
    # the administrative login is for the setup only: not exported to DAG tasks, dbt or shells
    assert cfg.db_password and not any(cfg.db_password in value for value in env.values())
    assert "RECON_DB_PASSWORD" not in env and "RECON_DB_USER" not in env


def test_dbt_logs_in_as_the_transformer(ns: Settings, tmp_path: Path) -> None:
    result = dbt.run_dbt(["debug", "--log-path", str(tmp_path / "logs")], capture=True, check=False)
    out = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # dbt colours its output
    assert result.returncode == 0, out[-3000:]
    assert f"user: {ns.transformer_user}" in out
    assert "Connection test: [OK connection ok]" in out


# --- the loader ---------------------------------------------------------------------------------------------------

def test_the_loader_lands_publishes_and_reads_the_product_database(ns: Settings, tmp_path: Path) -> None:
    t = _tables(ns)
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    _allowed(connections.WAREHOUSE,
             f"INSERT INTO {t['manifest']} (source, business_date, object_key, file_name, status, load_id) "
             "VALUES ('probe', '2026-01-05', 'k', 'f', 'received', 'probe')",
             f"UPDATE {t['manifest']} SET status = 'landed' WHERE load_id = 'probe'",
             f"SELECT COUNT(*) FROM {t['landing']}",
             f"DELETE FROM {t['landing']} WHERE _file_id = -1",
             f"INSERT INTO {t['src']} SELECT * FROM {t['src']} WHERE 1 = 0",
             f"DELETE FROM {t['src']} WHERE business_date = '1900-01-01'",
             f"INSERT INTO {t['runs']} (source, business_date, load_id, step, status) "
             "VALUES ('probe', '2026-01-05', 'probe', 'land', 'ok')",
             f"INSERT INTO {t['watermarks']} (source, watermark) VALUES ('probe', '2026-01-05') "
             "ON DUPLICATE KEY UPDATE watermark = VALUES(watermark)",
             f"INSERT INTO {ns.raw_db}.pipeline_runs (dag_id, run_id, stage, status) VALUES ('p', 'p', 'p', 'x')",
             f"SELECT COUNT(*) FROM {t['product']}")
    # LOAD DATA LOCAL INFILE is how files land
    _allowed(connections.WAREHOUSE, f"LOAD DATA LOCAL INFILE %s INTO TABLE {t['landing']}", params=(str(empty),))


@pytest.mark.parametrize("statement", [
    "CREATE TABLE {marts}.zz_loader_new (id INT)",
    "CREATE TABLE {dbt}.zz_loader_new (id INT)",
    "CREATE TABLE {raw}.zz_loader_new (id INT)",
    "CREATE TABLE {product}.zz_loader_new (id INT)",
    "DROP TABLE {t[mart]}",
    "DROP TABLE {t[stg]}",
    "DROP TABLE {t[landing]}",
    "ALTER TABLE {t[src]} ADD COLUMN extra INT",
    "TRUNCATE TABLE {t[landing]}",
    "INSERT INTO {t[mart]} VALUES (2)",
    "DELETE FROM {t[mart]}",
    "SELECT * FROM {t[mart]}",
    "SELECT * FROM {t[stg]}",
    "CREATE VIEW {marts}.zz_loader_new AS SELECT 1 AS x",
    "DELETE FROM {t[settings]}",
    "INSERT INTO {t[arrivals]} SELECT * FROM {t[arrivals]} WHERE 1 = 0",
    "UPDATE {t[lock]} SET holder = 'loader'",
    "INSERT INTO {t[resolutions]} SELECT * FROM {t[resolutions]} WHERE 1 = 0",
    "UPDATE {t[product]} SET status = 'voided'",
    "INSERT INTO {t[product]} SELECT * FROM {t[product]} WHERE 1 = 0",
    "DROP DATABASE {marts}",
    "CREATE DATABASE {raw}_scratch",
    "CREATE USER zz_loader_made IDENTIFIED BY 'x'",
])
def test_the_loader_is_refused_outside_its_job(ns: Settings, statement: str) -> None:
    _refused(connections.WAREHOUSE, statement.format(t=_tables(ns), raw=ns.raw_db, dbt=ns.dbt_db,
                                                     marts=ns.marts_db, product=ns.product_db))


# --- the transformer ----------------------------------------------------------------------------------------------

def test_the_transformer_builds_models_and_writes_what_reconcile_daily_owns(ns: Settings) -> None:
    t = _tables(ns)
    for database in (ns.dbt_db, ns.marts_db):  # what dbt does: tables, views, temporary tables, indexes, swaps
        _allowed(connections.TRANSFORMER,
                 f"CREATE TABLE {database}.zz_transformer_new AS SELECT * FROM {t['src_ledger']} WHERE 1 = 0",
                 f"CREATE INDEX ix_probe ON {database}.zz_transformer_new (entry_id)",
                 f"CREATE OR REPLACE VIEW {database}.zz_transformer_view AS SELECT id FROM {database}.{PROBE}",
                 f"CREATE TEMPORARY TABLE {database}.zz_tmp AS SELECT 1 AS x",
                 f"RENAME TABLE {database}.zz_transformer_new TO {database}.zz_transformer_old, "
                 f"{database}.zz_transformer_old TO {database}.zz_transformer_new",
                 f"INSERT INTO {database}.{PROBE} VALUES (7)",
                 f"DELETE FROM {database}.{PROBE} WHERE id = 7",
                 f"DROP VIEW {database}.zz_transformer_view",
                 f"DROP TABLE {database}.zz_transformer_new")
    _allowed(connections.TRANSFORMER,
             f"SELECT COUNT(*) FROM {t['src']}", f"SELECT COUNT(*) FROM {t['manifest']}",
             f"SELECT COUNT(*) FROM {t['runs']}",
             f"DELETE FROM {t['settings']} WHERE source = 'zz_none'",
             f"INSERT INTO {t['settings']} SELECT * FROM {t['settings']} WHERE 1 = 0",
             f"DELETE FROM {t['arrivals']} WHERE as_of_date = '1900-01-01'",
             f"SELECT holder FROM {t['lock']} WHERE lock_name = 'reconcile' FOR UPDATE",
             f"UPDATE {t['lock']} SET holder = holder WHERE lock_name = 'reconcile'",
             f"SELECT resolution_id FROM {t['resolutions']} WHERE break_id = 'x' FOR UPDATE",
             f"INSERT INTO {ns.raw_db}.pipeline_runs (dag_id, run_id, stage, status) VALUES ('p', 'p', 'p', 'x')")


@pytest.mark.parametrize("statement", [
    "INSERT INTO {t[landing]} SELECT * FROM {t[landing]} WHERE 1 = 0",
    "DELETE FROM {t[landing]} WHERE 1 = 0",
    "INSERT INTO {t[src]} SELECT * FROM {t[src]} WHERE 1 = 0",
    "DELETE FROM {t[src]} WHERE 1 = 0",
    "UPDATE {t[src]} SET currency = currency WHERE 1 = 0",
    "INSERT INTO {t[manifest]} (source, business_date, object_key, file_name, status, load_id) "
    "VALUES ('x', '2026-01-05', 'k', 'f', 'received', 'x')",
    "UPDATE {t[manifest]} SET status = 'loaded' WHERE 1 = 0",
    "DELETE FROM {t[manifest]} WHERE 1 = 0",
    "INSERT INTO {t[runs]} SELECT * FROM {t[runs]} WHERE 1 = 0",
    "UPDATE {t[watermarks]} SET watermark = watermark WHERE 1 = 0",
    "SELECT * FROM {t[landing]}",
    "CREATE TABLE {raw}.zz_transformer_new (id INT)",
    "DROP TABLE {t[src]}",
    "ALTER TABLE {t[manifest]} ADD COLUMN extra INT",
    "TRUNCATE TABLE {t[src]}",
    "DELETE FROM {t[resolutions]} WHERE 1 = 0",
    "SELECT * FROM {t[product]}",
    "CREATE TABLE {product}.zz_transformer_new (id INT)",
    "CREATE DATABASE {raw}_scratch",
    "CREATE USER zz_transformer_made IDENTIFIED BY 'x'",
])
def test_the_transformer_is_refused_outside_its_job(ns: Settings, statement: str) -> None:
    _refused(connections.TRANSFORMER, statement.format(t=_tables(ns), raw=ns.raw_db, product=ns.product_db))


def test_the_transformer_cannot_load_files_into_landing(ns: Settings, tmp_path: Path) -> None:
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    conn = _as(connections.TRANSFORMER)
    try:
        with conn.cursor() as cur, pytest.raises(pymysql.MySQLError) as denied:
            cur.execute(f"LOAD DATA LOCAL INFILE %s INTO TABLE {_tables(ns)['landing']}", (str(empty),))
        assert denied.value.args[0] in DENIED
    finally:
        conn.close()


# --- exactly the declared grants, idempotent setup ----------------------------------------------------------------

def _differences(settings: Settings) -> dict[tuple[str, str], list[str]]:
    conn = db.connect(autocommit=True, database="", login=admin_login())
    try:
        return {(name, host): diff for name, role in access.roles(settings, all_sources()).items()
                for host in access.USER_HOSTS if (diff := access.grant_differences(conn, role, host))}
    finally:
        conn.close()


def test_grants_are_exactly_what_the_code_declares(ns: Settings) -> None:
    assert _differences(ns) == {}
    declared = access.roles(ns, all_sources())
    loader_targets = {g.target_sql() for g in declared[access.LOADER].grants}
    # nothing of <ns> or <ns>_marts for the loader; nothing to write in the loader's tables for the transformer
    assert not any(ns.dbt_db + "`" in t or "marts" in t for t in loader_targets)
    writes = {"INSERT", "UPDATE", "DELETE"}
    for grant in declared[access.TRANSFORMER].grants:
        if grant.table and grant.table.startswith(("landing_", "src_", "file_manifest", "ingest_runs",
                                                   "extract_watermarks")):
            assert not writes & set(grant.privileges), grant


def test_setup_is_idempotent_keeps_passwords_and_revokes_grants_made_by_hand(ns: Settings) -> None:
    if manager.external_db():
        pytest.skip("needs the private MariaDB's root to grant by hand")
    cfg = load_stack_config()
    stored = {key: local_secret(cfg.stack_dir, key) for key in access.PASSWORD_KEYS.values()}
    assert all(stored.values()), "recon stack up stores every user's password in .stack/credentials.env"
    root = mariadb.root_connection(cfg)
    try:
        with root.cursor() as cur:
            cur.execute(f"GRANT INSERT, DROP ON `{access.grant_database_pattern(ns.marts_db)}`.* TO %s@'%%'",
                        (ns.loader_user,))
            cur.execute(f"GRANT INSERT ON `{ns.raw_db}`.`file_manifest` TO %s@'%%'", (ns.transformer_user,))
    finally:
        root.close()
    assert set(_differences(ns)) == {(access.LOADER, "%"), (access.TRANSFORMER, "%")}  # the check can fail

    manager.init()
    manager.init()

    assert _differences(ns) == {}
    assert {key: local_secret(cfg.stack_dir, key) for key in access.PASSWORD_KEYS.values()} == stored
    _refused(connections.WAREHOUSE, f"DROP TABLE {ns.marts_db}.{PROBE}")
    _allowed(connections.WAREHOUSE, f"SELECT COUNT(*) FROM {ns.raw_db}.file_manifest")  # same password still works


def test_the_setup_never_prints_a_password(ns: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = load_stack_config()
    manager.init()
    out = capsys.readouterr()
    printed = out.out + out.err
    assert f"loader user {ns.loader_user}" in printed and f"transformer user {ns.transformer_user}" in printed
    for secret in (cfg.db_password, cfg.loader_password, cfg.transformer_password, cfg.analyst_password):
        assert secret and secret not in printed
    assert manager.env_exports().count(cfg.transformer_password) == 2  # dbt's variable and its connection URI
    assert cfg.db_password not in manager.env_exports()
