"""Connections to the warehouse, the product database and S3, resolved by Airflow connection id.

The same ids work everywhere: `AIRFLOW_CONN_<ID>` environment variables (URI or JSON, as Airflow reads them)
for the CLI, the tests and docker-compose; inside an Airflow task, a connection defined in the UI or a secrets
backend is found through Airflow's own lookup when no environment variable is set.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

# Each login does one job (recon.access declares their grants; docs/operations.md "Database users"):
WAREHOUSE = "recon_warehouse"  # the loader (ingest DAGs): the loader's tables of <ns>_raw
PRODUCT_DB = "recon_product_db"  # the loader too, reading the product ledger (<ns>_product)
TRANSFORMER = "recon_transformer"  # dbt, the reconcile DAG and its gates: builds <ns> and <ns>_marts
S3 = "recon_s3"
CONNECTION_IDS = (WAREHOUSE, PRODUCT_DB, TRANSFORMER, S3)
# Optional: the chat webhook alerts are posted to (recon.alerts). Not in CONNECTION_IDS, which lists what the
# pipeline cannot run without: with no such connection, alerts are simply off.
ALERTS_WEBHOOK = "recon_alerts_webhook"


@dataclass(frozen=True)
class ConnInfo:
    conn_id: str
    conn_type: str
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def masked(self) -> str:
        """For logs and error messages: never print the password."""
        return f"{self.conn_type}://{self.login or ''}:***@{self.host or ''}:{self.port or ''}/{self.schema or ''}"


def parse_conn(conn_id: str, value: str) -> ConnInfo:
    value = value.strip()
    if value.startswith("{"):
        data = json.loads(value)
        return ConnInfo(conn_id, data.get("conn_type", ""), data.get("host"), data.get("port"), data.get("login"),
                        data.get("password"), data.get("schema"), dict(data.get("extra") or {}))
    parts = urlsplit(value)
    extra = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "__extra__" in extra:
        extra = json.loads(extra["__extra__"])
    return ConnInfo(
        conn_id=conn_id,
        conn_type=parts.scheme.replace("-", "_"),
        host=unquote(parts.hostname) if parts.hostname else None,
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=unquote(parts.path.lstrip("/")) or None,
        extra=extra,
    )


def get_conn(conn_id: str) -> ConnInfo:
    env_value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if env_value:
        return parse_conn(conn_id, env_value)
    try:  # inside Airflow: UI connections, secrets backends
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - re-raised with what to do
        raise RuntimeError(
            f"connection {conn_id!r} is not defined: set AIRFLOW_CONN_{conn_id.upper()} "
            f"(`recon stack env` prints the local stack's values) or define it in Airflow ({exc})"
        ) from exc
    return ConnInfo(conn_id, conn.conn_type or "", conn.host, conn.port, conn.login, conn.password, conn.schema,
                    dict(conn.extra_dejson or {}))


def run_log_connection(dag_id: str) -> str:
    """Which login writes a task's run figures (pipeline_runs): the ingest DAGs' tasks run as the loader, every
    other recon DAG's (reconcile_daily) as the transformer."""
    return WAREHOUSE if dag_id.startswith("ingest_") else TRANSFORMER
