"""The run figures' tables in `<ns>_raw` and the analysts' view of them in `<ns>_marts`.

`pipeline_runs` is a new table rather than more columns on `ingest_runs`: it has one row per (DAG run, stage) for
both DAGs (reconcile stages have no source or load id, which ingest_runs requires), is keyed by the Airflow run so a
retried task replaces its row, and holds what ingest_runs never had (timestamps, quarantine and gate counts, the
Data Docs link). `ingest_runs` stays the loader's step log (other code reads it, e.g. which dates are published).
"""
from __future__ import annotations

from typing import Any

from recon.settings import Settings

VIEW = "rpt_pipeline_runs"  # also a dbt model (models/marts/rpt_pipeline_runs.sql): the same SELECT *

PIPELINE_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.pipeline_runs (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  dag_id VARCHAR(250) NOT NULL,
  run_id VARCHAR(250) NULL,
  stage VARCHAR(64) NOT NULL,
  source VARCHAR(48) NULL,
  business_date DATE NULL,
  status VARCHAR(16) NOT NULL,
  try_number INT NULL,
  tasks INT NOT NULL DEFAULT 1,
  started_at DATETIME(6) NULL,
  finished_at DATETIME(6) NULL,
  seconds DOUBLE NULL,
  files INT NULL,
  rows_read BIGINT NULL,
  rows_landed BIGINT NULL,
  rows_published BIGINT NULL,
  files_quarantined INT NULL,
  rows_quarantined BIGINT NULL,
  expectations_evaluated INT NULL,
  expectations_failed INT NULL,
  data_docs_url VARCHAR(2048) NULL,
  load_id VARCHAR(64) NULL,
  detail TEXT NULL,
  recorded_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  UNIQUE KEY ux_pipeline_runs_stage (dag_id, run_id, stage),
  KEY ix_pipeline_runs_date (business_date, dag_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""

# Each task's latest attempt, for the stages timed from Airflow's task events (recon.ops.listener): the stage's
# row in pipeline_runs is derived from its tasks (the dbt task group is one stage of many tasks).
PIPELINE_RUN_TASKS_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.pipeline_run_tasks (
  dag_id VARCHAR(250) NOT NULL,
  run_id VARCHAR(250) NOT NULL,
  task_id VARCHAR(250) NOT NULL,
  stage VARCHAR(64) NOT NULL,
  try_number INT NOT NULL,
  state VARCHAR(16) NOT NULL,
  started_at DATETIME(6) NULL,
  finished_at DATETIME(6) NULL,
  error TEXT NULL,
  PRIMARY KEY (dag_id, run_id, task_id),
  KEY ix_pipeline_run_tasks_stage (dag_id, run_id, stage)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""


def view_sql(settings: Settings) -> str:
    """The analysts' view: a DEFINER view (MySQL's default), so the read-only analyst user, who may read only
    `<ns>_marts`, reads the raw table through it. dbt rebuilds the same view on every reconcile run."""
    return f"CREATE OR REPLACE VIEW {settings.marts_db}.{VIEW} AS SELECT * FROM {settings.raw_db}.pipeline_runs"


def create_tables(cur: Any, settings: Settings) -> None:
    """Idempotent; run by recon stack up. The view is made here too, so analysts see ingest runs before the first
    reconcile run has built the marts."""
    cur.execute(PIPELINE_RUNS_DDL.format(raw=settings.raw_db))
    cur.execute(PIPELINE_RUN_TASKS_DDL.format(raw=settings.raw_db))
    cur.execute(view_sql(settings))
