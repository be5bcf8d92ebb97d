"""Which namespace the benchmark runs in. It empties that namespace's databases and bucket (more than once), so it
never runs in the demo's default namespace `recon`: unless RECON_NAMESPACE names another namespace when `recon`
starts, it uses its own, `bench` (databases bench_*, bucket recon-bench, Airflow home .stack/airflow-bench)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from recon import paths

DEFAULT_NAMESPACE = "recon"  # the demo's (recon.settings); the benchmark never uses it
BENCH_NAMESPACE = "bench"
KEYS = ("RECON_NAMESPACE", "RECON_S3_BUCKET", "AIRFLOW_HOME")


@dataclass(frozen=True)
class Namespace:
    name: str
    bucket: str
    airflow_home: str


def snapshot(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The namespace settings as the user set them, taken before the stack's defaults fill the environment."""
    environ = os.environ if environ is None else environ
    return {key: environ[key] for key in KEYS if environ.get(key)}


def resolve(requested: str | None, before: Mapping[str, str]) -> Namespace:
    """--namespace, else the user's RECON_NAMESPACE unless it is the demo's, else `bench`. Bucket and Airflow home
    are the user's when the namespace is theirs, else derived from the namespace."""
    users = before.get("RECON_NAMESPACE")
    name = requested or (users if users and users != DEFAULT_NAMESPACE else BENCH_NAMESPACE)
    if name == DEFAULT_NAMESPACE:
        raise ValueError(f"the benchmark empties its namespace's databases and bucket: not in the demo's namespace "
                         f"{DEFAULT_NAMESPACE!r}; use --namespace (default {BENCH_NAMESPACE!r})")
    theirs = name == users
    slug = name.replace("_", "-").lower()
    bucket = before["RECON_S3_BUCKET"] if theirs and before.get("RECON_S3_BUCKET") else f"recon-{slug}"
    home = (before["AIRFLOW_HOME"] if theirs and before.get("AIRFLOW_HOME")
            else str(paths.stack_dir() / f"airflow-{slug}"))
    return Namespace(name=name, bucket=bucket, airflow_home=home)


def use(namespace: Namespace) -> None:
    """Point this process (and every process it starts) at `namespace`: the three settings, and every value the
    stack derives from them (connections, Airflow paths) computed again. A value the user set to something else
    than the stack's default is kept."""
    from recon.stack.config import apply_environment, stack_environment

    derived = stack_environment()
    for key, value in derived.items():
        if os.environ.get(key) == value:
            del os.environ[key]
    os.environ["RECON_NAMESPACE"] = namespace.name
    os.environ["RECON_S3_BUCKET"] = namespace.bucket
    os.environ["AIRFLOW_HOME"] = namespace.airflow_home
    apply_environment()
