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
