"""Settings that are not connections: database names, bucket, namespaces. Read from the environment."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,47}\Z")
# Airflow connection ids named in source YAMLs (options.connection): lower case, as recon.connections defines them
_CONN_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")


class InvalidIdentifier(ValueError):
    """A name that would be pasted into SQL text (or looked up as a connection) does not match the strict pattern."""


def check_identifier(name: object, what: str = "identifier") -> str:
    """SQL identifiers come from config: accept only a strict pattern, never quote-escape our way out."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise InvalidIdentifier(f"invalid {what} {name!r}: use letters, digits and _ only (max 48), starting with a "
                                "letter or _")
    return name


def check_connection_id(name: object, what: str = "connection id") -> str:
    """An Airflow connection id from config: lower-case letters, digits and _ (max 64), starting with a letter."""
    if not isinstance(name, str) or not _CONN_ID.match(name):
        raise InvalidIdentifier(f"invalid {what} {name!r}: use lower-case letters, digits and _ only (max 64), "
                                "starting with a letter")
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

    @property
    def loader_user(self) -> str:
        """The ingest DAGs' MySQL user (recon.access): writes the loader's tables of raw_db, reads product_db."""
        return f"{self.namespace}_loader"

    @property
    def transformer_user(self) -> str:
        """dbt's and the reconcile DAG's MySQL user (recon.access): builds dbt_db and marts_db, reads raw_db."""
        return f"{self.namespace}_transformer"


def load_settings() -> Settings:
    namespace = check_identifier(os.environ.get("RECON_NAMESPACE", "recon"), "RECON_NAMESPACE")
    bucket = os.environ.get("RECON_S3_BUCKET", "recon-landing")
    if not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", bucket):
        raise ValueError(f"invalid RECON_S3_BUCKET {bucket!r}: not an S3 bucket name")
    return Settings(namespace=namespace, bucket=bucket)
