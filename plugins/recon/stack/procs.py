"""Background processes with pid files: start detached, check, stop."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def start_detached(cmd: list[str], pid_file: Path, log_file: Path, env: dict[str, str] | None = None) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    pid_file.write_text(str(proc.pid))
    return proc.pid


def stop(pid_file: Path, name: str, timeout: float = 30.0, group: bool = False) -> bool:
    """SIGTERM, then SIGKILL after the timeout. `group`: the whole process group (start_detached starts a new
    session, so the pid is its group's id): the children of a server that forks workers die with it."""
    pid = pid_alive(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    kill = os.killpg if group else os.kill
    try:
        kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kill(pid, 0)
            time.sleep(0.2)
        kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # gone: the normal way out of the loop
    pid_file.unlink(missing_ok=True)
    print(f"stopped {name} (pid {pid})")
    return True


def kill(pid_file: Path, name: str, timeout: float = 30.0) -> bool:
    """SIGKILL (no clean shutdown: a crash), then wait until the process is gone."""
    pid = pid_alive(pid_file)
    if pid is None:
        return False
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid_file) is not None:
        try:  # started by this process (a restart): reap it, or it lingers as a zombie that still "exists"
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    pid_file.unlink(missing_ok=True)
    print(f"killed {name} (pid {pid})")
    return True


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for(check, what: str, log_file: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else "(no log)"
    raise RuntimeError(f"{what} did not come up within {timeout:.0f}s; last lines of {log_file}:\n{tail}")
