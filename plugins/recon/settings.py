"""Settings that are not connections: database names, bucket, namespaces. Read from the environment."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,47}$")


def check_identifier(name: str, what: str = "identifier") -> str:
    """SQL identifiers come from config: accept only a strict pattern, never quote-escape our way out."""
    if not _IDENT.match(name):
        raise ValueError(f"invalid {what} {name!r}: use letters, digits and _ only (max 48), starting with a letter")
    return name


@dataclass(frozen=True)
class Settings:
    namespace: str
    bucket: str

    @property
    def raw_db(self) -> str:
        return f"{self.namespace}_raw"

    @property
    def dbt_db(self) -> str:
        return self.namespace

    @property
    def marts_db(self) -> str:
        return f"{self.namespace}_marts"

    @property
    def product_db(self) -> str:
        return f"{self.namespace}_product"

    @property
    def analyst_user(self) -> str:
        """The namespace's read-only MySQL user (SELECT on marts_db only; recon.access). Always derived from the
        namespace, never from the environment, so a test namespace can never re-grant another namespace's user."""
        return f"{self.namespace}_analyst"


def load_settings() -> Settings:
    namespace = check_identifier(os.environ.get("RECON_NAMESPACE", "recon"), "RECON_NAMESPACE")
    bucket = os.environ.get("RECON_S3_BUCKET", "recon-landing")
    if not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", bucket):
        raise ValueError(f"invalid RECON_S3_BUCKET {bucket!r}: not an S3 bucket name")
    return Settings(namespace=namespace, bucket=bucket)
