"""Links into the Airflow UI (alerts, GX Data Docs pages served by the recon_ops plugin)."""
from __future__ import annotations


def airflow_base_url() -> str:
    """Airflow's [api] base_url, with the fallback Airflow itself uses for its task log links."""
    try:
        from airflow.sdk.configuration import conf

        value = conf.get("api", "base_url", fallback=None)
    except Exception:  # noqa: BLE001 - outside Airflow: the local default
        value = None
    return (value or "http://localhost:8080").rstrip("/")
