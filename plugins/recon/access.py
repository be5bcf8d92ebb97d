"""Read-only access for analysts: one MySQL user per namespace, `<ns>_analyst`, that may read the marts and
nothing else.

Its only privileges are SELECT and SHOW VIEW on the database `<ns>_marts` (granted on the database, not per table:
dbt drops, recreates and renames the mart tables on every run). It has no privilege on `<ns>` (staging and
intermediate models), `<ns>_raw` or `<ns>_product`, and may not write, create or drop anything anywhere.

`recon stack up` calls ensure_analyst_user with an administrative connection (the private MariaDB's root); the
password is made once per checkout and kept in `.stack/credentials.env` (RECON_ANALYST_PASSWORD, see
recon.stack.config). On docker-compose, docker/mysql/init/01-recon-databases.sh creates the same user.
"""
from __future__ import annotations

from typing import Iterable

import pymysql

from recon.settings import Settings, check_identifier

ANALYST_PRIVILEGES = ("SELECT", "SHOW VIEW")
# '%' for TCP clients; 'localhost' too, because an anonymous ''@'localhost' account (as mariadb-install-db makes)
# would otherwise take precedence over '<user>'@'%' for clients on the server's socket.
ANALYST_HOSTS = ("%", "localhost")
# What a login without enough privilege to manage users gets (external servers: ask the DBA).
PRIVILEGE_ERRORS = {1044, 1045, 1142, 1227, 1410}


def grant_database_pattern(database: str) -> str:
    """The database name as a GRANT pattern: `_` and `%` are wildcards there, so escape them (`recon\\_marts`
    must not also match `reconXmarts`)."""
    check_identifier(database, "database")
    return database.replace("_", "\\_")


def analyst_grant_sql(settings: Settings) -> str:
    """The one GRANT statement of the analyst user (user and host are bound as parameters)."""
    privileges = ", ".join(ANALYST_PRIVILEGES)
    return f"GRANT {privileges} ON `{grant_database_pattern(settings.marts_db)}`.* TO %s@%s"


def _ensure_account(cur: pymysql.cursors.Cursor, user: str, host: str, password: str) -> None:
    cur.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (user, host, password))
    cur.execute("ALTER USER %s@%s IDENTIFIED BY %s", (user, host, password))


def _reset_grants(cur: pymysql.cursors.Cursor, settings: Settings, user: str, host: str) -> None:
    """Exactly the analyst's privileges: whatever else was granted by hand is revoked first."""
    cur.execute("REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s", (user, host))
    cur.execute(analyst_grant_sql(settings), (user, host))


def ensure_analyst_user(conn: pymysql.Connection, settings: Settings, password: str,
                        hosts: Iterable[str] = ANALYST_HOSTS) -> str:
    """Create (or bring back in line) the namespace's read-only analyst user and return its name. Idempotent: the
    password is set to `password` and the grants reset to SELECT, SHOW VIEW on `<ns>_marts`.* on every call.
    `conn` must be allowed to manage users and grant SELECT on the marts (root, or a login WITH GRANT OPTION)."""
    if not password:
        raise ValueError("the analyst user needs a password (RECON_ANALYST_PASSWORD)")
    user = check_identifier(settings.analyst_user, "analyst user")
    with conn.cursor() as cur:
        for host in hosts:
            _ensure_account(cur, user, host, password)
            _reset_grants(cur, settings, user, host)
    if not conn.get_autocommit():
        conn.commit()
    return user


def analyst_grants(conn: pymysql.Connection, settings: Settings, host: str = "%") -> list[str]:
    """SHOW GRANTS of the analyst user, password hashes cut off (for checks and messages)."""
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS FOR %s@%s", (settings.analyst_user, host))
        return [row[0].split(" IDENTIFIED BY")[0] for row in cur.fetchall()]


def manual_setup_sql(settings: Settings) -> str:
    """What a DBA runs when the setup's login may not manage users (an external server), password elided."""
    user = settings.analyst_user
    grant = analyst_grant_sql(settings).replace("%s@%s", f"'{user}'@'%'")
    return (f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '<RECON_ANALYST_PASSWORD>';\n"
            f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{user}'@'%';\n{grant};")


def is_privilege_error(exc: pymysql.MySQLError) -> bool:
    return bool(exc.args) and exc.args[0] in PRIVILEGE_ERRORS
