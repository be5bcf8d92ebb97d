"""The local stack's settings (ports, credentials) and the environment it exports.

Logins (recon.access declares what each may do): the administrative one (RECON_DB_USER, default `recon`) is for
the setup only (`recon stack up|init|reset`, `recon seed`) and is never exported to the environment; the ingest
connections log in as `<ns>_loader`, dbt and the reconcile DAG as `<ns>_transformer`, analysts as `<ns>_analyst`.
Every password is made once per checkout and kept in the git-ignored `.stack/credentials.env` (mode 600).
"""
from __future__ import annotations

import fcntl
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from recon import paths
from recon.connections import ConnInfo
from recon.settings import load_settings

DEFAULT_DB_PORT = 3317  # never 3306: the project must not touch a server already there
DEFAULT_S3_PORT = 5055
DB_PASSWORD_KEY = "RECON_DB_PASSWORD"  # the administrative login (setup only)
ANALYST_PASSWORD_KEY = "RECON_ANALYST_PASSWORD"  # the namespace's read-only analyst user (recon.access)
LOADER_PASSWORD_KEY = "RECON_LOADER_PASSWORD"  # the ingest DAGs' user <ns>_loader (recon.access)
TRANSFORMER_PASSWORD_KEY = "RECON_TRANSFORMER_PASSWORD"  # dbt's and the reconcile DAG's user <ns>_transformer
AIRFLOW_ADMIN_PASSWORD_KEY = "RECON_AIRFLOW_ADMIN_PASSWORD"  # the UI/API login of `make airflow`
AIRFLOW_JWT_SECRET_KEY = "RECON_AIRFLOW_JWT_SECRET"
AIRFLOW_SECRET_KEY = "RECON_AIRFLOW_SECRET_KEY"
AIRFLOW_ADMIN_USER = "admin"
DEFAULT_AIRFLOW_PORT = 8080


def airflow_port() -> int:
    """The port of the local Airflow API server and UI (`make airflow`); RECON_AIRFLOW_PORT overrides it."""
    return int(os.environ.get("RECON_AIRFLOW_PORT", DEFAULT_AIRFLOW_PORT))


@dataclass(frozen=True)
class StackConfig:
    stack_dir: Path
    db_host: str
    db_port: int
    db_user: str
    db_password: str
    s3_host: str
    s3_port: int
    analyst_password: str = ""
    loader_password: str = ""
    transformer_password: str = ""

    def admin_login(self) -> ConnInfo:
        """The administrative login (RECON_DB_USER): for the setup's DDL and user management, and the tests'
        fixtures; never handed to a DAG task or dbt."""
        return ConnInfo("recon_admin", "mysql", self.db_host, self.db_port, self.db_user, self.db_password)

    @property
    def mariadb_dir(self) -> Path:
        return self.stack_dir / "mariadb"

    @property
    def socket(self) -> Path:
        return self.mariadb_dir / "mysqld.sock"

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.s3_host}:{self.s3_port}"

    @property
    def airflow_home(self) -> Path:
        return Path(os.environ.get("AIRFLOW_HOME", self.stack_dir / "airflow"))


def _credentials_file(stack_dir: Path) -> Path:
    return stack_dir / "credentials.env"


def _parse_credentials(text: str) -> dict[str, str]:
    """KEY=value lines; the first value of a key wins."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values.setdefault(key.strip(), value)
    return values


def _append_secret(path: Path, key: str) -> str:
    """Add a random value for `key` to the credentials file, under a lock so that concurrent first uses agree on
    one value; an existing value is returned, never replaced."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        text = f.read()
        existing = _parse_credentials(text).get(key)
        if existing:
            return existing
        value = secrets.token_urlsafe(18)
        f.write(("" if not text or text.endswith("\n") else "\n") + f"{key}={value}\n")
    path.chmod(0o600)
    return value


def local_secret(stack_dir: Path, key: str, create: bool = False) -> str:
    """A random secret made once per checkout and kept in the git-ignored stack folder (.stack/credentials.env,
    mode 600): no secret in git. Made on first use when `create`, then the same on every later call."""
    path = _credentials_file(stack_dir)
    value = _parse_credentials(path.read_text()).get(key, "") if path.exists() else ""
    if value or not create:
        return value
    stack_dir.mkdir(parents=True, exist_ok=True)
    return _append_secret(path, key)


def local_password(stack_dir: Path, create: bool = False) -> str:
    """The password of the administrative login (RECON_DB_PASSWORD): the setup's only."""
    return local_secret(stack_dir, DB_PASSWORD_KEY, create)


def local_analyst_password(stack_dir: Path, create: bool = False) -> str:
    """The password of the namespace's read-only analyst user (RECON_ANALYST_PASSWORD): one per checkout."""
    return local_secret(stack_dir, ANALYST_PASSWORD_KEY, create)


def load_stack_config(create_credentials: bool = False) -> StackConfig:
    stack_dir = paths.stack_dir()
    return StackConfig(
        stack_dir=stack_dir,
        db_host=os.environ.get("RECON_DB_HOST", "127.0.0.1"),
        db_port=int(os.environ.get("RECON_DB_PORT", DEFAULT_DB_PORT)),
        db_user=os.environ.get("RECON_DB_USER", "recon"),
        db_password=os.environ.get("RECON_DB_PASSWORD") or local_password(stack_dir, create_credentials),
        s3_host=os.environ.get("RECON_S3_HOST", "127.0.0.1"),
        s3_port=int(os.environ.get("RECON_S3_PORT", DEFAULT_S3_PORT)),
        analyst_password=(os.environ.get(ANALYST_PASSWORD_KEY)
                          or local_analyst_password(stack_dir, create_credentials)),
        loader_password=(os.environ.get(LOADER_PASSWORD_KEY)
                         or local_secret(stack_dir, LOADER_PASSWORD_KEY, create_credentials)),
        transformer_password=(os.environ.get(TRANSFORMER_PASSWORD_KEY)
                              or local_secret(stack_dir, TRANSFORMER_PASSWORD_KEY, create_credentials)),
    )


def admin_login() -> ConnInfo:
    """The administrative login of the configured server (see StackConfig.admin_login)."""
    return load_stack_config().admin_login()


def _mysql_uri(cfg: StackConfig, user: str, password: str, database: str) -> str:
    return (f"mysql://{quote(user, safe='')}:{quote(password, safe='')}@{cfg.db_host}:{cfg.db_port}/"
            f"{quote(database, safe='')}")


def stack_environment(cfg: StackConfig | None = None) -> dict[str, str]:
    """Everything a process needs to talk to the local stack, as environment variables. The local passwords are
    made on first use, so the exported connections never carry an empty one. Each connection logs in as the user
    of its job; the administrative login is not among them."""
    cfg = cfg or load_stack_config(create_credentials=True)
    settings = load_settings()
    endpoint = quote(cfg.s3_endpoint, safe="")
    repo = paths.repo_dir()
    home = cfg.airflow_home
    port = airflow_port()
    return {
        "RECON_NAMESPACE": settings.namespace,
        "RECON_S3_BUCKET": settings.bucket,
        "RECON_DB_HOST": cfg.db_host,
        "RECON_DB_PORT": str(cfg.db_port),
        # dbt's login (dbt_project/profiles.yml): the transformer, like the connection recon_transformer
        "RECON_TRANSFORMER_USER": settings.transformer_user,
        "RECON_TRANSFORMER_PASSWORD": cfg.transformer_password,
        # read-only access to <ns>_marts for analysts' SQL clients (recon.access, made by `recon stack up`)
        "RECON_ANALYST_USER": settings.analyst_user,
        "RECON_ANALYST_PASSWORD": cfg.analyst_password,
        "RECON_S3_ENDPOINT_URL": cfg.s3_endpoint,
        "RECON_DBT_EXECUTABLE": str(paths.dbt_executable()),
        # the ingest DAGs: the loader, on the raw database and (read-only) on the product database
        "AIRFLOW_CONN_RECON_WAREHOUSE": _mysql_uri(cfg, settings.loader_user, cfg.loader_password, settings.raw_db),
        "AIRFLOW_CONN_RECON_PRODUCT_DB": _mysql_uri(cfg, settings.loader_user, cfg.loader_password,
                                                    settings.product_db),
        # the reconcile DAG (check_sources, the lock, the mart gate, summary, alerts) and `recon breaks`
        "AIRFLOW_CONN_RECON_TRANSFORMER": _mysql_uri(cfg, settings.transformer_user, cfg.transformer_password,
                                                     settings.dbt_db),
        # moto accepts any key; in production these come from the real connection
        "AIRFLOW_CONN_RECON_S3": f"aws://local:local@/?endpoint_url={endpoint}&region_name=us-east-1",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "recon.stack.airflow_home.SQLITE_CONNECT_ARGS",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "recon.stack.airflow_home.SQLITE_CONNECT_ARGS",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # the running Airflow of `make airflow` (recon.stack.airflow_services): every component must agree on the
        # API's address and on the secrets that sign task tokens and log requests
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": local_secret(cfg.stack_dir, AIRFLOW_JWT_SECRET_KEY, create=True),
        "AIRFLOW__API__SECRET_KEY": local_secret(cfg.stack_dir, AIRFLOW_SECRET_KEY, create=True),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{AIRFLOW_ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json"),
        # no phoning home from a closed network (cosmos and GX telemetry)
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_NO_ANALYTICS": "true",
        "GX_ANALYTICS_ENABLED": "False",
    }


def apply_environment() -> dict[str, str]:
    """Fill os.environ with the local stack's values; anything the user already set wins."""
    env = stack_environment()
    for key, value in env.items():
        os.environ.setdefault(key, value)
    return env
