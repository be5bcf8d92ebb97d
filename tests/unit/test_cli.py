"""The command line: help text, the stack's exported settings, and that the README's commands exist."""
from __future__ import annotations

import re
import subprocess

import pytest

from conftest import REPO
from recon.cli import build_parser
from recon.stack.config import stack_environment

pytestmark = pytest.mark.unit


def test_help_lists_every_command(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for command in ("stack", "airflow", "reconcile-lock", "new-source", "generate", "demo", "seed", "run", "summary",
                    "dbt-manifest"):
        assert re.search(rf"^\s+{command}\s", out, re.M), command


def test_bad_dates_are_refused_with_a_hint(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--date", "05/01/2026"])
    assert "use YYYY-MM-DD" in capsys.readouterr().err


def test_stack_env_has_connections_and_no_literal_defaults_for_secrets() -> None:
    env = stack_environment()
    for name in ("AIRFLOW_CONN_RECON_WAREHOUSE", "AIRFLOW_CONN_RECON_PRODUCT_DB", "AIRFLOW_CONN_RECON_S3",
                 "AIRFLOW_HOME", "RECON_S3_BUCKET", "RECON_DB_PORT"):
        assert env[name], name
    assert env["AIRFLOW_CONN_RECON_WAREHOUSE"].endswith(f"/{env['RECON_NAMESPACE']}_raw")
    assert env["RECON_DB_PORT"] != "3306"  # never the default server's port
    assert "endpoint_url=http" in env["AIRFLOW_CONN_RECON_S3"]


def test_env_exports_put_the_virtualenv_on_path() -> None:
    from recon.stack.manager import env_exports

    exports = env_exports()
    assert exports.splitlines()[-1].startswith("export PATH=") and "venv" in exports.splitlines()[-1]
    assert "export AIRFLOW_HOME=" in exports


def test_readme_commands_are_make_targets() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    targets = subprocess.run(["make", "-s", "-C", str(REPO), "help"], capture_output=True, text=True).stdout
    for target in ("demo", "test", "env", "up", "down"):
        assert re.search(rf"^{target}\s", targets, re.M), target
    assert (REPO / ".ci" / "run").read_text().strip().endswith("make test")
