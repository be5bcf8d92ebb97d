"""The settings behind crash safety, without services: the tasks' retry delay, the S3 client's retry policy and
its failure message, and the ingest lock's names (MariaDB allows 64 characters, server-wide)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from botocore.exceptions import EndpointConnectionError

from recon import s3
from recon.ingest import ingest_lock
from recon.orchestration.common import default_args
from recon.settings import Settings

pytestmark = pytest.mark.unit


def test_tasks_retry_twice_30_seconds_apart_unless_the_environment_says_otherwise(monkeypatch) -> None:
    monkeypatch.delenv("RECON_RETRY_DELAY_SECONDS", raising=False)
    assert default_args()["retries"] == 2 and default_args()["retry_delay"] == timedelta(seconds=30)
    monkeypatch.setenv("RECON_RETRY_DELAY_SECONDS", "2.5")
    from recon.orchestration.ingest_dag import build_ingest_dag
    from recon.sources import get_source

    land = build_ingest_dag(get_source("stripe")).get_task("land")  # read when the DAG is built
    assert land.retries == 2 and land.retry_delay == timedelta(seconds=2.5)
    monkeypatch.setenv("RECON_RETRY_DELAY_SECONDS", "-1")
    with pytest.raises(ValueError, match="RECON_RETRY_DELAY_SECONDS"):
        default_args()


def test_the_s3_client_retries_in_standard_mode_with_configurable_attempts_and_timeouts(monkeypatch) -> None:
    for name in (s3.MAX_ATTEMPTS_ENV, s3.CONNECT_TIMEOUT_ENV, s3.READ_TIMEOUT_ENV):
        monkeypatch.delenv(name, raising=False)
    assert s3.retry_settings() == s3.RetrySettings(max_attempts=5, connect_timeout=5, read_timeout=60)
    monkeypatch.setenv(s3.MAX_ATTEMPTS_ENV, "3")
    monkeypatch.setenv(s3.READ_TIMEOUT_ENV, "7.5")
    config = s3.client().meta.config  # no call is made
    assert config.retries == {"total_max_attempts": 3, "mode": "standard"}
    assert (config.connect_timeout, config.read_timeout) == (5, 7.5)
    monkeypatch.setenv(s3.MAX_ATTEMPTS_ENV, "0")
    with pytest.raises(ValueError, match="RECON_S3_MAX_ATTEMPTS='0' must be at least 1"):
        s3.retry_settings()
    monkeypatch.setenv(s3.MAX_ATTEMPTS_ENV, "five")
    with pytest.raises(ValueError, match="is not a number"):
        s3.retry_settings()


def test_an_s3_outage_message_names_endpoint_call_attempts_and_what_to_do(monkeypatch) -> None:
    monkeypatch.setenv(s3.MAX_ATTEMPTS_ENV, "4")
    error = EndpointConnectionError(endpoint_url="http://minio:9000/landing/inbound/stripe/x.csv")
    call = s3.S3Call("http://minio:9000", "GetObject", "landing", "inbound/stripe/x.csv", 4)
    message = str(s3.unavailable(error, "Nothing was loaded.", call))
    assert message.startswith("S3 endpoint http://minio:9000 is unreachable or failing: GetObject of "
                              "s3://landing/inbound/stripe/x.csv failed after 4 attempt(s): Could not connect")
    assert "Nothing was loaded." in message and "clear the task" in message and "RECON_S3_MAX_ATTEMPTS=4" in message
    # only outages are turned into S3Unavailable; anything else passes unchanged
    with pytest.raises(s3.S3Unavailable):
        with s3.outage_explained("x"):
            raise error
    with pytest.raises(KeyError):
        with s3.outage_explained("x"):
            raise KeyError("not an outage")


def test_ingest_lock_names_fit_mariadb_and_keep_namespaces_sources_and_dates_apart() -> None:
    day = date(2026, 1, 5)
    short = Settings(namespace="recon", bucket="b")
    assert ingest_lock.lock_name(short, "stripe", day) == "recon.recon.ingest.stripe.20260105"
    long = Settings(namespace="n" * 48, bucket="b")
    names = {ingest_lock.lock_name(long, source, d) for source in ("stripe", "adyen" * 9)
             for d in (day, day + timedelta(days=1))}
    assert len(names) == 4 and all(len(n) <= 64 for n in names)
    assert ingest_lock.lock_name(long, "stripe", day) != ingest_lock.lock_name(
        Settings(namespace="m" * 48, bucket="b"), "stripe", day)

