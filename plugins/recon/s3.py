"""S3 access through boto3, endpoint from the `recon_s3` connection (moto locally, MinIO or AWS in production)."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from recon import connections

# A landed object's name: no path separators, no leading dot, printable ASCII-safe characters only.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ ()+=-]{0,200}$")


def client() -> Any:
    info = connections.get_conn(connections.S3)
    extra = info.extra
    return boto3.client(
        "s3",
        endpoint_url=extra.get("endpoint_url") or None,
        region_name=extra.get("region_name") or "us-east-1",
        aws_access_key_id=info.login or None,
        aws_secret_access_key=info.password or None,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60),
    )


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
    """Stream an object to `target` (a path we chose, never derived from the key), hashing as it goes."""
    digest, size = hashlib.sha256(), 0
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with open(target, "wb") as out:
        for chunk in body.iter_chunks(chunk_size=1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Download(target, digest.hexdigest(), size)


def move(s3: Any, bucket: str, key: str, new_key: str) -> None:
    """Copy, then delete the original: nothing is ever deleted outright."""
    s3.copy_object(Bucket=bucket, Key=new_key, CopySource={"Bucket": bucket, "Key": key})
    s3.delete_object(Bucket=bucket, Key=key)


def ensure_bucket(s3: Any, bucket: str) -> None:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
