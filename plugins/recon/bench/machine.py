"""The machine the figures were taken on, read at run time: cores, memory, CPU, load, versions."""
from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from recon import db, paths


def _meminfo_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _dbt_version() -> str | None:
    python = paths.dbt_executable().parent / "python"
    try:
        out = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('dbt-core'))"],
                             capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return out.stdout.strip() or None


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def describe() -> dict[str, Any]:
    total = _meminfo_kb("MemTotal")
    available = _meminfo_kb("MemAvailable")
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": round(total / 1024 / 1024, 1) if total else None,
        "memory_available_gib": round(available / 1024 / 1024, 1) if available else None,
        "load_average_at_start": load_average(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "airflow": _version("apache-airflow"),
        "astronomer_cosmos": _version("astronomer-cosmos"),
        "great_expectations": _version("great-expectations"),
        "pymysql": _version("PyMySQL"),
        "dbt_core": _dbt_version(),
    }
    try:
        with db.transaction() as cur:
            cur.execute("SELECT VERSION(), @@innodb_buffer_pool_size, @@innodb_flush_log_at_trx_commit")
            version, pool, flush = cur.fetchone()
        facts.update(database=str(version), innodb_buffer_pool_mib=int(pool) // (1024 * 1024),
                     innodb_flush_log_at_trx_commit=int(flush))
    except Exception as exc:  # noqa: BLE001 - the figures stand without it
        facts["database"] = f"unknown ({exc})"
    return facts


def one_line(facts: dict[str, Any]) -> str:
    return (f"{facts.get('cores')} cores ({facts.get('cpu')}), {facts.get('memory_gib')} GiB memory "
            f"({facts.get('memory_available_gib')} GiB available), load {facts.get('load_average_at_start')}, "
            f"{facts.get('database')}, buffer pool {facts.get('innodb_buffer_pool_mib')} MiB, "
            f"Airflow {facts.get('airflow')}, dbt {facts.get('dbt_core')}, Python {facts.get('python')}")
