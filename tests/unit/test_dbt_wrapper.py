"""The dbt wrapper cosmos runs (plugins/recon/dbt_cli/dbt): dbt 1.7 takes --log-format only before the
sub-command, cosmos's watcher producer passes it after."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from recon import paths

pytestmark = pytest.mark.unit


@pytest.fixture()
def fake_dbt(tmp_path: Path) -> Path:
    """A stand-in for the real dbt that prints the arguments it got, one per line."""
    script = tmp_path / "dbt"
    script.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\nexit 3\n')
    script.chmod(0o755)
    return script


def _run(fake: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECON_DBT_REAL_EXECUTABLE": str(fake)}
    return subprocess.run([str(paths.dbt_cosmos_executable()), *args], env=env, text=True, capture_output=True)


def test_log_format_moves_before_the_sub_command(fake_dbt: Path) -> None:
    result = _run(fake_dbt, "build", "--exclude", "tag:a tag:b", "--vars", "as_of_date: '2026-01-05'\n",
                  "--log-format", "json", "--indirect-selection", "cautious")
    assert result.stdout.split("\n")[:-1] == ["--log-format", "json", "build", "--exclude", "tag:a tag:b", "--vars",
                                              "as_of_date: '2026-01-05'", "", "--indirect-selection", "cautious"]
    assert result.returncode == 3  # dbt's exit code is the wrapper's


def test_other_arguments_pass_untouched(fake_dbt: Path) -> None:
    args = ["test", "--select", "test_type:singular", "--log-format=text", "--project-dir", "/p q"]
    result = _run(fake_dbt, *args)
    assert result.stdout.split("\n")[:-1] == ["--log-format=text", "test", "--select", "test_type:singular",
                                              "--project-dir", "/p q"]


def test_the_real_dbt_accepts_what_the_wrapper_makes() -> None:
    real = paths.dbt_executable()
    if not real.exists():
        pytest.skip("no dbt virtualenv (make venvs)")
    env = {**os.environ, "RECON_DBT_REAL_EXECUTABLE": str(real)}
    result = subprocess.run([str(paths.dbt_cosmos_executable()), "build", "--log-format", "json", "--help"],
                            env=env, text=True, capture_output=True)
    assert result.returncode == 0, result.stderr
    refused = subprocess.run([str(real), "build", "--log-format", "json", "--help"], text=True, capture_output=True)
    assert refused.returncode != 0 and "--log-format" in refused.stderr  # why the wrapper exists
