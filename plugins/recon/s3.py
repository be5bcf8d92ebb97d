"""S3 access through boto3, endpoint from the `recon_s3` connection (moto locally, MinIO or AWS in production).

Every call is retried by botocore ("standard" mode: connection errors, timeouts, 5xx and throttling, with
exponential backoff and jitter) up to RECON_S3_MAX_ATTEMPTS attempts in all (default 5), with
RECON_S3_CONNECT_TIMEOUT (5 s) and RECON_S3_READ_TIMEOUT (60 s). When the endpoint stays away, the step fails with
S3Unavailable, whose message names the endpoint, the operation, the bucket and key, the attempts made and what to
do; Airflow then retries the task (recon.orchestration.common).
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as EndpointError

from recon import connections

# A landed object's name: no path separators, no leading dot, printable ASCII-safe characters only.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ ()+=-]{0,200}$")

MAX_ATTEMPTS_ENV, CONNECT_TIMEOUT_ENV, READ_TIMEOUT_ENV = (
    "RECON_S3_MAX_ATTEMPTS", "RECON_S3_CONNECT_TIMEOUT", "RECON_S3_READ_TIMEOUT")
_CALL_INFO = "recon_s3_call"  # the attribute an S3 error carries: which call failed, after how many attempts


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int  # in all, the first one included
    connect_timeout: float
    read_timeout: float


def _number(name: str, default: str, minimum: float) -> float:
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ValueError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


def retry_settings() -> RetrySettings:
    return RetrySettings(max_attempts=int(_number(MAX_ATTEMPTS_ENV, "5", 1)),
                         connect_timeout=_number(CONNECT_TIMEOUT_ENV, "5", 0.1),
                         read_timeout=_number(READ_TIMEOUT_ENV, "60", 0.1))


@dataclass(frozen=True)
class S3Call:
    """The call an S3 error came from, attached to the exception by the client's event hooks."""
    endpoint: str
    operation: str
    bucket: str | None
    key: str | None
    attempts: int

    def target(self) -> str:
        return f"s3://{self.bucket or '?'}/{self.key or ''}"


class S3Unavailable(RuntimeError):
    """The S3 endpoint could not be reached (or kept failing) after every attempt."""


_last_call = threading.local()  # this thread's latest call, for a 5xx error (raised after the hooks have run)


def _track_calls(s3: Any, endpoint: str) -> None:
    """botocore event hooks: remember each call's bucket/key and attempts, and attach them to a failing call's
    exception (botocore's own connection errors name the URL only, not the attempts)."""

    def params(params: dict[str, Any], context: dict[str, Any], event_name: str, **_: Any) -> None:
        context[_CALL_INFO] = (params.get("Bucket"), params.get("Key") or params.get("Prefix"))
        _last_call.value = (endpoint, event_name.rsplit(".", 1)[-1], *context[_CALL_INFO])

    def attempt(attempts: int, request_dict: dict[str, Any], **_: Any) -> None:
        request_dict.get("context", {})["recon_s3_attempts"] = attempts  # after each attempt, the last one too

    def failed(exception: BaseException, context: dict[str, Any], event_name: str, **_: Any) -> None:
        bucket, key = context.get(_CALL_INFO, (None, None))
        setattr(exception, _CALL_INFO, S3Call(endpoint, event_name.rsplit(".", 1)[-1], bucket, key,
                                              int(context.get("recon_s3_attempts", 1))))

    s3.meta.events.register("provide-client-params.s3", params)
    s3.meta.events.register("needs-retry.s3", attempt)
    s3.meta.events.register("after-call-error.s3", failed)


def client() -> Any:
    info = connections.get_conn(connections.S3)
    extra = info.extra
    retry = retry_settings()
    s3 = boto3.client(
        "s3",
        endpoint_url=extra.get("endpoint_url") or None,
        region_name=extra.get("region_name") or "us-east-1",
        aws_access_key_id=info.login or None,
        aws_secret_access_key=info.password or None,
        config=Config(retries={"total_max_attempts": retry.max_attempts, "mode": "standard"},
                      connect_timeout=retry.connect_timeout, read_timeout=retry.read_timeout),
    )
    _track_calls(s3, s3.meta.endpoint_url)
    return s3


def _is_outage(exc: BaseException) -> bool:
    """Network errors (refused, timed out, cut, a body cut short) and server errors: the endpoint, not the request,
    is the problem."""
    if isinstance(exc, (EndpointError, HTTPClientError, IncompleteReadError)):
        return True
    return isinstance(exc, ClientError) and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500


def unavailable(exc: BaseException, consequence: str, call: S3Call | None = None) -> S3Unavailable:
    """The clear message for an S3 outage: the endpoint, the call, the attempts, what it left behind, what to do."""
    call = call or getattr(exc, _CALL_INFO, None)
    last = getattr(_last_call, "value", None)
    if call is None and isinstance(exc, ClientError) and last and last[1] == exc.operation_name:
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        call = S3Call(last[0], last[1], last[2], last[3], attempts)
    retry = retry_settings()
    what = (f"{call.operation} of {call.target()} failed after {call.attempts} attempt(s)" if call
            else "an S3 call failed")
    endpoint = call.endpoint if call else "(see connection recon_s3)"
    return S3Unavailable(
        f"S3 endpoint {endpoint} is unreachable or failing: {what}: {exc}. {consequence} "
        f"Airflow retries the task (see its retries and retry delay); if the endpoint stays down, check that it is "
        f"up and reachable from the worker (Airflow connection recon_s3, endpoint_url), then clear the task. "
        f"Per call: {MAX_ATTEMPTS_ENV}={retry.max_attempts} attempts, connect timeout {retry.connect_timeout:g} s, "
        f"read timeout {retry.read_timeout:g} s.")


@contextmanager
def outage_explained(consequence: str) -> Iterator[None]:
    """Turn an S3 outage raised in the block into S3Unavailable (with `consequence`: what the failing step did
    and did not write); any other error passes unchanged."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - only outages are replaced, the rest re-raised as they are
        if _is_outage(exc):
            raise unavailable(exc, consequence) from exc
        raise


def date_prefix(prefix: str, business_date: date) -> str:
    return f"{prefix.strip('/')}/{business_date:%Y/%m/%d}/"


def key_problem(key: str, expected_prefix: str) -> str | None:
    """Why an object key is unsafe to handle, or None. Keys are untrusted partner input."""
    if not key.startswith(expected_prefix):
        return f"key is outside {expected_prefix}"
    name = key[len(expected_prefix):]
    if "/" in name or "\\" in name:
        return "key has a sub-folder below the date folder"
    if ".." in name:
        return "file name contains '..'"
    if unicodedata.normalize("NFC", name) != name or any(unicodedata.category(c)[0] == "C" for c in name):
        return "file name has control or non-normalized Unicode characters"
    if not _SAFE_NAME.match(name):
        return "file name has characters outside [A-Za-z0-9._ ()+=-] or is too long"
    return None


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return sorted(keys)


@dataclass(frozen=True)
class Download:
    path: Path
    sha256: str
    size: int


def download(s3: Any, bucket: str, key: str, target: Path) -> Download:
    """Stream an object to `target` (a path we chose, never derived from the key), hashing as it goes. A failed
    download removes `target` (the caller cleans up only what it got back)."""
    digest, size = hashlib.sha256(), 0
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            with open(target, "wb") as out:
                for chunk in body.iter_chunks(chunk_size=1024 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        except Exception as exc:  # noqa: BLE001 - the body is read outside botocore's retries: say where it broke
            if not _is_outage(exc):
                raise
            call = S3Call(s3.meta.endpoint_url, "GetObject (reading the body)", bucket, key, 1)
            raise unavailable(exc, f"The download broke after {size} bytes; nothing of it was recorded or loaded.",
                              call) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Download(target, digest.hexdigest(), size)


def move(s3: Any, bucket: str, key: str, new_key: str) -> None:
    """Copy, then delete the original: nothing is ever deleted outright."""
    s3.copy_object(Bucket=bucket, Key=new_key, CopySource={"Bucket": bucket, "Key": key})
    s3.delete_object(Bucket=bucket, Key=key)


def ensure_bucket(s3: Any, bucket: str) -> None:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
