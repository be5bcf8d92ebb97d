"""A private MariaDB server owned by the project: its own data dir, port and socket under `.stack/mariadb`."""
from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from pathlib import Path

import pymysql

from recon.stack import procs
from recon.stack.config import StackConfig

INSTALL_HELP = (
    "MariaDB server binaries (mariadbd, mariadb-install-db) were not found.\n"
    "  Debian/Ubuntu: sudo apt-get install mariadb-server mariadb-client\n"
    "  macOS:         brew install mariadb\n"
    "Or use an existing MySQL 8 / MariaDB 10.6+ server instead of the private one: export\n"
    "  RECON_EXTERNAL_DB=1 RECON_DB_HOST=... RECON_DB_PORT=... RECON_DB_USER=... RECON_DB_PASSWORD=...\n"
    "  (that administrative login is used by the setup only: it needs CREATE on the recon databases, and\n"
    "  CREATE USER and GRANT OPTION to make the loader/transformer/analyst users; the server needs local_infile=ON)\n"
    "  and run the command again."
)


def _find(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name, Path("/usr/local/bin") / name)
         if p.exists()), None)


def ensure_binaries() -> tuple[str, str]:
    mariadbd, install_db = _find("mariadbd") or _find("mysqld"), _find("mariadb-install-db")
    if mariadbd and install_db:
        return mariadbd, install_db
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing mariadb-server with apt-get (running as root) ...", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "mariadb-server", "mariadb-client"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        mariadbd, install_db = _find("mariadbd") or _find("mysqld"), _find("mariadb-install-db")
        if mariadbd and install_db:
            return mariadbd, install_db
    raise SystemExit(INSTALL_HELP)


def _write_config(cfg: StackConfig) -> Path:
    d = cfg.mariadb_dir
    conf = d / "my.cnf"
    conf.write_text(
        "[mysqld]\n"
        f"datadir={d / 'data'}\n"
        f"socket={cfg.socket}\n"
        f"pid-file={d / 'mariadbd.pid'}\n"
        f"log-error={d / 'error.log'}\n"
        f"port={cfg.db_port}\n"
        "bind-address=127.0.0.1\n"
        "skip-name-resolve\n"
        "local_infile=ON\n"
        "character-set-server=utf8mb4\n"
        "collation-server=utf8mb4_unicode_ci\n"
        "default-time-zone='+00:00'\n"
        "innodb_buffer_pool_size=1G\n"
        "innodb_log_file_size=256M\n"
        "innodb_flush_log_at_trx_commit=2\n"
        "max_allowed_packet=256M\n"
        "tmp_table_size=256M\n"
        "max_heap_table_size=256M\n"
    )
    return conf


def is_running(cfg: StackConfig) -> bool:
    return procs.pid_alive(cfg.mariadb_dir / "server.pid") is not None and procs.port_open(cfg.db_host, cfg.db_port)


def _root(cfg: StackConfig) -> pymysql.Connection:
    return pymysql.connect(unix_socket=str(cfg.socket), user="root", password="", autocommit=True)


def root_connection(cfg: StackConfig) -> pymysql.Connection:
    """The private server's root, over its socket: for managing users (the stack's own user has no GRANT OPTION)."""
    return _root(cfg)


def start(cfg: StackConfig) -> None:
    if is_running(cfg):
        print(f"MariaDB already running on {cfg.db_host}:{cfg.db_port}")
        return
    if procs.port_open(cfg.db_host, cfg.db_port):
        raise SystemExit(f"port {cfg.db_port} is taken by another process: set RECON_DB_PORT to a free port")
    mariadbd, install_db = ensure_binaries()
    d = cfg.mariadb_dir
    d.mkdir(parents=True, exist_ok=True)
    conf = _write_config(cfg)
    user = getpass.getuser()
    if not (d / "data" / "mysql").exists():
        print(f"creating MariaDB data dir {d / 'data'} ...", flush=True)
        subprocess.run([install_db, f"--defaults-file={conf}", f"--user={user}", "--skip-test-db",
                        "--auth-root-authentication-method=normal"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    procs.start_detached([mariadbd, f"--defaults-file={conf}", f"--user={user}"], d / "server.pid",
                         d / "server.out")
    procs.wait_for(lambda: cfg.socket.exists() and procs.port_open(cfg.db_host, cfg.db_port),
                   f"MariaDB on port {cfg.db_port}", d / "error.log")
    _bootstrap_user(cfg)
    print(f"MariaDB running on {cfg.db_host}:{cfg.db_port} (data dir {d / 'data'})")


def _bootstrap_user(cfg: StackConfig) -> None:
    conn = _root(cfg)
    try:
        with conn.cursor() as cur:
            for host in ("%", "localhost"):
                cur.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (cfg.db_user, host, cfg.db_password))
                cur.execute("ALTER USER %s@%s IDENTIFIED BY %s", (cfg.db_user, host, cfg.db_password))
                # The local stack's one user may create the namespaced databases (tests use their own namespace).
                cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO %s@%s", (cfg.db_user, host))
    finally:
        conn.close()


def stop(cfg: StackConfig) -> None:
    if not procs.stop(cfg.mariadb_dir / "server.pid", "MariaDB", timeout=60):
        print("MariaDB was not running")


def restart(cfg: StackConfig, crash: bool = False) -> None:
    """Stop the private server and start it again (the crash-safety tests do it under a running ingest task).
    `crash`: SIGKILL, as a server crash or an OOM kill: clients' connections are reset at once and InnoDB's crash
    recovery rolls back the open transactions on start. Otherwise a clean shutdown (SIGTERM)."""
    if crash:
        procs.kill(cfg.mariadb_dir / "server.pid", "MariaDB")
    else:
        stop(cfg)
    start(cfg)
