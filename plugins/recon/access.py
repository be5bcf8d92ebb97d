"""Least-privilege database users, one set per namespace, each allowed its job and nothing else.

- `<ns>_loader` (the ingest DAGs: connections recon_warehouse and recon_product_db): reads and writes the loader's
  tables of `<ns>_raw` (file_manifest, ingest_runs, extract_watermarks, landing_<table>, src_<table>,
  ingest_locks) and the run figures (pipeline_runs, pipeline_run_tasks), lands files with LOAD DATA LOCAL INFILE (INSERT; the server allows
  local_infile), and reads `<ns>_product`. No right on `<ns>` or `<ns>_marts`; no DDL anywhere.
- `<ns>_transformer` (dbt, reconcile_daily's tasks and mart gate, `recon breaks`: connection recon_transformer and
  dbt_project/profiles.yml): creates, replaces and drops tables and views in `<ns>` and `<ns>_marts` (granted on
  the databases: dbt drops, recreates and renames its tables every run); reads the raw tables dbt and check_sources
  read (src_<table>, file_manifest, ingest_runs, source_settings, source_arrivals, break_resolutions,
  pipeline_runs); writes only what reconcile_daily and `recon breaks resolve` own in `<ns>_raw`: source_settings,
  source_arrivals, reconcile_lock, break_resolutions (append-only: triggers refuse UPDATE and DELETE) and the run
  figures. It may not write the landing, src_ or manifest tables.
- `<ns>_analyst` (people's SQL clients): SELECT and SHOW VIEW on `<ns>_marts` only.

DDL of `<ns>_raw` and `<ns>_product`, and the users themselves, stay with the administrative login (the private
MariaDB's root / RECON_DB_USER), used by `recon stack up|init|reset` only. ensure_users resets every user to
exactly the grants declared here on each run (whatever was granted by hand is revoked), keeping its password,
which is made once per checkout and kept in `.stack/credentials.env` (recon.stack.config). Table-level grants
need the tables, so the setup creates the tables first. On docker-compose, docker/mysql/init creates the same
users and airflow-init's `recon stack init` applies these grants.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import pymysql

from recon.settings import Settings, check_identifier
from recon.sources import Source

ANALYST_PRIVILEGES = ("SELECT", "SHOW VIEW")
# What dbt does in its own databases: build tables (CREATE TABLE AS, RENAME for the atomic swap), views,
# temporary tables (dbt-mysql's incremental models), indexes (post-hooks), drop what it replaces.
DBT_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX",
                  "CREATE TEMPORARY TABLES", "CREATE VIEW", "SHOW VIEW")
# '%' for TCP clients; 'localhost' too, because an anonymous ''@'localhost' account (as mariadb-install-db makes)
# would otherwise take precedence over '<user>'@'%' for clients on the server's socket.
ANALYST_HOSTS = ("%", "localhost")
USER_HOSTS = ANALYST_HOSTS
# What a login without enough privilege to manage users gets (external servers: ask the DBA).
PRIVILEGE_ERRORS = {1044, 1045, 1142, 1227, 1410}

LOADER, TRANSFORMER, ANALYST = "loader", "transformer", "analyst"
ROLE_NAMES = (LOADER, TRANSFORMER, ANALYST)
# the password of each user in .stack/credentials.env or the environment (recon.stack.config)
PASSWORD_KEYS = {LOADER: "RECON_LOADER_PASSWORD", TRANSFORMER: "RECON_TRANSFORMER_PASSWORD",
                 ANALYST: "RECON_ANALYST_PASSWORD"}


@dataclass(frozen=True)
class Grant:
    """Privileges on a whole database (table None) or on one table."""
    privileges: tuple[str, ...]
    database: str
    table: str | None = None

    def target_sql(self) -> str:
        if self.table is None:
            return f"`{grant_database_pattern(self.database)}`.*"
        return f"`{check_identifier(self.database, 'database')}`.`{check_identifier(self.table, 'table')}`"

    def sql(self) -> str:
        """The GRANT statement; user and host are bound as parameters."""
        return f"GRANT {', '.join(self.privileges)} ON {self.target_sql()} TO %s@%s"

    def key(self) -> tuple[str, frozenset[str]]:
        return self.target_sql(), frozenset(self.privileges)


@dataclass(frozen=True)
class Role:
    name: str
    user: str
    grants: tuple[Grant, ...]

    @property
    def password_key(self) -> str:
        return PASSWORD_KEYS[self.name]


def grant_database_pattern(database: str) -> str:
    """The database name as a GRANT pattern: `_` and `%` are wildcards there, so escape them (`recon\\_marts`
    must not also match `reconXmarts`)."""
    check_identifier(database, "database")
    return database.replace("_", "\\_")


def _tables(raw: str, privileges: tuple[str, ...], tables: Iterable[str]) -> list[Grant]:
    return [Grant(privileges, raw, table) for table in tables]


def loader_grants(settings: Settings, sources: Iterable[Source]) -> tuple[Grant, ...]:
    raw, sources = settings.raw_db, list(sources)
    return (
        Grant(("SELECT", "INSERT", "UPDATE"), raw, "file_manifest"),
        Grant(("SELECT", "INSERT"), raw, "ingest_runs"),
        Grant(("SELECT", "INSERT", "UPDATE"), raw, "extract_watermarks"),  # upsert of the ledger's watermark
        # landing: LOAD DATA (INSERT), a retried load and the audit remove a file's rows (DELETE);
        # src: publish replaces a date's rows (DELETE + INSERT ... SELECT)
        *_tables(raw, ("SELECT", "INSERT", "DELETE"), sorted(f"landing_{s.table}" for s in sources)),
        *_tables(raw, ("SELECT", "INSERT", "DELETE"), sorted(f"src_{s.table}" for s in sources)),
        *_run_figures(raw),
        # who holds which ingest lock (recon.ingest.ingest_lock, written with REPLACE)
        Grant(("SELECT", "INSERT", "DELETE"), raw, "ingest_locks"),
        Grant(("SELECT",), settings.product_db),  # the ledger extraction
        # the audit's GX batches are temporary tables (recon.gates.gx_runner): visible to their own session only
        Grant(("CREATE TEMPORARY TABLES",), raw),
    )


def _run_figures(raw: str) -> list[Grant]:
    """Every stage writes its own row (recon.ops): the ingest steps as the loader, reconcile tasks as the
    transformer. pipeline_run_tasks is written with REPLACE (INSERT + DELETE)."""
    return [Grant(("SELECT", "INSERT", "UPDATE"), raw, "pipeline_runs"),
            Grant(("SELECT", "INSERT", "DELETE"), raw, "pipeline_run_tasks")]


def transformer_grants(settings: Settings, sources: Iterable[Source]) -> tuple[Grant, ...]:
    raw, sources = settings.raw_db, list(sources)
    return (
        Grant(DBT_PRIVILEGES, settings.dbt_db),
        Grant(DBT_PRIVILEGES, settings.marts_db),
        # read: dbt's sources, and what check_sources counts per date
        *_tables(raw, ("SELECT",), sorted(f"src_{s.table}" for s in sources)),
        Grant(("SELECT",), raw, "file_manifest"),
        Grant(("SELECT",), raw, "ingest_runs"),
        # written by reconcile_daily's check_sources (a date's rows replaced) and its lock tasks
        Grant(("SELECT", "INSERT", "DELETE"), raw, "source_settings"),
        Grant(("SELECT", "INSERT", "DELETE"), raw, "source_arrivals"),
        Grant(("SELECT", "UPDATE"), raw, "reconcile_lock"),
        # `recon breaks resolve` appends; UPDATE only because MySQL 8 wants it for SELECT ... FOR UPDATE (the
        # table's triggers refuse every UPDATE and DELETE, whoever sends it)
        Grant(("SELECT", "INSERT", "UPDATE"), raw, "break_resolutions"),
        *_run_figures(raw),
    )


def analyst_grants_declared(settings: Settings) -> tuple[Grant, ...]:
    return (Grant(ANALYST_PRIVILEGES, settings.marts_db),)


def roles(settings: Settings, sources: Mapping[str, Source] | Iterable[Source]) -> dict[str, Role]:
    """Every user of the namespace with the grants the code declares for it."""
    listed = list(sources.values()) if isinstance(sources, Mapping) else list(sources)
    return {
        LOADER: Role(LOADER, check_identifier(settings.loader_user, "loader user"), loader_grants(settings, listed)),
        TRANSFORMER: Role(TRANSFORMER, check_identifier(settings.transformer_user, "transformer user"),
                          transformer_grants(settings, listed)),
        ANALYST: Role(ANALYST, check_identifier(settings.analyst_user, "analyst user"),
                      analyst_grants_declared(settings)),
    }


def analyst_grant_sql(settings: Settings) -> str:
    """The one GRANT statement of the analyst user (user and host are bound as parameters)."""
    return analyst_grants_declared(settings)[0].sql()


def _ensure_account(cur: pymysql.cursors.Cursor, user: str, host: str, password: str) -> None:
    cur.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (user, host, password))
    cur.execute("ALTER USER %s@%s IDENTIFIED BY %s", (user, host, password))


def _reset_grants(cur: pymysql.cursors.Cursor, role: Role, host: str) -> None:
    """Exactly the role's privileges: whatever else was granted by hand is revoked first."""
    cur.execute("REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s", (role.user, host))
    for grant in role.grants:
        cur.execute(grant.sql(), (role.user, host))


def ensure_user(conn: pymysql.Connection, role: Role, password: str, hosts: Iterable[str] = USER_HOSTS) -> str:
    """Create (or bring back in line) the role's user and return its name. Idempotent: the password is set to
    `password` and the grants reset to the role's on every call. `conn` must be allowed to manage users and to
    grant those privileges (root, or a login WITH GRANT OPTION); the tables granted on must exist."""
    if not password:
        raise ValueError(f"the {role.name} user needs a password ({role.password_key})")
    with conn.cursor() as cur:
        for host in hosts:
            _ensure_account(cur, role.user, host, password)
            _reset_grants(cur, role, host)
    if not conn.get_autocommit():
        conn.commit()
    return role.user


def ensure_analyst_user(conn: pymysql.Connection, settings: Settings, password: str,
                        hosts: Iterable[str] = ANALYST_HOSTS) -> str:
    """The namespace's read-only analyst user (SELECT, SHOW VIEW on `<ns>_marts`.*); see ensure_user."""
    return ensure_user(conn, roles(settings, ())[ANALYST], password, hosts)


def show_grants(conn: pymysql.Connection, user: str, host: str = "%") -> list[str]:
    """SHOW GRANTS of a user, password hashes cut off (for checks and messages)."""
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS FOR %s@%s", (user, host))
        return [row[0].split(" IDENTIFIED BY")[0] for row in cur.fetchall()]


def analyst_grants(conn: pymysql.Connection, settings: Settings, host: str = "%") -> list[str]:
    return show_grants(conn, settings.analyst_user, host)


_GRANT_LINE = re.compile(r"^GRANT (?P<privileges>.+?) ON (?P<target>\S+) TO ", re.I)


def parse_grants(lines: Iterable[str]) -> set[tuple[str, frozenset[str]]]:
    """SHOW GRANTS lines as (target, privileges), the bare login (USAGE ON *.*) left out."""
    found = set()
    for line in lines:
        m = _GRANT_LINE.match(line)
        if not m:
            raise ValueError(f"not a GRANT statement: {line!r}")
        privileges = frozenset(p.strip().upper() for p in m.group("privileges").split(","))
        if m.group("target") == "*.*" and privileges == {"USAGE"}:
            continue
        found.add((m.group("target"), privileges))
    return found


def grant_differences(conn: pymysql.Connection, role: Role, host: str = "%") -> list[str]:
    """What the user's grants on the server have that the role does not declare, and the reverse; [] when they
    are exactly the declared ones."""
    actual = parse_grants(show_grants(conn, role.user, host))
    declared = {grant.key() for grant in role.grants}
    return ([f"granted but not declared: {sorted(p)} ON {t}" for t, p in sorted(actual - declared, key=str)]
            + [f"declared but not granted: {sorted(p)} ON {t}" for t, p in sorted(declared - actual, key=str)])


def manual_setup_sql(settings: Settings, sources: Mapping[str, Source] | Iterable[Source] = (),
                     only: Iterable[str] = ROLE_NAMES) -> str:
    """What a DBA runs when the setup's login may not manage users (an external server), passwords elided."""
    statements = []
    for name, role in roles(settings, sources).items():
        if name not in only:
            continue
        account = f"'{role.user}'@'%'"
        statements += [f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '<{role.password_key}>';",
                       f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account};",
                       *(grant.sql().replace("%s@%s", account) + ";" for grant in role.grants)]
    return "\n".join(statements)


def is_privilege_error(exc: pymysql.MySQLError) -> bool:
    return bool(exc.args) and exc.args[0] in PRIVILEGE_ERRORS
