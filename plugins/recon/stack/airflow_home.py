"""Airflow's home under `.stack/airflow`: SQLite metadata, LocalExecutor, no examples, connections from env."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

# How long a connection to the SQLite metadata waits for another writer's lock before "database is locked"
# (sqlite3's default is 5 s: a running scheduler creating a backfill's runs held it longer under load, and the
# API's POST /backfills failed half-done). Airflow imports it: [database] sql_alchemy_connect_args(_async).
SQLITE_CONNECT_ARGS = {"timeout": 30}


def ensure_airflow_db(airflow_home: Path) -> None:
    airflow_home.mkdir(parents=True, exist_ok=True)
    marker = airflow_home / ".migrated"
    if marker.exists() and (airflow_home / "airflow.db").exists():
        use_wal(airflow_home / "airflow.db")
        return
    print(f"initialising Airflow metadata in {airflow_home} (airflow db migrate) ...", flush=True)
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "db", "migrate"], env=dict(os.environ), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    use_wal(airflow_home / "airflow.db")
    marker.write_text("ok\n")


def use_wal(db_file: Path) -> None:
    """Write-ahead logging for the SQLite metadata (kept in the file): with a running scheduler, dag-processor,
    triggerer and API server, readers then never block the writer, so far fewer writes meet "database is
    locked". SQLite stays a local-stack choice; docker-compose runs Airflow on PostgreSQL."""
    if db_file.exists():
        with sqlite3.connect(db_file, timeout=30) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
