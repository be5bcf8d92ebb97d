"""Where things live. Everything is relative to the repository unless overridden by environment variables."""
from __future__ import annotations

import os
from pathlib import Path

# plugins/recon/paths.py -> repository root
REPO_DIR = Path(__file__).resolve().parents[2]


def repo_dir() -> Path:
    return Path(os.environ.get("RECON_REPO_DIR", REPO_DIR))


def stack_dir() -> Path:
    """The git-ignored folder holding the local stack: virtualenvs, MariaDB data, Airflow home, S3 state."""
    return Path(os.environ.get("RECON_STACK_DIR", repo_dir() / ".stack"))


def sources_dir() -> Path:
    return Path(os.environ.get("RECON_SOURCES_DIR", repo_dir() / "dags" / "sources"))


def dbt_project_dir() -> Path:
    return Path(os.environ.get("RECON_DBT_PROJECT_DIR", repo_dir() / "dbt_project"))


def dbt_profiles_dir() -> Path:
    return Path(os.environ.get("RECON_DBT_PROFILES_DIR", dbt_project_dir()))


def dbt_executable() -> Path:
    return Path(os.environ.get("RECON_DBT_EXECUTABLE", stack_dir() / "dbt-venv" / "bin" / "dbt"))


def dbt_cosmos_executable() -> Path:
    """What cosmos runs as dbt: a wrapper of dbt_executable() (plugins/recon/dbt_cli/dbt says why)."""
    return Path(__file__).resolve().parent / "dbt_cli" / "dbt"


def work_dir() -> Path:
    """Temp space for downloads and TSV files; object keys never choose a path inside it."""
    path = Path(os.environ.get("RECON_WORK_DIR", stack_dir() / "work"))
    path.mkdir(parents=True, exist_ok=True)
    return path
