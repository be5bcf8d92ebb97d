"""Static checks of docker-compose.yml, the Dockerfile and docker/: no Docker engine needed.

They keep the container stack in step with the code: the connection ids the package reads, its settings'
defaults, the least-privilege users it declares (recon.access), the folders it expects, the dbt virtualenv and the
Airflow version pinned in requirements.txt. Secrets have no default in docker-compose.yml (${VAR:?...}): every value
is checked as compose interpolates it with the .env that docker/generate-env.sh writes (run here, into a temporary
folder), i.e. what `docker compose up` uses after the documented first step.
"""
from __future__ import annotations

import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"
GENERATE_ENV = REPO / "docker" / "generate-env.sh"
# Variables holding a secret: no default anywhere committed (compose, .env.example), generated into .env
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET_KEY")

AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-init")
REQUIRED_SERVICES = (*AIRFLOW_SERVICES, "postgres", "mysql", "minio", "minio-init")
# Long-running services other services wait for (depends_on: service_healthy) need a healthcheck.
HEALTHCHECKED_SERVICES = ("postgres", "mysql", "minio", "airflow-apiserver", "airflow-scheduler",
                          "airflow-dag-processor", "airflow-triggerer")
ONE_SHOT_SERVICES = ("airflow-init", "minio-init")
AIRFLOW_HOME = PurePosixPath("/opt/airflow")
# Folders of the repository the Airflow containers need, and where they go in the container.
REQUIRED_MOUNTS = {"dags": AIRFLOW_HOME / "dags", "plugins": AIRFLOW_HOME / "plugins",
                   "dbt_project": AIRFLOW_HOME / "dbt_project"}
FALLBACK_CONNECTION_IDS = ("recon_warehouse", "recon_product_db", "recon_transformer", "recon_s3")
FALLBACK_NAMESPACE, FALLBACK_BUCKET = "recon", "recon-landing"
# connection id -> (user, the mysql service variable with its password, database): recon.access's users
MYSQL_CONNECTIONS = {"recon_warehouse": ("{ns}_loader", "RECON_LOADER_PASSWORD", "{ns}_raw"),
                     "recon_product_db": ("{ns}_loader", "RECON_LOADER_PASSWORD", "{ns}_product"),
                     "recon_transformer": ("{ns}_transformer", "RECON_TRANSFORMER_PASSWORD", "{ns}")}
RUNTIME_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
MYSQL_CONN_TYPES = {"mysql"}
S3_CONN_TYPES = {"aws", "s3"}


# ---------------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------------

def _import_recon(module: str):
    """Import recon.<module>, from the installed package or <repo>/plugins; None when it does not exist (yet)."""
    plugins = str(REPO / "plugins")
    if plugins not in sys.path:
        sys.path.insert(0, plugins)
    try:
        return __import__(f"recon.{module}", fromlist=[module])
    except ImportError:
        return None


class MissingVariable(AssertionError):
    """What `docker compose` does for ${VAR:?message} when VAR is unset: refuse, with the message."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}"
                            r"|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value, env: dict[str, str] | None = None):
    """Compose-style interpolation using the defaults (and `env`, empty by default: what a bare checkout gets)."""
    env = env or {}
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def repl(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3)
        current = env.get(name)
        if op in (":-", "-"):
            use_default = current is None or (op == ":-" and current == "")
            return interpolate(arg, env) if use_default else current
        if op in (":+", "+"):
            set_ = current is not None and (op == "+" or current != "")
            return interpolate(arg, env) if set_ else ""
        if op in (":?", "?"):
            if not current:
                raise MissingVariable(name, arg)
            return current
        return current or ""

    return _INTERPOLATION.sub(repl, value)


def variables_used(value) -> set[str]:
    """Names of the variables interpolated anywhere in the (parsed, not yet interpolated) compose data."""
    if isinstance(value, dict):
        return set().union(*(variables_used(k) | variables_used(v) for k, v in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(variables_used(v) for v in value)) if value else set()
    if not isinstance(value, str):
        return set()
    names = set()
    for m in _INTERPOLATION.finditer(value):
        if m.group(0) != "$$":
            names.add(m.group(1) or m.group(4))
            names |= variables_used(m.group(3) or "")
    return names


def as_env_dict(environment) -> dict[str, str]:
    if environment is None:
        return {}
    if isinstance(environment, list):
        out = {}
        for item in environment:
            key, _, value = item.partition("=")
            out[key] = value
        return out
    return {k: "" if v is None else str(v) for k, v in environment.items()}


def command_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host source, container target) of the service's bind mounts (short and long syntax)."""
    mounts = []
    for volume in service.get("volumes", []) or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
            continue
        parts = volume.split(":")
        if len(parts) >= 2 and parts[0].startswith((".", "/", "~")):
            mounts.append((parts[0], parts[1]))
    return mounts


def host_path(source: str) -> Path:
    return (REPO / source).resolve() if not source.startswith("/") else Path(source)


def parse_uri(conn_id: str, uri: str):
    """(conn_type, host, port, login, password, schema, extra), by the package's parser when it exists."""
    connections = _import_recon("connections")
    if connections is not None and hasattr(connections, "parse_conn"):
        info = connections.parse_conn(conn_id, uri)
        return (info.conn_type, info.host, info.port, info.login, info.password, info.schema, info.extra)
    parts = urlsplit(uri)
    return (parts.scheme.replace("-", "_"), parts.hostname, parts.port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            unquote(parts.path.lstrip("/")) or None, dict(parse_qsl(parts.query)))


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    instructions, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        current = ""
    return instructions


def dockerfile_args(instructions) -> dict[str, str]:
    """Defaults of every ARG (a later default for the same name does not override the first)."""
    args: dict[str, str] = {}
    for keyword, rest in instructions:
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args.setdefault(name.strip(), value.strip().strip('"'))
    return args


def substitute_args(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)",
                  lambda m: args.get(m.group(1) or m.group(2), m.group(0)), text)


# ---------------------------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose_text() -> str:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing: restore docker-compose.yml at the repository root"
    return COMPOSE_FILE.read_text()


def read_env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines()
                if "=" in line and not line.lstrip().startswith("#"))


def run_generate_env(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(GENERATE_ENV), str(target)], capture_output=True, text=True, check=True)


@pytest.fixture(scope="module")
def dot_env(tmp_path_factory) -> dict[str, str]:
    """The .env the documented first step writes (docker/generate-env.sh), as compose reads it."""
    target = tmp_path_factory.mktemp("compose") / ".env"
    run_generate_env(target)
    return read_env_file(target)


@pytest.fixture(scope="module")
def compose(compose_text, dot_env) -> dict:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), \
        "docker-compose.yml must be a mapping with a `services:` section"
    return interpolate(data, dot_env)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing: restore the Dockerfile at the repository root"
    return dockerfile_instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def dockerfile_runs(dockerfile) -> list[str]:
    args = dockerfile_args(dockerfile)
    return [substitute_args(rest, args) for keyword, rest in dockerfile if keyword == "RUN"]


@pytest.fixture(scope="module")
def airflow_env(services) -> dict[str, str]:
    return as_env_dict(services["airflow-scheduler"].get("environment"))


@pytest.fixture(scope="module")
def connection_ids() -> tuple[str, ...]:
    connections = _import_recon("connections")
    ids = getattr(connections, "CONNECTION_IDS", None) if connections is not None else None
    return tuple(ids) if ids else FALLBACK_CONNECTION_IDS


@pytest.fixture()
def setting_defaults(monkeypatch) -> tuple[str, str]:
    """(namespace, bucket) the package uses when RECON_NAMESPACE / RECON_S3_BUCKET are unset."""
    settings = _import_recon("settings")
    if settings is None or not hasattr(settings, "load_settings"):
        return FALLBACK_NAMESPACE, FALLBACK_BUCKET
    monkeypatch.delenv("RECON_NAMESPACE", raising=False)
    monkeypatch.delenv("RECON_S3_BUCKET", raising=False)
    loaded = settings.load_settings()
    return loaded.namespace, loaded.bucket


def requirement_pin(path: Path, name: str) -> str:
    for line in path.read_text().splitlines():
        m = re.match(rf"^\s*{re.escape(name)}\s*==\s*([^\s;#]+)", line, re.IGNORECASE)
        if m:
            return m.group(1)
    raise AssertionError(f"{path.name} has no exact pin `{name}==X`: pin it (the Docker image tag follows it)")


# ---------------------------------------------------------------------------------------------------------------
# services
# ---------------------------------------------------------------------------------------------------------------

def test_required_services_exist(services):
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"docker-compose.yml lacks the services {missing}: add them (see Airflow's official compose)"


def test_airflow_services_use_the_image_built_from_the_dockerfile(services):
    images = set()
    for name in AIRFLOW_SERVICES:
        build = services[name].get("build")
        assert build is not None, f"service {name} must build the repository's Dockerfile: add `build: {{context: .}}`"
        if isinstance(build, str):
            build = {"context": build}
        context = host_path(build.get("context", "."))
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.resolve() == DOCKERFILE.resolve(), \
            f"service {name} builds {dockerfile}, not {DOCKERFILE}: set build.context to `.` (the repository root)"
        images.add(services[name].get("image"))
    assert len(images) == 1 and None not in images, \
        f"the Airflow services name different images {images}: give them one `image:` (via the x-airflow-common anchor)"


def test_airflow_runs_localexecutor_without_examples(airflow_env, services):
    for name in AIRFLOW_SERVICES:
        env = as_env_dict(services[name].get("environment"))
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "LocalExecutor", \
            f"service {name}: set AIRFLOW__CORE__EXECUTOR: LocalExecutor"
        assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() == "false", \
            f"service {name}: set AIRFLOW__CORE__LOAD_EXAMPLES: 'false'"
        assert "postgres" in env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""), \
            f"service {name}: point AIRFLOW__DATABASE__SQL_ALCHEMY_CONN at the postgres service"


def test_components_run_their_airflow_commands(services):
    expected = {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer"}
    for name, command in expected.items():
        assert command_text(services[name].get("command")).strip() == command, \
            f"service {name} must run `{command}`: set `command: {command}`"
    ports = [str(p) for p in services["airflow-apiserver"].get("ports", [])]
    assert any(p.split(":")[-1].split("/")[0] == "8080" for p in ports), \
        "airflow-apiserver must publish container port 8080: add `ports: [\"8080:8080\"]`"
    api_url = as_env_dict(services["airflow-scheduler"]["environment"]).get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
                                                                          "")
    assert urlsplit(api_url).hostname == "airflow-apiserver", \
        "set AIRFLOW__CORE__EXECUTION_API_SERVER_URL to http://airflow-apiserver:8080/execution/ (tasks report there)"


def test_init_migrates_and_sets_up_the_admin_login(services):
    init = services["airflow-init"]
    env = as_env_dict(init.get("environment"))
    assert env.get("_AIRFLOW_DB_MIGRATE", "").lower() == "true", \
        "airflow-init: set _AIRFLOW_DB_MIGRATE: 'true' (the image entrypoint then runs `airflow db migrate`)"
    assert "/entrypoint" in command_text(init.get("command")), \
        "airflow-init must call /entrypoint (which performs the migration) like the official compose file"
    assert re.match(r"^[^:,]+:admin$", env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "")), \
        "set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS to `<user>:admin` (Airflow 3's SimpleAuthManager)"
    passwords_file = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "")
    assert passwords_file, "set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE so airflow-init can write the login"
    def mounts(service: dict) -> set[tuple[str, str]]:
        return {tuple(v.split(":")[:2]) for v in service.get("volumes", []) if isinstance(v, str) and ":" in v}

    shared = [target for _, target in mounts(init) & mounts(services["airflow-apiserver"])
              if passwords_file.startswith(target.rstrip("/") + "/")]
    assert shared, (f"the password file {passwords_file} must be on a volume mounted in both airflow-init and "
                    "airflow-apiserver: mount the same named volume in both")


def test_init_calls_recon_entry_points_that_exist(services):
    """airflow-init creates the tables and the dbt manifest through the package: those names must exist."""
    if _import_recon("paths") is None and not (REPO / "plugins" / "recon").is_dir():
        pytest.skip("the recon package is not importable here: nothing to check the init commands against")
    script = command_text(services["airflow-init"].get("command"))
    imports = re.findall(r"from recon(?:\.(\w+))? import (\w+)", script)
    assert imports, "airflow-init should call the recon package (tables, dbt manifest) via `from recon... import`"
    for module, name in imports:
        target = _import_recon(module) if module else _import_recon(name)
        assert target is not None, \
            f"airflow-init imports {'recon.' + module if module else 'recon.' + name}, which does not import: fix it"
        if module:
            assert hasattr(target, name), f"airflow-init imports {name} from recon.{module}, which lacks it"
    warehouse = _import_recon("warehouse")
    for func in re.findall(r"warehouse\.(\w+)\(", script):
        assert warehouse is not None and callable(getattr(warehouse, func, None)), \
            f"airflow-init calls recon.warehouse.{func}(), which does not exist: update docker-compose.yml"
    cli = _import_recon("cli")
    for command in re.findall(r"main\(\[\"([\w-]+)\"", script):
        assert cli is not None, "airflow-init runs recon.cli.main, but recon.cli does not import"
        parser = cli.build_parser()
        choices = next(a.choices for a in parser._subparsers._group_actions if a.choices)  # noqa: SLF001
        assert command in choices, f"airflow-init runs `recon {command}`, which the CLI lacks: update docker-compose.yml"


def test_healthchecks_and_dependency_conditions(services):
    for name in HEALTHCHECKED_SERVICES:
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), \
            f"service {name} needs a healthcheck: others wait for it with condition service_healthy"
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        for target, spec in depends.items():
            assert target in services, f"service {name} depends on unknown service {target}: fix depends_on"
            condition = (spec or {}).get("condition", "service_started")
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), \
                    f"{name} waits for {target} to be healthy but {target} has no healthcheck: add one"
            if target in ONE_SHOT_SERVICES:
                assert condition == "service_completed_successfully", \
                    f"{name} must wait for the one-shot {target} with condition service_completed_successfully"
    for name in AIRFLOW_SERVICES:
        depends = services[name].get("depends_on") or {}
        for needed, condition in (("postgres", "service_healthy"), ("mysql", "service_healthy"),
                                  ("minio-init", "service_completed_successfully")):
            assert (depends.get(needed) or {}).get("condition") == condition, \
                f"service {name} must depend on {needed} with condition {condition}"
        if name != "airflow-init":
            assert (depends.get("airflow-init") or {}).get("condition") == "service_completed_successfully", \
                f"service {name} must wait for airflow-init (condition service_completed_successfully)"


# ---------------------------------------------------------------------------------------------------------------
# connections and settings
# ---------------------------------------------------------------------------------------------------------------

def test_every_connection_the_code_needs_is_set(services, connection_ids):
    for name in AIRFLOW_SERVICES:
        env = as_env_dict(services[name].get("environment"))
        missing = [cid for cid in connection_ids if not env.get(f"AIRFLOW_CONN_{cid.upper()}")]
        assert not missing, (f"service {name} lacks {['AIRFLOW_CONN_' + c.upper() for c in missing]}: add them to "
                             "x-airflow-common's environment (ids from recon.connections.CONNECTION_IDS)")


def test_connection_uris_point_at_compose_services(services, airflow_env, connection_ids, setting_defaults):
    namespace, _ = setting_defaults
    mysql_env = as_env_dict(services["mysql"].get("environment"))
    minio_env = as_env_dict(services["minio"].get("environment"))
    for cid in connection_ids:
        uri = airflow_env.get(f"AIRFLOW_CONN_{cid.upper()}")
        if not uri:
            continue  # reported by test_every_connection_the_code_needs_is_set
        conn_type, host, port, login, password, schema, extra = parse_uri(cid, uri)
        if conn_type in MYSQL_CONN_TYPES:
            assert host in services and host == "mysql", \
                f"AIRFLOW_CONN_{cid.upper()} points at host {host!r}: use the compose service `mysql`"
            assert port in (None, 3306), f"AIRFLOW_CONN_{cid.upper()}: use the container port 3306, not {port}"
            user, password_var, database = MYSQL_CONNECTIONS.get(cid, ("?", "?", "?"))
            user, database = user.format(ns=namespace), database.format(ns=namespace)
            assert (login, password) == (user, mysql_env.get(password_var)), \
                (f"AIRFLOW_CONN_{cid.upper()} must log in as {user}, with the mysql service's {password_var} "
                 f"(recon.access: each connection as the user of its job, never the admin MYSQL_USER)")
            assert login != mysql_env.get("MYSQL_USER") and password != mysql_env.get("MYSQL_PASSWORD")
            assert schema == database, f"AIRFLOW_CONN_{cid.upper()}'s database must be {database}, not {schema!r}"
        elif conn_type in S3_CONN_TYPES:
            endpoint = extra.get("endpoint_url", "")
            endpoint_host = urlsplit(endpoint).hostname
            assert endpoint_host in services and endpoint_host == "minio", \
                f"AIRFLOW_CONN_{cid.upper()}'s endpoint_url {endpoint!r} must be http://minio:9000 (url-encoded)"
            assert (login, password) == (minio_env.get("MINIO_ROOT_USER"), minio_env.get("MINIO_ROOT_PASSWORD")), \
                f"AIRFLOW_CONN_{cid.upper()}'s key/secret must be minio's MINIO_ROOT_USER/MINIO_ROOT_PASSWORD"
        else:
            assert host in services, \
                f"AIRFLOW_CONN_{cid.upper()} ({conn_type}) points at {host!r}, which is not a compose service"
    schemas = {parse_uri(c, airflow_env[f"AIRFLOW_CONN_{c.upper()}"])[5] for c in connection_ids
               if airflow_env.get(f"AIRFLOW_CONN_{c.upper()}")}
    assert f"{namespace}_raw" in schemas and f"{namespace}_product" in schemas, \
        (f"the MySQL connections must use {namespace}_raw (warehouse) and {namespace}_product (product db); "
         f"got {sorted(s for s in schemas if s)}")


def test_recon_settings_match_the_package_and_the_services(airflow_env, services, setting_defaults):
    namespace, bucket = setting_defaults
    assert airflow_env.get("RECON_NAMESPACE") == namespace, \
        f"RECON_NAMESPACE's default in docker-compose.yml must be the package's default {namespace!r}"
    assert airflow_env.get("RECON_S3_BUCKET") == bucket, \
        f"RECON_S3_BUCKET's default in docker-compose.yml must be the package's default {bucket!r}"
    mysql_env = as_env_dict(services["mysql"].get("environment"))
    assert airflow_env.get("RECON_DB_HOST") == "mysql" and airflow_env.get("RECON_DB_PORT") == "3306", \
        "dbt's RECON_DB_HOST/RECON_DB_PORT must be mysql/3306 (the compose service)"
    transformer = parse_uri("recon_transformer", airflow_env.get("AIRFLOW_CONN_RECON_TRANSFORMER", "mysql://x"))
    assert (airflow_env.get("RECON_TRANSFORMER_USER"), airflow_env.get("RECON_TRANSFORMER_PASSWORD")) == \
        (f"{namespace}_transformer", mysql_env.get("RECON_TRANSFORMER_PASSWORD")) == transformer[3:5], \
        "dbt's RECON_TRANSFORMER_USER/PASSWORD must be the transformer's, as in AIRFLOW_CONN_RECON_TRANSFORMER"
    init_env = as_env_dict(services["airflow-init"].get("environment"))
    assert (init_env.get("RECON_DB_USER"), init_env.get("RECON_DB_PASSWORD")) == \
        (mysql_env.get("MYSQL_USER"), mysql_env.get("MYSQL_PASSWORD")), \
        "airflow-init's RECON_DB_USER/RECON_DB_PASSWORD (the setup's admin login) must be the mysql MYSQL_USER's"
    assert mysql_env.get("RECON_NAMESPACE") == namespace, \
        "pass RECON_NAMESPACE to the mysql service too: docker/mysql/init names the databases from it"
    for key in ("RECON_DBT_PROFILES_DIR", "RECON_DBT_PROJECT_DIR"):
        if key in airflow_env:
            assert airflow_env[key] == str(REQUIRED_MOUNTS["dbt_project"]), \
                f"{key} must be {REQUIRED_MOUNTS['dbt_project']} (where ./dbt_project is mounted)"
    assert airflow_env.get("RECON_DBT_EXECUTABLE"), "set RECON_DBT_EXECUTABLE to the dbt of the image's dbt venv"
    profiles = REPO / "dbt_project" / "profiles.yml"
    if profiles.exists() and "RECON_DBT_ADAPTER" in profiles.read_text():
        image = str(services["mysql"].get("image", ""))
        expected = "mariadb" if image.startswith("mariadb") else "mysql"
        assert airflow_env.get("RECON_DBT_ADAPTER") == expected, \
            f"the database service runs {image}: set RECON_DBT_ADAPTER: {expected} for dbt (profiles.yml reads it)"


def test_env_example_lists_every_compose_variable(compose_text):
    assert ENV_EXAMPLE.is_file(), f"{ENV_EXAMPLE.name} is missing: document docker-compose.yml's variables in it"
    documented = {line.split("=", 1)[0].strip() for line in ENV_EXAMPLE.read_text().splitlines()
                  if "=" in line and not line.lstrip().startswith("#")}
    undocumented = sorted(variables_used(yaml.safe_load(compose_text)) - documented)
    assert not undocumented, f"docker-compose.yml reads {undocumented}: add them to .env.example with their default"


# ---------------------------------------------------------------------------------------------------------------
# mounts, MySQL, MinIO
# ---------------------------------------------------------------------------------------------------------------

def test_mounted_folders_exist_in_the_repo(services):
    for name, service in services.items():
        for source, target in bind_mounts(service):
            if source.startswith("."):
                assert host_path(source).exists(), \
                    f"service {name} mounts {source}, which does not exist in the repository: create it or fix the path"
    for name in AIRFLOW_SERVICES:
        mounts = {PurePosixPath(t): host_path(s) for s, t in bind_mounts(services[name])}
        for folder, target in REQUIRED_MOUNTS.items():
            assert mounts.get(target) == (REPO / folder).resolve(), \
                f"service {name} must mount ./{folder} at {target}: add `- ./{folder}:{target}`"


def test_mysql_allows_load_data_local_infile(services):
    mysql = services["mysql"]
    command = command_text(mysql.get("command")).replace("_", "-").lower()
    assert re.search(r"--local-infile(=(1|on|true))?(\s|$)", command), \
        "start mysql with `--local-infile=1`: the loader uses LOAD DATA LOCAL INFILE"
    assert str(mysql.get("image", "")).startswith("mysql:8.4"), "use the mysql:8.4 image for the mysql service"


def test_mysql_init_creates_the_recon_databases(services, setting_defaults):
    mounts = dict((t, s) for s, t in bind_mounts(services["mysql"]))
    source = mounts.get("/docker-entrypoint-initdb.d")
    assert source, "mount docker/mysql/init at /docker-entrypoint-initdb.d in the mysql service"
    folder = host_path(source)
    scripts = sorted(p for p in folder.iterdir() if p.suffix in (".sql", ".sh")) if folder.is_dir() else [folder]
    assert scripts, f"{folder} has no .sql/.sh init script: add one creating the recon databases"
    text = "\n".join(p.read_text() for p in scripts)
    namespace, _ = setting_defaults
    for suffix in ("_raw", "_marts", "_product"):
        assert re.search(rf"CREATE DATABASE[^;]*(\$\{{ns\}}|{namespace}){suffix}\b", text), \
            f"the mysql init script must create the {namespace}{suffix} database"
    assert "GRANT" in text.upper(), "the mysql init script must grant the recon user access to its databases"


def _mysql_init_text(services) -> str:
    mounts = dict((t, s) for s, t in bind_mounts(services["mysql"]))
    folder = host_path(mounts.get("/docker-entrypoint-initdb.d", "docker/mysql/init"))
    scripts = sorted(p for p in folder.iterdir() if p.suffix in (".sql", ".sh")) if folder.is_dir() else [folder]
    return "\n".join(p.read_text() for p in scripts)


def test_mysql_init_creates_the_read_only_analyst_user(compose_text, services):
    """The analysts' user: named like the package names it, SELECT and SHOW VIEW on <ns>_marts only, its password
    from RECON_ANALYST_PASSWORD with no literal default anywhere (compose, .env.example)."""
    raw_mysql_env = as_env_dict(yaml.safe_load(compose_text)["services"]["mysql"].get("environment"))
    assert re.fullmatch(r"\$\{RECON_ANALYST_PASSWORD(:?\?[^}]*)?\}", raw_mysql_env.get("RECON_ANALYST_PASSWORD", "")), \
        "pass RECON_ANALYST_PASSWORD to the mysql service as ${RECON_ANALYST_PASSWORD:?...}: no literal default secret"
    example = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
                   if "=" in line and not line.lstrip().startswith("#"))
    assert example.get("RECON_ANALYST_PASSWORD", "x").strip() == "", \
        ".env.example must list RECON_ANALYST_PASSWORD= empty (no committed default for the analyst's password)"
    text = _mysql_init_text(services)
    assert "RECON_ANALYST_PASSWORD" in text, "the mysql init script must read the analyst password from the env"
    name = "${ns}_analyst"
    settings = _import_recon("settings")
    if settings is not None and hasattr(getattr(settings, "Settings", None), "analyst_user"):
        name = settings.Settings(namespace="NSX", bucket="b").analyst_user.replace("NSX", "${ns}")
    assert re.search(rf'^\s*analyst="{re.escape(name)}"', text, re.M), \
        f"the mysql init script must name the analyst user {name} (as recon.settings does)"
    grants = re.findall(r"^\s*GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s+'\$\{analyst\}'", text, re.M | re.I)
    assert len(grants) == 1, f"grant the analyst user exactly one thing (SELECT, SHOW VIEW on the marts): {grants}"
    privileges, target = grants[0]
    expected = {"SELECT", "SHOW VIEW"}
    access = _import_recon("access")
    if access is not None and hasattr(access, "ANALYST_PRIVILEGES"):
        expected = set(access.ANALYST_PRIVILEGES)
    assert {p.strip().upper() for p in privileges.split(",")} == expected, \
        f"the analyst user may only {sorted(expected)}, not {privileges}"
    variable = re.search(r"\$\{(\w+)\}", target)
    if variable:  # the database comes from a variable of the script: look at how it is set
        target = " ".join(re.findall(rf'^\s*{variable.group(1)}="([^"]*)"', text, re.M)) + ".*"
    assert target.endswith(".*") and re.search(r"_marts\b", target), \
        f"grant on the marts database (<ns>_marts.*), not {target}"
    assert re.search(r"REVOKE ALL PRIVILEGES, GRANT OPTION FROM '\$\{analyst\}'", text), \
        "revoke everything else from the analyst user before granting (a re-run leaves exactly the grant above)"


def test_minio_init_creates_the_default_bucket(services, setting_defaults):
    _, bucket = setting_defaults
    init = services["minio-init"]
    env = as_env_dict(init.get("environment"))
    assert "mc" in str(init.get("image", "")), "minio-init must use the minio/mc image"
    assert env.get("RECON_S3_BUCKET") == bucket, \
        f"minio-init must get RECON_S3_BUCKET with the package's default {bucket!r}"
    script = command_text(init.get("entrypoint")) + " " + command_text(init.get("command"))
    for source, target in bind_mounts(init):
        if target in script and host_path(source).is_file():
            script += "\n" + host_path(source).read_text()
    assert re.search(r"\bmc\s+mb\b", script), "minio-init must create the bucket with `mc mb`"
    assert "RECON_S3_BUCKET" in script, "minio-init must name the bucket from RECON_S3_BUCKET, not a literal"
    minio_health = command_text((services["minio"].get("healthcheck") or {}).get("test"))
    assert minio_health, "minio needs a healthcheck (e.g. `mc ready local`) for minio-init to wait on"


# ---------------------------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------------------------

def test_image_tag_matches_the_airflow_pin(dockerfile):
    pin = requirement_pin(REPO / "requirements.txt", "apache-airflow")
    args = dockerfile_args(dockerfile)
    froms = [substitute_args(rest, args).split()[0] for keyword, rest in dockerfile if keyword == "FROM"]
    assert froms, "the Dockerfile has no FROM: start from apache/airflow:<version>-python3.11"
    image = froms[-1]
    m = re.match(r"^(?:docker\.io/)?apache/airflow:(?:slim-)?(\d+\.\d+\.\d+)(?:-python(\d+\.\d+))?$", image)
    assert m, f"the Dockerfile's final stage starts FROM {image}: use apache/airflow:{pin}-python3.11"
    assert m.group(1) == pin, \
        f"the Dockerfile uses Airflow {m.group(1)} but requirements.txt pins apache-airflow=={pin}: make them equal"
    if "AIRFLOW_VERSION" in args:
        assert args["AIRFLOW_VERSION"] == pin, \
            f"ARG AIRFLOW_VERSION={args['AIRFLOW_VERSION']} differs from requirements.txt's apache-airflow=={pin}"


def _venv_path(runs: list[str]) -> str:
    for run in runs:
        m = re.search(r"-m\s+venv\s+(?:--\S+\s+)*\"?([^\s\"&;]+)", run)
        if m:
            return m.group(1)
    raise AssertionError("the Dockerfile creates no dbt virtualenv: add `RUN python -m venv /opt/dbt-venv`")


def test_dockerfile_installs_both_requirement_files(dockerfile, dockerfile_runs):
    copied = " ".join(rest for keyword, rest in dockerfile if keyword in ("COPY", "ADD"))
    for name in ("requirements.txt", "requirements-dbt.txt"):
        assert re.search(rf"(^|[\s/]){re.escape(name)}(\s|$)", copied), f"the Dockerfile must COPY {name}"
    venv = _venv_path(dockerfile_runs)
    dbt_installs = [r for r in dockerfile_runs if re.search(r"-r\s+\S*requirements-dbt\.txt", r)]
    assert dbt_installs, "the Dockerfile must `pip install -r requirements-dbt.txt`"
    assert all(f"{venv}/bin/pip" in r or f"{venv}/bin/python" in r for r in dbt_installs), \
        f"install requirements-dbt.txt with {venv}/bin/pip (the dbt venv), never into Airflow's environment"
    airflow_installs = [r for r in dockerfile_runs if re.search(r"-r\s+\S*requirements\.txt", r)]
    assert airflow_installs, "the Dockerfile must `pip install -r requirements.txt` (Airflow's environment)"
    for run in airflow_installs:
        segment = next(part for part in run.split("&&") if re.search(r"requirements\.txt", part))
        assert f"{venv}/" not in segment, "install requirements.txt with the image's pip, not the dbt venv's"


def test_dbt_venv_is_where_recon_dbt_executable_points(dockerfile_runs, airflow_env):
    venv = PurePosixPath(_venv_path(dockerfile_runs))
    executable = PurePosixPath(airflow_env.get("RECON_DBT_EXECUTABLE", ""))
    assert executable.parent == venv / "bin" and executable.name == "dbt", \
        f"RECON_DBT_EXECUTABLE is {executable} but the Dockerfile's dbt venv is {venv}: set it to {venv}/bin/dbt"


def test_dockerfile_installs_the_recon_package_and_copies_the_project(dockerfile, dockerfile_runs):
    copied = [shlex.split(rest) for keyword, rest in dockerfile if keyword == "COPY"]
    sources = {PurePosixPath(p).as_posix().rstrip("/") for parts in copied
               for p in [q for q in parts if not q.startswith("--")][:-1]}
    for needed in ("pyproject.toml", "plugins", "dags", "dbt_project"):
        assert needed in sources, f"the Dockerfile must COPY {needed}"
    assert any(re.search(r"pip install\b.*--no-deps\b", r) for r in dockerfile_runs), \
        "install the recon package with `pip install --no-deps` (its dependencies come from requirements.txt)"
    pin = requirement_pin(REPO / "requirements.txt", "apache-airflow")
    for run in dockerfile_runs:
        for version in re.findall(r"apache-airflow==([\w.]+)", run):
            assert version == pin, \
                f"the Dockerfile installs apache-airflow=={version} but requirements.txt pins {pin}: make them equal"


def test_python_version_of_the_image_satisfies_the_package():
    pyproject = (REPO / "pyproject.toml").read_text() if (REPO / "pyproject.toml").exists() else ""
    m = re.search(r'requires-python\s*=\s*">=\s*(\d+)\.(\d+)', pyproject)
    instructions = dockerfile_instructions(DOCKERFILE.read_text())
    args = dockerfile_args(instructions)
    image = [substitute_args(rest, args) for keyword, rest in instructions if keyword == "FROM"][-1]
    py = re.search(r"-python(\d+)\.(\d+)", image)
    if m and py:
        assert (int(py.group(1)), int(py.group(2))) >= (int(m.group(1)), int(m.group(2))), \
            f"the image's Python {py.group(1)}.{py.group(2)} is older than pyproject's requires-python: raise the tag"


def test_helper_scripts_are_sh_compatible_files():
    for path in (REPO / "docker").rglob("*.sh"):
        first = path.read_text().splitlines()[0] if path.read_text() else ""
        assert first.startswith("#!"), f"{path.relative_to(REPO)} needs a shebang line"
        assert "\r" not in path.read_text(), f"{path.relative_to(REPO)} has CRLF line endings: use LF"


# ---------------------------------------------------------------------------------------------------------------
# secrets and database users
# ---------------------------------------------------------------------------------------------------------------

def _secret_uses(value, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(variable, how it is interpolated) for every secret variable used in the parsed compose data."""
    if isinstance(value, dict):
        for k, v in value.items():
            _secret_uses(k, found)
            _secret_uses(v, found)
    elif isinstance(value, list):
        for v in value:
            _secret_uses(v, found)
    elif isinstance(value, str):
        for m in _INTERPOLATION.finditer(value):
            name = m.group(1) or m.group(4)
            if name and SECRET_NAME.search(name):
                found.append((name, m.group(0)))
    return found


def test_no_secret_has_a_default_in_compose_or_env_example(compose_text):
    uses = _secret_uses(yaml.safe_load(compose_text), [])
    names = {name for name, _ in uses}
    for needed in ("POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD",
                   "RECON_DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "RECON_LOADER_PASSWORD",
                   "RECON_TRANSFORMER_PASSWORD", "RECON_ANALYST_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert needed in names, f"docker-compose.yml does not use {needed} (the secret scan checks this list)"
    for name, text in uses:
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]*generate-env\.sh[^}}]*\}}", text), \
            (f"{text}: a secret takes no default; write ${{{name}:?run docker/generate-env.sh to write .env}} so "
             "compose refuses to start without it and says how to make it")
    example = read_env_file(ENV_EXAMPLE)
    committed = {k: v for k, v in example.items() if SECRET_NAME.search(k) and v.strip()}
    assert not committed, f".env.example must leave every secret empty (docker/generate-env.sh fills them): {committed}"


def test_without_a_dot_env_compose_refuses_to_start_and_says_how_to_make_one(compose_text):
    with pytest.raises(MissingVariable) as refused:
        interpolate(yaml.safe_load(compose_text), {})
    assert SECRET_NAME.search(refused.value.name) and "docker/generate-env.sh" in refused.value.message


def test_generate_env_fills_every_secret_once_and_keeps_them(tmp_path):
    target = tmp_path / ".env"
    first = run_generate_env(target)
    values = read_env_file(target)
    secrets = {k: v for k, v in values.items() if SECRET_NAME.search(k)}
    assert secrets and all(secrets.values()), f"secrets left empty: {[k for k, v in secrets.items() if not v]}"
    assert set(secrets) >= {k for k in read_env_file(ENV_EXAMPLE) if SECRET_NAME.search(k)}
    assert len(set(secrets.values())) == len(secrets), "every secret gets its own value"
    for key, value in secrets.items():
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}={0,2}", value), f"{key} is not a long URL-safe random value"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600, ".env holds secrets: mode 600"
    assert not any(value in first.stdout + first.stderr for value in secrets.values()), "secrets printed"
    assert {k: v for k, v in values.items() if not SECRET_NAME.search(k)} == \
        {k: v for k, v in read_env_file(ENV_EXAMPLE).items() if not SECRET_NAME.search(k)}
    run_generate_env(target)
    assert read_env_file(target) == values, "a second run must keep the values (the volumes were made with them)"
    fernet = secrets["AIRFLOW__CORE__FERNET_KEY"]
    import base64
    assert len(base64.urlsafe_b64decode(fernet)) == 32, "AIRFLOW__CORE__FERNET_KEY must be a Fernet key"


def test_gitignore_keeps_dot_env_out_of_git():
    patterns = [line.strip() for line in (REPO / ".gitignore").read_text().splitlines()]
    assert ".env" in patterns, "add .env to .gitignore: it holds the generated secrets"
    assert "!.env.example" in patterns or ".env.*" not in patterns


def test_only_the_setup_gets_the_admin_login(services, dot_env):
    """The long-running Airflow services (tasks, dbt) get the loader's and transformer's credentials only."""
    admin_secrets = {dot_env["RECON_DB_PASSWORD"]: "RECON_DB_PASSWORD", dot_env["MYSQL_ROOT_PASSWORD"]:
                     "MYSQL_ROOT_PASSWORD"}
    for name in RUNTIME_SERVICES:
        env = as_env_dict(services[name].get("environment"))
        leaked = {admin_secrets[s] for s in admin_secrets for value in env.values() if s in value}
        assert not leaked, f"service {name} gets the admin secrets {leaked}: only airflow-init (and airflow-cli) may"
        assert "RECON_DB_PASSWORD" not in env and "RECON_DB_USER" not in env, name
    init_script = command_text(services["airflow-init"].get("command"))
    assert 'main(["stack", "init"])' in init_script, "airflow-init must run `recon stack init` (tables and grants)"
    cli = _import_recon("cli")
    if cli is not None:
        stack = next(a for a in cli.build_parser()._subparsers._group_actions[0].choices["stack"]._actions  # noqa: SLF001
                     if a.dest == "action")
        assert "init" in stack.choices


def _script_grants(text: str, var: str) -> list[tuple[set[str], str]]:
    grants = []
    for privileges, target in re.findall(rf"^\s*GRANT\s+(.+?)\s+ON\s+(\S+)\s+TO\s+'\$\{{{var}\}}'", text, re.M | re.I):
        privileges = re.sub(r"\$\{(\w+)\}", lambda m: " ".join(re.findall(rf'^\s*{m.group(1)}="([^"]*)"', text,
                                                                            re.M)), privileges)
        variable = re.search(r"\$\{(\w+)\}", target)
        if variable:
            target = " ".join(re.findall(rf'^\s*{variable.group(1)}="([^"]*)"', text, re.M))
        grants.append(({p.strip().upper() for p in privileges.split(",")}, target))
    return grants


def test_mysql_init_creates_the_loader_and_transformer_users(services):
    """Their database-level grants are the ones recon.access declares; the table grants on <ns>_raw need the
    tables, so airflow-init's `recon stack init` adds them (and resets everything to exactly the declared set)."""
    text = _mysql_init_text(services)
    access, settings = _import_recon("access"), _import_recon("settings")
    if access is None or settings is None:
        pytest.skip("recon.access is not importable here")
    s = settings.Settings(namespace="NSX", bucket="b")
    roles = access.roles(s, ())
    for role, var in ((access.LOADER, "loader"), (access.TRANSFORMER, "transformer")):
        name = getattr(s, f"{var}_user").replace("NSX", "${ns}")
        assert re.search(rf'^\s*{var}="{re.escape(name)}"', text, re.M), f"the init script must name {name}"
        assert re.search(rf"REVOKE ALL PRIVILEGES, GRANT OPTION FROM '\$\{{{var}\}}'", text)
        assert f"RECON_{var.upper()}_PASSWORD" in text
        declared = {(frozenset(g.privileges), g.database.replace("NSX", "")) for g in roles[role].grants
                    if g.table is None}
        found = {(frozenset(p), t.replace("${ns//_/\\\\_}", "").replace("\\\\_", "_"))
                 for p, t in _script_grants(text, var)}
        assert found == declared, f"{var}: the init script grants {found}, recon.access declares {declared}"
