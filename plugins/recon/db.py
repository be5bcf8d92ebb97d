"""MySQL/MariaDB access with PyMySQL: the warehouse and the product database.

Every connection logs in as the user of its connection id (recon.connections: the loader, the transformer), so a
process can do its job and nothing else. The setup (`recon stack up` / `recon stack init`) runs the same table
code as the administrative login instead, inside `as_login(admin)`; tests read what they check with `login=`.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Iterator
from urllib.parse import quote

import pymysql
import pymysql.cursors

from recon import connections
from recon.connections import ConnInfo

_LOGIN: ContextVar[ConnInfo | None] = ContextVar("recon_db_login", default=None)


@contextmanager
def as_login(login: ConnInfo) -> Iterator[None]:
    """Every connection opened in the block logs in as `login` (host, port, user, password), whatever its
    connection id; each keeps its id's default database. For the setup's DDL, which must not run as a role user."""
    token = _LOGIN.set(login)
    try:
        yield
    finally:
        _LOGIN.reset(token)


def _info(conn_id: str, login: ConnInfo | None) -> ConnInfo:
    login = login or _LOGIN.get()
    if login is None:
        return connections.get_conn(conn_id)
    try:
        schema = connections.get_conn(conn_id).schema
    except RuntimeError:  # the id is not defined (e.g. an admin-only session): no default database
        schema = None
    return replace(login, conn_id=conn_id, schema=schema)


def connect(conn_id: str = connections.WAREHOUSE, *, database: str | None = None, autocommit: bool = False,
            streaming: bool = False, login: ConnInfo | None = None) -> pymysql.Connection:
    info = _info(conn_id, login)
    return pymysql.connect(
        host=info.host or "127.0.0.1",
        port=int(info.port or 3306),
        user=info.login,
        password=info.password or "",
        database=info.schema if database is None else (database or None),  # "" = no default database
        charset="utf8mb4",
        autocommit=autocommit,
        local_infile=True,  # LOAD DATA LOCAL INFILE is how files land
        cursorclass=pymysql.cursors.SSCursor if streaming else pymysql.cursors.Cursor,
        init_command="SET time_zone = '+00:00'",
        connect_timeout=10,
    )


@contextmanager
def transaction(conn_id: str = connections.WAREHOUSE, *,
                login: ConnInfo | None = None) -> Iterator[pymysql.cursors.Cursor]:
    """One transaction: commit on success, roll back on any error so no partial data is left."""
    conn = connect(conn_id, login=login)
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def sqlalchemy_url(conn_id: str = connections.WAREHOUSE, database: str | None = None) -> str:
    """For Great Expectations, which talks SQLAlchemy (mysql+pymysql). Holds the password: never log it."""
    info = _info(conn_id, None)
    user = quote(info.login or "", safe="")
    password = quote(info.password or "", safe="")
    db = f"/{database}" if database else ""
    return f"mysql+pymysql://{user}:{password}@{info.host or '127.0.0.1'}:{info.port or 3306}{db}?charset=utf8mb4"
