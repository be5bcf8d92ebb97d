"""The namespace's read-only analyst user (recon.access), made by `recon stack up`: it reads every table of
`<ns>_marts`, also after dbt drops and recreates one, and nothing else: no write, create or drop in the marts, no
read of `<ns>`, `<ns>_raw` or `<ns>_product`. The setup is idempotent and keeps the password."""
from __future__ import annotations

from typing import Iterator

import pymysql
import pytest

from recon import access, db
from recon.settings import Settings, load_settings
from recon.stack import manager, mariadb
from recon.stack.config import admin_login, load_stack_config, local_analyst_password

pytestmark = pytest.mark.integration

PROBE = "zz_analyst_probe"  # a small table per database, made by the admin login, dropped afterwards
# 1142 table command denied, 1044 database access denied, 1143 column denied, 1227 needs a global privilege
DENIED = {1142, 1044, 1143, 1227}


def _analyst(database: str | None = None) -> pymysql.Connection:
    cfg, settings = load_stack_config(), load_settings()
    return pymysql.connect(host=cfg.db_host, port=cfg.db_port, user=settings.analyst_user,
                           password=cfg.analyst_password, database=database, autocommit=True, connect_timeout=10)


def _main_user(sql: str) -> list[tuple]:
    conn = db.connect(autocommit=True, database="", login=admin_login())
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def _create_probe(database: str) -> None:
    _main_user(f"DROP TABLE IF EXISTS {database}.{PROBE}")
    _main_user(f"CREATE TABLE {database}.{PROBE} (id INT PRIMARY KEY, note VARCHAR(16)) ENGINE=InnoDB")
    _main_user(f"INSERT INTO {database}.{PROBE} VALUES (1, 'one'), (2, 'two')")


def _assert_denied(cur: pymysql.cursors.Cursor, sql: str) -> None:
    with pytest.raises((pymysql.err.OperationalError, pymysql.err.ProgrammingError)) as denied:
        cur.execute(sql)
    assert denied.value.args[0] in DENIED, f"{sql}: expected an access-denied error, got {denied.value}"


@pytest.fixture()
def probes(stack: None) -> Iterator[Settings]:
    settings = load_settings()
    databases = (settings.marts_db, settings.dbt_db, settings.raw_db, settings.product_db)
    for database in databases:
        _create_probe(database)
    try:
        conn = _analyst()
    except pymysql.err.OperationalError as exc:
        if manager.external_db():
            pytest.skip(f"no analyst user on the external server ({exc}): see `recon stack up`'s message")
        raise
    conn.close()
    yield settings
    for database in databases:
        _main_user(f"DROP TABLE IF EXISTS {database}.{PROBE}")


def test_analyst_reads_every_mart_table(probes: Settings) -> None:
    conn = _analyst(probes.marts_db)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id, note FROM {PROBE} ORDER BY id")
            assert cur.fetchall() == ((1, "one"), (2, "two"))
            cur.execute("SHOW TABLES")
            tables = [row[0] for row in cur.fetchall()]
            assert PROBE in tables
            for table in tables:  # whatever dbt has built in this namespace's marts too
                cur.execute(f"SELECT COUNT(*) FROM `{table}`")
    finally:
        conn.close()


def test_analyst_keeps_access_when_a_mart_is_rebuilt(probes: Settings) -> None:
    """dbt drops and recreates (or renames into place) mart tables: the grant is on the database, not per table."""
    _main_user(f"DROP TABLE {probes.marts_db}.{PROBE}")
    _main_user(f"CREATE TABLE {probes.marts_db}.{PROBE}__tmp (id INT PRIMARY KEY, note VARCHAR(16))")
    _main_user(f"INSERT INTO {probes.marts_db}.{PROBE}__tmp VALUES (3, 'three')")
    _main_user(f"RENAME TABLE {probes.marts_db}.{PROBE}__tmp TO {probes.marts_db}.{PROBE}")
    conn = _analyst()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id, note FROM {probes.marts_db}.{PROBE}")
            assert cur.fetchall() == ((3, "three"),)
    finally:
        conn.close()


@pytest.mark.parametrize("statement", [
    "INSERT INTO {marts}.{probe} VALUES (9, 'nine')",
    "UPDATE {marts}.{probe} SET note = 'changed'",
    "DELETE FROM {marts}.{probe}",
    "TRUNCATE TABLE {marts}.{probe}",
    "DROP TABLE {marts}.{probe}",
    "ALTER TABLE {marts}.{probe} ADD COLUMN extra INT",
    "CREATE TABLE {marts}.zz_analyst_new (id INT)",
    "CREATE TABLE {marts}.zz_analyst_copy AS SELECT * FROM {marts}.{probe}",
    "CREATE VIEW {marts}.zz_analyst_view AS SELECT * FROM {marts}.{probe}",
    "CREATE DATABASE {marts}_analyst_scratch",
    "DROP DATABASE {marts}",
])
def test_analyst_cannot_change_the_marts(probes: Settings, statement: str) -> None:
    conn = _analyst(probes.marts_db)
    try:
        with conn.cursor() as cur:
            _assert_denied(cur, statement.format(marts=probes.marts_db, probe=PROBE))
    finally:
        conn.close()
    assert _main_user(f"SELECT id, note FROM {probes.marts_db}.{PROBE} ORDER BY id") == [(1, "one"), (2, "two")]


@pytest.mark.parametrize("which", ["dbt_db", "raw_db", "product_db"])
def test_analyst_cannot_read_other_databases(probes: Settings, which: str) -> None:
    database = getattr(probes, which)
    conn = _analyst()
    try:
        with conn.cursor() as cur:
            _assert_denied(cur, f"SELECT * FROM {database}.{PROBE}")
            _assert_denied(cur, f"USE {database}")
            cur.execute("SHOW DATABASES")
            visible = {row[0] for row in cur.fetchall()}
            assert database not in visible and probes.marts_db in visible
    finally:
        conn.close()
    with pytest.raises(pymysql.err.OperationalError) as denied:
        _analyst(database).close()
    assert denied.value.args[0] == 1044


def test_grants_are_exactly_select_and_show_view_on_the_marts(probes: Settings) -> None:
    conn = _analyst()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GRANTS")
            grants = {row[0].split(" IDENTIFIED BY")[0] for row in cur.fetchall()}
    finally:
        conn.close()
    pattern = probes.marts_db.replace("_", "\\_")
    user = f"`{probes.analyst_user}`@`%`"
    assert grants == {f"GRANT USAGE ON *.* TO {user}", f"GRANT SELECT, SHOW VIEW ON `{pattern}`.* TO {user}"}


def test_setup_is_idempotent_and_keeps_the_password(probes: Settings) -> None:
    cfg = load_stack_config()
    stored = local_analyst_password(cfg.stack_dir)
    assert stored, "recon stack up stores the analyst password in .stack/credentials.env"
    manager.up(with_airflow=False)
    manager.up(with_airflow=False)
    assert local_analyst_password(cfg.stack_dir) == stored
    assert load_stack_config().analyst_password == cfg.analyst_password
    conn = _analyst(probes.marts_db)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {PROBE}")
            assert cur.fetchone() == (2,)
    finally:
        conn.close()


def test_setup_revokes_privileges_granted_by_hand(probes: Settings) -> None:
    if manager.external_db():
        pytest.skip("needs the private MariaDB's root")
    cfg = load_stack_config()
    root = mariadb.root_connection(cfg)
    try:
        with root.cursor() as cur:
            cur.execute(f"GRANT INSERT ON `{access.grant_database_pattern(probes.marts_db)}`.* TO %s@'%%'",
                        (probes.analyst_user,))
            cur.execute(f"GRANT SELECT ON `{access.grant_database_pattern(probes.raw_db)}`.* TO %s@'%%'",
                        (probes.analyst_user,))
        assert manager.ensure_analyst(cfg, probes)
        assert set(access.analyst_grants(root, probes)) == {
            f"GRANT USAGE ON *.* TO `{probes.analyst_user}`@`%`",
            f"GRANT SELECT, SHOW VIEW ON `{access.grant_database_pattern(probes.marts_db)}`.* "
            f"TO `{probes.analyst_user}`@`%`"}
    finally:
        root.close()
    conn = _analyst()
    try:
        with conn.cursor() as cur:
            _assert_denied(cur, f"INSERT INTO {probes.marts_db}.{PROBE} VALUES (9, 'nine')")
            _assert_denied(cur, f"SELECT * FROM {probes.raw_db}.{PROBE}")
    finally:
        conn.close()
