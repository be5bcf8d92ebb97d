{#
  The pipelines' run figures, one row per (Airflow DAG run, stage): ingest (discover, land, audit, publish, archive)
  and reconcile_daily (check_sources, dbt, dbt_cross_model_tests, gate_marts, summary, ...), with status, times,
  files, rows landed / published / quarantined, GX expectations evaluated / failed and the Data Docs page.

  A view over <ns>_raw.pipeline_runs, which the stages write as they finish (plugins/recon/ops), so it is current at
  once, not only after a reconcile run. `recon stack up` creates the same view (recon.ops.tables.view_sql), so it
  exists before the first reconcile run. MySQL views run with their definer's rights: the read-only analyst user
  reads it without any right on <ns>_raw. No dbt tests: the table's DDL holds the rules, and a test failing on
  run figures must never fail a reconciliation. Tagged setup_only: a view that depends on no run, so
  reconcile_daily does not rebuild it every day (one dbt start-up less per run); `dbt run` and `make docs` still do.
#}
{{ config(materialized='view', tags=['setup_only']) }}

select * from {{ source('recon_ops', 'pipeline_runs') }}
