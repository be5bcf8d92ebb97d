"""Run figures for operators and analysts: one row per (DAG run, stage) in `<ns>_raw.pipeline_runs`, read by
analysts through the view `<ns>_marts.rpt_pipeline_runs` (see docs/operations.md, "Run metrics and Data Docs").

- tables.py: the DDL of the raw tables and the analysts' view (created by `recon stack up`).
- airflow_run.py: which Airflow task is running this code, if any.
- stages.py: the ingest steps and the mart gate record their own stage, with their figures.
- tasks.py + listener.py: every other task of a recon DAG is timed from Airflow's task events.
- docs_app.py: serves the GX Data Docs site through the Airflow api-server (plugins/recon_ops_plugin.py).
"""
