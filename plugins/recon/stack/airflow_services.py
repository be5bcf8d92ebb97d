"""`make airflow`: a running Airflow 3 on the local stack (api-server with the UI, scheduler, dag-processor,
triggerer), each a detached process with a pid file under `$AIRFLOW_HOME/run` and a log under
`$AIRFLOW_HOME/logs/services`. `make down` stops them.

Every component reads the same environment (recon.stack.config.stack_environment): SQLite metadata in the Airflow
home, LocalExecutor, the API's address and the JWT secret that signs the tokens tasks use to talk to it."""
from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from recon.stack import airflow_home, procs
from recon.stack.config import (
    AIRFLOW_ADMIN_PASSWORD_KEY,
    AIRFLOW_ADMIN_USER,
    StackConfig,
    airflow_port,
    local_secret,
)

# started in this order: the API server last, so its health answer covers the others
SERVICES = ("scheduler", "dag-processor", "triggerer", "api-server")
HEALTH_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _run_dir(cfg: StackConfig) -> Path:
    path = cfg.airflow_home / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _log_file(cfg: StackConfig, service: str) -> Path:
    return cfg.airflow_home / "logs" / "services" / f"{service}.log"


def url() -> str:
    return f"http://localhost:{airflow_port()}"


def admin_password(cfg: StackConfig) -> str:
    return local_secret(cfg.stack_dir, AIRFLOW_ADMIN_PASSWORD_KEY, create=True)


def _write_password_file(cfg: StackConfig) -> None:
    """The simple auth manager keeps a user's password if the file already names it: the login stays the one in
    .stack/credentials.env instead of a new random one printed in the API server's log."""
    path = Path(os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
                               cfg.airflow_home / "simple_auth_manager_passwords.json"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({AIRFLOW_ADMIN_USER: admin_password(cfg)}) + "\n")
    path.chmod(0o600)


def _command(service: str) -> list[str]:
    if service == "api-server":
        # one worker: the UI and the execution API for a laptop-sized stack; more only cost memory here
        return [_airflow(), "api-server", "--port", str(airflow_port()), "--workers", "1"]
    return [_airflow(), service]


def health() -> dict[str, Any] | None:
    """The API server's /api/v2/monitor/health answer, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{airflow_port()}/api/v2/monitor/health", timeout=5) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def unhealthy_components(answer: dict[str, Any] | None) -> list[str]:
    if answer is None:
        return ["api-server"]
    return [name for name in HEALTH_COMPONENTS if (answer.get(name) or {}).get("status") != "healthy"]


def running(cfg: StackConfig) -> dict[str, int | None]:
    return {service: procs.pid_alive(_run_dir(cfg) / f"{service}.pid") for service in SERVICES}


def start(cfg: StackConfig, timeout: float = 180.0) -> None:
    """Start whatever is not running yet, then wait until the API server reports every component healthy."""
    airflow_home.ensure_airflow_db(cfg.airflow_home)
    _write_password_file(cfg)
    if procs.port_open("127.0.0.1", airflow_port()) and running(cfg)["api-server"] is None:
        raise SystemExit(f"port {airflow_port()} is taken by another process: set RECON_AIRFLOW_PORT to a free port")
    env = dict(os.environ)
    for service in SERVICES:
        pid_file = _run_dir(cfg) / f"{service}.pid"
        if procs.pid_alive(pid_file):
            print(f"Airflow {service} already running")
            continue
        pid = procs.start_detached(_command(service), pid_file, _log_file(cfg, service), env=env)
        print(f"started Airflow {service} (pid {pid}, log {_log_file(cfg, service)})", flush=True)
    deadline = time.monotonic() + timeout
    missing = unhealthy_components(health())
    while missing and time.monotonic() < deadline:
        dead = [s for s, pid in running(cfg).items() if pid is None]
        if dead:
            raise RuntimeError(f"Airflow {', '.join(dead)} exited while starting; see {_log_file(cfg, dead[0])}:\n"
                               + _tail(_log_file(cfg, dead[0])))
        time.sleep(1.0)
        missing = unhealthy_components(health())
    if missing:
        raise RuntimeError(f"Airflow did not become healthy within {timeout:.0f}s (not healthy: {', '.join(missing)}); "
                           f"logs in {_log_file(cfg, 'api-server').parent}")


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def login_help(cfg: StackConfig) -> str:
    creds = cfg.stack_dir / "credentials.env"
    return (f"Airflow UI and REST API: {url()}\n"
            f"  log in as {AIRFLOW_ADMIN_USER}; the password is RECON_AIRFLOW_ADMIN_PASSWORD in {creds}\n"
            f"  (print it: grep {AIRFLOW_ADMIN_PASSWORD_KEY} {creds})\n"
            f"  REST: curl -X POST {url()}/auth/token -H 'Content-Type: application/json' "
            f"-d '{{\"username\": \"{AIRFLOW_ADMIN_USER}\", \"password\": \"...\"}}'  -> Bearer token for /api/v2\n"
            f"  DAGs start paused: unpause them in the UI. Stop everything with `make down`.")


def stop(cfg: StackConfig, timeout: float = 30.0) -> None:
    """Stop the Airflow of this Airflow home."""
    _stop_home(cfg.airflow_home, timeout)


def stop_all(cfg: StackConfig, timeout: float = 30.0) -> None:
    """Stop every Airflow started from this stack (`make airflow`'s, and a test's with its own Airflow home)."""
    homes = {cfg.airflow_home, *(p.parent.parent for p in cfg.stack_dir.glob("airflow*/run/*.pid"))}
    for home in sorted(homes):
        _stop_home(home, timeout)


def _stop_home(home: Path, timeout: float) -> None:
    """Each service's whole process group (the scheduler's executor workers, the API server's worker)."""
    for service in reversed(SERVICES):
        procs.stop(home / "run" / f"{service}.pid", f"Airflow {service} (home {home})", timeout, group=True)
