"""`recon stack up|down|status|env`: the local default stack used by `make demo` and `make test`."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pymysql

from recon import access, db, paths, s3, warehouse
from recon.settings import Settings, load_settings
from recon.stack import airflow_home, airflow_services, mariadb, s3server
from recon.stack.config import StackConfig, apply_environment, load_stack_config, stack_environment


def external_db() -> bool:
    return os.environ.get("RECON_EXTERNAL_DB", "") not in ("", "0", "false", "False")


def up(with_airflow: bool = True) -> None:
    cfg = load_stack_config(create_credentials=True)
    if external_db():
        print(f"using the external database at {cfg.db_host}:{cfg.db_port} (RECON_EXTERNAL_DB is set)")
    else:
        mariadb.start(cfg)
    s3server.start(cfg)
    apply_environment()
    settings = load_settings()
    s3.ensure_bucket(s3.client(), settings.bucket)
    print(f"bucket s3://{settings.bucket} ready")
    warehouse.init_product_db(settings)
    warehouse.init_warehouse(settings)
    print(f"databases {settings.raw_db}, {settings.dbt_db}, {settings.marts_db}, {settings.product_db} ready")
    ensure_analyst(cfg, settings)
    if with_airflow:
        airflow_home.ensure_airflow_db(cfg.airflow_home)
        print(f"Airflow home {cfg.airflow_home} ready")


def _admin_connection(cfg: StackConfig) -> pymysql.Connection:
    """Who may create users: the private server's root, or on an external server the configured login."""
    if external_db():
        return db.connect(autocommit=True, database="")
    return mariadb.root_connection(cfg)


def ensure_analyst(cfg: StackConfig, settings: Settings) -> bool:
    """The namespace's read-only analyst user (recon.access). On an external server whose login may not manage
    users, say what to ask the DBA for instead of failing the setup."""
    try:
        conn = _admin_connection(cfg)
        try:
            user = access.ensure_analyst_user(conn, settings, cfg.analyst_password)
        finally:
            conn.close()
    except pymysql.MySQLError as exc:
        if not (external_db() and access.is_privilege_error(exc)):
            raise
        print(f"analyst user {settings.analyst_user} NOT created: {cfg.db_user} may not manage users ({exc}).\n"
              f"Ask the DBA to run (with the password of RECON_ANALYST_PASSWORD):\n"
              f"{access.manual_setup_sql(settings)}")
        return False
    print(f"analyst user {user}: SELECT, SHOW VIEW on {settings.marts_db} only "
          "(password: RECON_ANALYST_PASSWORD in `recon stack env`)")
    return True


def airflow_up() -> None:
    """`make airflow`: the stack, then a running Airflow on it; prints where to log in."""
    up(with_airflow=True)
    cfg = load_stack_config()
    airflow_services.start(cfg)
    print(airflow_services.login_help(cfg))


def airflow_down() -> None:
    airflow_services.stop(load_stack_config())


def airflow_status() -> int:
    cfg = load_stack_config()
    for service, pid in airflow_services.running(cfg).items():
        print(f"Airflow {service:<14} {'running (pid %d)' % pid if pid else 'stopped'}")
    missing = airflow_services.unhealthy_components(airflow_services.health())
    print(f"Airflow health at {airflow_services.url()}: {'healthy' if not missing else 'not healthy: ' + ', '.join(missing)}")
    return 0 if not missing else 1


def down() -> None:
    cfg = load_stack_config()
    airflow_services.stop_all(cfg)  # tasks of a running Airflow talk to the servers below: stop it first
    s3server.stop(cfg)
    if not external_db():
        mariadb.stop(cfg)


def status() -> int:
    cfg = load_stack_config()
    db_ok = mariadb.is_running(cfg)
    s3_ok = s3server.is_running(cfg)
    print(f"MariaDB  {cfg.db_host}:{cfg.db_port}  {'running' if db_ok else 'stopped'}  (data {cfg.mariadb_dir})")
    print(f"S3       {cfg.s3_endpoint}  {'running' if s3_ok else 'stopped'}")
    services = airflow_services.running(cfg)
    up_count = sum(1 for pid in services.values() if pid)
    print(f"Airflow  home {cfg.airflow_home}  "
          + (f"{up_count} of {len(services)} processes running at {airflow_services.url()} (make airflow)"
             if up_count else "not running (make airflow starts it)"))
    print(f"stack    {paths.stack_dir()}")
    return 0 if db_ok and s3_ok else 1


def env_exports() -> str:
    """Shell exports; the virtualenv goes first on PATH so `recon`, `airflow` (and what it spawns) are found."""
    lines = [f"export {k}={shlex.quote(v)}" for k, v in stack_environment().items()]
    venv_bin = shlex.quote(str(Path(sys.executable).parent))
    return "\n".join([*lines, f'export PATH={venv_bin}:"$PATH"'])


def reset() -> None:
    """Empty this namespace's databases and the landing bucket, then initialise them again."""
    from recon import db

    apply_environment()
    settings = load_settings()
    conn = db.connect(autocommit=True, database="")
    try:
        with conn.cursor() as cur:
            for name in (settings.raw_db, settings.dbt_db, settings.marts_db, settings.product_db):
                cur.execute(f"DROP DATABASE IF EXISTS {name}")
    finally:
        conn.close()
    client = s3.client()
    s3.ensure_bucket(client, settings.bucket)
    keys = s3.list_keys(client, settings.bucket, "")
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=settings.bucket,
                              Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]]})
    warehouse.init_product_db(settings)
    warehouse.init_warehouse(settings)
    print(f"reset: databases of namespace {settings.namespace!r} recreated empty, s3://{settings.bucket} emptied "
          f"({len(keys)} objects)")
