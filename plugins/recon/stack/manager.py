"""`recon stack up|down|status|env|init|reset`: the local default stack used by `make demo` and `make test`."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pymysql

from recon import access, db, paths, s3, warehouse
from recon.settings import Settings, check_identifier, load_settings
from recon.sources import all_sources
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
    init(cfg, settings)
    if with_airflow:
        airflow_home.ensure_airflow_db(cfg.airflow_home)
        print(f"Airflow home {cfg.airflow_home} ready")


def init(cfg: StackConfig | None = None, settings: Settings | None = None) -> bool:
    """`recon stack init`: the namespace's databases, tables and users on the configured server, as the
    administrative login (RECON_DB_USER; the users through the private server's root), starting no server.
    Idempotent. `recon stack up` runs it; so does docker-compose's airflow-init. False when the users could not be
    made (an external server whose login may not manage users: what to ask the DBA for is printed)."""
    cfg = cfg or load_stack_config(create_credentials=True)
    apply_environment()
    settings = settings or load_settings()
    with db.as_login(cfg.admin_login()):  # DDL is the setup's alone: no role user may run it
        warehouse.init_product_db(settings)
        warehouse.init_warehouse(settings)
        _create_ingest_locks_table(settings)
    print(f"databases {settings.raw_db}, {settings.dbt_db}, {settings.marts_db}, {settings.product_db} ready")
    return ensure_users(cfg, settings)


def _create_ingest_locks_table(settings: Settings) -> None:
    """recon.ingest.ingest_lock's table, made here rather than by the first lock taken: the loader may not run DDL
    (its grants on the table need it to exist, too)."""
    from recon.ingest import ingest_lock

    conn = db.connect(autocommit=True, database="")
    try:
        with conn.cursor() as cur:
            cur.execute(ingest_lock.TABLE_DDL.format(raw=settings.raw_db))
    finally:
        conn.close()


def _admin_connection(cfg: StackConfig) -> pymysql.Connection:
    """Who may create users: the private server's root, or on an external server the configured login."""
    if external_db():
        return db.connect(autocommit=True, database="", login=cfg.admin_login())
    return mariadb.root_connection(cfg)


def _passwords(cfg: StackConfig) -> dict[str, str]:
    return {access.LOADER: cfg.loader_password, access.TRANSFORMER: cfg.transformer_password,
            access.ANALYST: cfg.analyst_password}


def ensure_users(cfg: StackConfig, settings: Settings, only: tuple[str, ...] = access.ROLE_NAMES) -> bool:
    """The namespace's loader, transformer and analyst users (recon.access), reset to exactly their grants. On an
    external server whose login may not manage users, say what to ask the DBA for instead of failing the setup.
    Passwords are never printed."""
    sources = all_sources()
    roles = {name: role for name, role in access.roles(settings, sources).items() if name in only}
    passwords = _passwords(cfg)
    try:
        conn = _admin_connection(cfg)
        try:
            for name, role in roles.items():
                access.ensure_user(conn, role, passwords[name])
        finally:
            conn.close()
    except pymysql.MySQLError as exc:
        if not (external_db() and access.is_privilege_error(exc)):
            raise
        print(f"database users NOT created: {cfg.db_user} may not manage users ({exc}).\n"
              f"Ask the DBA to run (with the passwords of {', '.join(r.password_key for r in roles.values())} "
              f"from `recon stack env` / .stack/credentials.env):\n{access.manual_setup_sql(settings, sources, only)}")
        return False
    for name, role in roles.items():
        print(f"{name} user {role.user}: {_job(name, settings)} (password: {role.password_key}, "
              ".stack/credentials.env)")
    return True


def _job(role: str, settings: Settings) -> str:
    return {access.LOADER: f"the loader's tables of {settings.raw_db}, reads {settings.product_db}",
            access.TRANSFORMER: f"builds {settings.dbt_db} and {settings.marts_db}, reads {settings.raw_db}",
            access.ANALYST: f"SELECT, SHOW VIEW on {settings.marts_db} only"}[role]


def ensure_analyst(cfg: StackConfig, settings: Settings) -> bool:
    """The namespace's read-only analyst user alone (see ensure_users)."""
    return ensure_users(cfg, settings, only=(access.ANALYST,))


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
    """Empty this namespace's databases and the landing bucket, then initialise them again (`init`)."""
    apply_environment()
    cfg = load_stack_config(create_credentials=True)
    settings = load_settings()
    conn = db.connect(autocommit=True, database="", login=cfg.admin_login())
    try:
        with conn.cursor() as cur:
            for name in (settings.raw_db, settings.dbt_db, settings.marts_db, settings.product_db):
                cur.execute(f"DROP DATABASE IF EXISTS `{check_identifier(name, 'database')}`")
    finally:
        conn.close()
    client = s3.client()
    s3.ensure_bucket(client, settings.bucket)
    keys = s3.list_keys(client, settings.bucket, "")
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=settings.bucket,
                              Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]]})
    init(cfg, settings)  # tables and users' grants (a new source's tables get theirs here)
    print(f"reset: databases of namespace {settings.namespace!r} recreated empty, s3://{settings.bucket} emptied "
          f"({len(keys)} objects)")
