"""The dbt project, run with the dbt executable of its own virtualenv (dbt 1.7's pins conflict with Airflow)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from recon import paths


def manifest_path() -> Path:
    return paths.dbt_project_dir() / "target" / "manifest.json"


def dbt_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(paths.dbt_profiles_dir()))
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    return env


def run_dbt(args: list[str], *, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess[str]:
    exe = paths.dbt_executable()
    if not exe.exists():
        raise SystemExit(f"dbt not found at {exe}: run `make setup` (creates .stack/dbt-venv) or set "
                         "RECON_DBT_EXECUTABLE")
    cmd = [str(exe), *args, "--project-dir", str(paths.dbt_project_dir()),
           "--profiles-dir", str(paths.dbt_profiles_dir())]
    result = subprocess.run(cmd, env=dbt_env(), text=True, capture_output=capture)
    if check and result.returncode != 0:
        out = (result.stdout or "")[-4000:] + (result.stderr or "")[-2000:] if capture else ""
        raise RuntimeError(f"dbt {' '.join(args)} failed (exit {result.returncode}){out and ': ' + out}")
    return result


def build_manifest() -> Path:
    """Cosmos renders the dbt DAG from this precompiled manifest: no `dbt ls` at DAG-parse time."""
    run_dbt(["parse", "--quiet"], capture=True)
    path = manifest_path()
    json.loads(path.read_text())  # fail loudly on a broken manifest
    return path
