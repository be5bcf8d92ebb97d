"""MySQL/MariaDB access with PyMySQL: the warehouse and the product database."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator
from urllib.parse import quote

import pymysql
import pymysql.cursors

from recon import connections


def connect(conn_id: str = connections.WAREHOUSE, *, database: str | None = None, autocommit: bool = False,
            streaming: bool = False) -> pymysql.Connection:
    info = connections.get_conn(conn_id)
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
def transaction(conn_id: str = connections.WAREHOUSE) -> Iterator[pymysql.cursors.Cursor]:
    """One transaction: commit on success, roll back on any error so no partial data is left."""
    conn = connect(conn_id)
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
    """For Great Expectations, which talks SQLAlchemy (mysql+pymysql)."""
    info = connections.get_conn(conn_id)
    user = quote(info.login or "", safe="")
    password = quote(info.password or "", safe="")
    db = f"/{database}" if database else ""
    return f"mysql+pymysql://{user}:{password}@{info.host or '127.0.0.1'}:{info.port or 3306}{db}?charset=utf8mb4"
