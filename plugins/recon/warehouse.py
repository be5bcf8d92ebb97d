"""The loader's tables in `<ns>_raw`: manifest, run log, watermarks, and landing/src tables per source (DDL from
the source YAML). Idempotent: safe to run on every start."""
from __future__ import annotations

from typing import Any

from recon import connections, db
from recon.breaks.resolutions import create_table as create_resolutions_table
from recon.ops.tables import create_tables as create_run_figures_tables
from recon.reconcile import create_source_arrivals_table
from recon.reconcile_lock import create_table as create_reconcile_lock_table
from recon.settings import Settings, load_settings
from recon.sources import Source, all_sources

MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.file_manifest (
  file_id BIGINT AUTO_INCREMENT PRIMARY KEY,
  source VARCHAR(48) NOT NULL,
  business_date DATE NOT NULL,
  object_key VARCHAR(1024) NOT NULL,
  file_name VARCHAR(255) NOT NULL,
  sha256 CHAR(64) NULL,
  size_bytes BIGINT NULL,
  rows_read BIGINT NULL,
  rows_loaded BIGINT NULL,
  rows_quarantined BIGINT NULL,
  rows_published BIGINT NULL,
  rows_already_present BIGINT NULL,
  status VARCHAR(16) NOT NULL,
  reason TEXT NULL,
  load_id VARCHAR(64) NOT NULL,
  duplicate_of BIGINT NULL,
  supersedes BIGINT NULL,
  archived_key VARCHAR(1024) NULL,
  received_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  KEY ix_manifest_source_date (source, business_date),
  KEY ix_manifest_sha (source, sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

# Columns added after the first release: a stack made earlier gets them on its next start. (Checked in
# information_schema: MySQL 8.4, the docker-compose database, has no ADD COLUMN IF NOT EXISTS.)
ADDED_COLUMNS = {
    "file_manifest": {
        "rows_published": "BIGINT NULL AFTER rows_quarantined",
        "rows_already_present": "BIGINT NULL AFTER rows_published",
    },
}

RUNS_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.ingest_runs (
  run_id BIGINT AUTO_INCREMENT PRIMARY KEY,
  source VARCHAR(48) NOT NULL,
  business_date DATE NOT NULL,
  load_id VARCHAR(64) NOT NULL,
  step VARCHAR(16) NOT NULL,
  status VARCHAR(16) NOT NULL,
  files INT NOT NULL DEFAULT 0,
  rows_in BIGINT NOT NULL DEFAULT 0,
  rows_out BIGINT NOT NULL DEFAULT 0,
  detail TEXT NULL,
  seconds DOUBLE NULL,
  recorded_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY ix_runs_source_date (source, business_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

WATERMARK_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.extract_watermarks (
  source VARCHAR(48) PRIMARY KEY,
  watermark DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

PRODUCT_LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS {product}.ledger_entries (
  entry_id VARCHAR(64) PRIMARY KEY,
  entry_type VARCHAR(32) NOT NULL,
  processor VARCHAR(16) NOT NULL,
  processor_reference VARCHAR(64) NOT NULL,
  account_id VARCHAR(64),
  merchant_id VARCHAR(64),
  amount_minor BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  status VARCHAR(16) NOT NULL,
  occurred_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  KEY ix_ledger_occurred (occurred_at),
  KEY ix_ledger_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""


SOURCE_SETTINGS_DDL = """
CREATE TABLE {raw}.source_settings (
  source VARCHAR(48) PRIMARY KEY,
  kind VARCHAR(16) NOT NULL,
  role VARCHAR(16) NOT NULL,
  processor VARCHAR(16) NULL,
  grace_days INT NOT NULL,
  amount_tolerance_minor BIGINT NOT NULL,
  bank_grace_days INT NULL,
  value_date_window_days INT NULL,
  payout_reference_pattern VARCHAR(255) NULL,
  payout_token_pattern VARCHAR(255) NULL,
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""


def landing_table(settings: Settings, source: Source) -> str:
    return f"{settings.raw_db}.landing_{source.table}"


def src_table(settings: Settings, source: Source) -> str:
    return f"{settings.raw_db}.src_{source.table}"


def _column_defs(source: Source) -> str:
    return ",\n  ".join(f"{c.name} {c.sql_type} {'NULL' if c.nullable else 'NOT NULL'}" for c in source.columns)


def landing_ddl(settings: Settings, source: Source) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {landing_table(settings, source)} (\n  {_column_defs(source)},\n"
            "  _file_id BIGINT NOT NULL,\n  _row_number BIGINT NOT NULL,\n  _load_id VARCHAR(64) NOT NULL,\n"
            "  KEY ix_landing_file (_file_id)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")


def src_ddl(settings: Settings, source: Source) -> str:
    if source.kind == "database":  # every version of a row: (key, watermark) identifies it
        key = f"PRIMARY KEY ({source.columns[0].name}, {source.options['watermark_column']})"
    else:
        key = "KEY ix_src_file (_file_id)"
    return (f"CREATE TABLE IF NOT EXISTS {src_table(settings, source)} (\n  {_column_defs(source)},\n"
            "  business_date DATE NOT NULL,\n  _file_id BIGINT NOT NULL,\n  _row_number BIGINT NOT NULL,\n"
            "  _load_id VARCHAR(64) NOT NULL,\n  _published_at DATETIME(6) NOT NULL,\n"
            f"  KEY ix_src_business_date (business_date),\n  {key}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")


def add_missing_columns(cur: Any, settings: Settings) -> None:
    for table, columns in ADDED_COLUMNS.items():
        cur.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                    (settings.raw_db, table))
        present = {row[0] for row in cur.fetchall()}
        for name, definition in columns.items():
            if name not in present:
                cur.execute(f"ALTER TABLE {settings.raw_db}.{table} ADD COLUMN {name} {definition}")


def init_warehouse(settings: Settings | None = None, sources: dict[str, Source] | None = None) -> None:
    settings = settings or load_settings()
    sources = all_sources() if sources is None else sources
    conn = db.connect(autocommit=True, database="")
    try:
        with conn.cursor() as cur:
            for name in (settings.raw_db, settings.dbt_db, settings.marts_db):
                cur.execute(f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4")
            for ddl in (MANIFEST_DDL, RUNS_DDL, WATERMARK_DDL):
                cur.execute(ddl.format(raw=settings.raw_db))
            add_missing_columns(cur, settings)
            # a mirror of the YAMLs, rebuilt every time (so a new setting never needs a migration)
            cur.execute(f"DROP TABLE IF EXISTS {settings.raw_db}.source_settings")
            cur.execute(SOURCE_SETTINGS_DDL.format(raw=settings.raw_db))
            for source in sources.values():
                cur.execute(landing_ddl(settings, source))
                cur.execute(src_ddl(settings, source))
            create_resolutions_table(cur, settings)  # the breaks' audit trail: created once, never dropped
            create_run_figures_tables(cur, settings)  # pipeline_runs and the analysts' view of it
            create_source_arrivals_table(cur, settings)  # what reconcile_daily's check_sources found per date
            create_reconcile_lock_table(cur, settings)  # one reconcile run at a time
    finally:
        conn.close()
    mirror_source_settings(settings, sources)


def mirror_source_settings(settings: Settings | None = None, sources: dict[str, Source] | None = None) -> None:
    """Copy each source YAML's reconciliation settings into source_settings, where dbt reads them: the YAML stays
    the one place they are set. reconcile_daily calls this before dbt, so an edited YAML counts from the next run."""
    settings = settings or load_settings()
    sources = all_sources() if sources is None else sources
    with db.transaction(connections.TRANSFORMER) as cur:  # reconcile_daily's check_sources; the setup as admin
        cur.execute(f"DELETE FROM {settings.raw_db}.source_settings")
        for source in sources.values():
            cur.execute(
                f"INSERT INTO {settings.raw_db}.source_settings (source, kind, role, processor, grace_days, "
                "amount_tolerance_minor, bank_grace_days, value_date_window_days, payout_reference_pattern, "
                "payout_token_pattern) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (source.name, source.kind, source.role, source.options.get("processor"), source.grace_days,
                 int(source.options.get("amount_tolerance_minor", 0)),
                 source.options.get("bank_grace_days"), source.options.get("value_date_window_days"),
                 source.options.get("payout_reference_pattern"), source.options.get("payout_token_pattern")))


def init_product_db(settings: Settings | None = None) -> None:
    """The local stack simulates the product database; in production it is the product's own."""
    from recon import connections

    settings = settings or load_settings()
    conn = db.connect(connections.PRODUCT_DB, autocommit=True, database="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {settings.product_db} CHARACTER SET utf8mb4")
            cur.execute(PRODUCT_LEDGER_DDL.format(product=settings.product_db))
    finally:
        conn.close()
