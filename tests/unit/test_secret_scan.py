"""No secret in the repository, none in the logs (tests/secret_scan.py).

The scanner is tested first on planted secrets (it must be able to fail), then run on every file git tracks or
would track, and on the logs of the stack and of this test session for the actual values of
`.stack/credentials.env` (every password, the JWT and API secrets). pytest runs tests/e2e and tests/integration
before tests/unit, so in a full run the logs of every DAG run, dbt call and gate of the session exist by now.
"""
from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import pytest

import secret_scan
from conftest import REPO
from recon import paths

pytestmark = pytest.mark.unit


def _fake(*parts: str) -> str:
    """Planted secrets are assembled at run time: this file never holds one as a literal."""
    return "".join(parts)


def _git_repo(tmp_path: Path, files: dict[str, str], ignored: dict[str, str] | None = None) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for name, text in {**files, **(ignored or {})}.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    if ignored:
        (repo / ".gitignore").write_text("".join(f"{name}\n" for name in ignored))
    subprocess.run(["git", "add", *sorted(files)[:1]], cwd=repo, check=True)  # one tracked, the rest untracked
    return repo


PLANTED = {  # file -> (text, the rule that must find it)
    "keys/deploy.pem": (_fake("-----BEGIN RSA ", "PRIVATE KEY-----\nMIIEow...\n"), "private key"),
    "settings.py": (_fake('AWS_KEY = "AKIA', 'Z7QWERTYUIOPASDF"\n'), "AWS access key id"),
    "app/db.py": (_fake('connect(host="db", password="', 'hunter2-hunter2")\n'), "secret assignment"),
    "deploy/.env": (_fake("DB_PASSWORD=", "corr3ct-h0rse\n"), "secret assignment"),
    "docker-compose.yml": (_fake("  PG: ${POSTGRES_PASSWORD:-", "airflow}\n"), "default for a secret variable"),
    "config.yaml": (_fake("warehouse: mysql://app:", "S3cr3tPassw0rd@db:3306/x\n"), "password in a URI"),
    "init.sql": (_fake("CREATE USER app IDENTIFIED BY '", "letmein-now';\n"), "IDENTIFIED BY literal"),
    "notify.py": (_fake("URL = 'https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/", "aB3dE5gH7jK9mN1pQ3sT'\n"),
                  "Slack webhook"),
    "token.txt": (secrets.token_urlsafe(32) + "\n", "high-entropy string"),
}
HARMLESS = {  # references, placeholders and look-alikes that are no secret
    "ok/code.py": "password = info.password or ''\nconn = connect(password=os.environ['DB_PASSWORD'])\n"
                  "KEY_NAME = 'RECON_DB_PASSWORD'\n",
    "ok/compose.yml": "  PG: ${POSTGRES_PASSWORD:?run docker/generate-env.sh}\n  password: \"{{ env_var('P') }}\"\n",
    "ok/.env.example": "POSTGRES_PASSWORD=\nRECON_ANALYST_PASSWORD=\n",
    "ok/paths.txt": "s3/inbound/stripe/YYYY/MM/DD/stripe_payout_reconciliation_YYYY-MM-DD.csv\n"
                    "runs/reconcile_daily/scheduled__2026-01-07T00:00:00+00:00\n"
                    "sha256 3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea\n",
    "ok/uri.md": "mysql://<user>:<password>@host/db and mysql://${USER}:${PASSWORD}@db\n",
}


def test_the_scanner_finds_every_kind_of_planted_secret(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path, {name: text for name, (text, _) in PLANTED.items()})
    findings = secret_scan.scan_repository(repo)
    found = {(f.path, f.rule) for f in findings}
    for name, (_, rule) in PLANTED.items():
        assert (name, rule) in found, f"{rule} in {name} not found; found {sorted(found)}"
    for finding in findings:  # a report must not repeat the secret it found
        assert "hunter2-hunter2" not in str(finding) and "S3cr3tPassw0rd" not in str(finding)


def test_the_scanner_leaves_references_and_placeholders_alone(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path, HARMLESS)
    assert secret_scan.scan_repository(repo) == []


def test_new_files_are_scanned_before_they_are_committed_ignored_ones_are_not(tmp_path: Path) -> None:
    password = _fake("SERVICE_PASSWORD=", "n0t-committed-yet\n")
    repo = _git_repo(tmp_path, {"README.md": "hello\n", "new/.env": password}, ignored={"local/.env": password})
    assert {f.path for f in secret_scan.scan_repository(repo)} == {"new/.env"}


def test_the_repository_has_no_secrets() -> None:
    findings = secret_scan.scan_repository(REPO)
    assert not findings, ("secrets (or what looks like one) in files git tracks; move the value to the environment "
                          "/ .stack/credentials.env / .env, or add an ALLOWED entry with its reason to "
                          "tests/secret_scan.py:\n" + "\n".join(map(str, findings)))


def test_every_allow_list_entry_has_a_reason_and_a_file() -> None:
    for (pattern, rule, needle), reason in secret_scan.ALLOWED.items():
        assert len(reason) > 20, f"{pattern}: say why it is no secret"
        assert any(REPO.glob(pattern)), f"ALLOWED names {pattern}, which matches no file: remove the entry"


# --- the actual values in the logs --------------------------------------------------------------------------------

def test_the_value_scan_finds_a_value_plain_or_url_encoded(tmp_path: Path) -> None:
    value = _fake("Ab3/", secrets.token_urlsafe(12))
    (tmp_path / "task.log").write_text(f"line 1\nconnecting to mysql://u:{value}@db\n")
    (tmp_path / "uri.log").write_text(f"AIRFLOW_CONN_X=mysql://u:{value.replace('/', '%2F')}@db\n")
    (tmp_path / "clean.log").write_text("nothing here\n")
    findings = secret_scan.scan_for_values(secret_scan.walk_files([tmp_path]), {"RECON_X_PASSWORD": value})
    assert {(Path(f.path).name, f.line) for f in findings} == {("task.log", 2), ("uri.log", 1)}
    assert all(value not in str(f) for f in findings)


# Files that hold a secret by design (stores, not logs): the stack's credentials and Airflow's login file.
SECRET_STORES = ("credentials.env", "simple_auth_manager_passwords.json", "simple_auth_manager_passwords.json.generated")


def _log_roots(stack: Path) -> list[Path]:
    """Everything the stack and a test session write: every Airflow home (task, scheduler, dag-processor, triggerer and
    api-server logs, its metadata database), dbt's logs and target folders, the MariaDB and moto server logs, the GX
    Data Docs, the benchmark's and `make demo`/`make test`'s logs, generated data, work files. Left out: the
    virtualenvs and MariaDB's data files (the database itself, whose users' password hashes are not the values)."""
    roots = [p for p in stack.iterdir() if p.name not in ("venv", "dbt-venv", "mariadb")]
    roots += [*(stack / "mariadb").glob("*.log"), *(stack / "mariadb").glob("*.out"),
              REPO / "dbt_project" / "logs", REPO / "dbt_project" / "target", REPO / "test-artifacts"]
    for variable in ("AIRFLOW_HOME", "DBT_LOG_PATH", "DBT_TARGET_PATH", "RECON_GX_DOCS_DIR"):
        if os.environ.get(variable):
            roots.append(Path(os.environ[variable]))
    return roots


def test_no_secret_value_appears_in_the_logs() -> None:
    stack = paths.stack_dir()
    values = secret_scan.read_secret_values(stack / "credentials.env")
    if not values:
        pytest.skip(f"no {stack / 'credentials.env'}: the local stack has never been set up here")
    assert {"RECON_DB_PASSWORD", "RECON_AIRFLOW_JWT_SECRET"} <= set(values)
    files = [f for f in secret_scan.walk_files(_log_roots(stack)) if f.name not in SECRET_STORES]
    assert any(f.suffix == ".log" for f in files), "no log file found: the roots above are wrong"
    findings = secret_scan.scan_for_values(files, values)
    assert not findings, ("secret values in logs (fix what logs them: a connection URI, a debug dump):\n"
                          + "\n".join(map(str, findings)))
