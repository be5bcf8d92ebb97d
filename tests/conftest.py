"""Test settings: the tests use their own namespace (databases rtest_*), bucket and Airflow home on the same
local stack as the demo, so `make test` never disturbs the demo's data and vice versa."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("RECON_NAMESPACE", "rtest")
os.environ.setdefault("RECON_S3_BUCKET", "recon-test")
os.environ.setdefault("AIRFLOW_HOME", str(REPO / ".stack" / "airflow-test"))

from recon.stack.config import apply_environment  # noqa: E402  (env first: Airflow reads it at import)

apply_environment()

SHARED_SAMPLES = REPO.parent / "shared" / "samples"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def stack() -> None:
    """The local stack, up and initialised for the test namespace (idempotent: reuses running servers)."""
    from recon.stack import manager

    manager.up()


@pytest.fixture()
def clean_namespace(stack: None) -> None:
    """Empty test databases and bucket before a test that needs a blank slate."""
    from recon.stack import manager

    manager.reset()


@pytest.fixture(scope="session")
def five_days(tmp_path_factory, stack) -> Path:
    """The e2e session's data (tests/e2e/e2e_data.py): 6 generated days (seed 42, 100 ledger entries a day); the
    first 5 go through the real DAGs once for the whole session, the 6th is run by the break tests."""
    from e2e.e2e_data import DAYS, START

    from recon import generator, runner, seed
    from recon.stack import manager

    manager.reset()
    data_dir = tmp_path_factory.mktemp("generated")
    generator.generate(data_dir, days=len(DAYS) + 1, per_day=100, seed=42, start=START)
    for day in DAYS:
        seed.seed_day(data_dir, day)
        assert runner.run_days(day, day) == 0, f"DAG runs failed for {day}"
    return data_dir
