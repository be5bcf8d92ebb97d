# Airflow DAG file (safe-mode parsing looks for the words "airflow" and "dag").
"""reconcile_daily: dbt (through cosmos) and the GX mart gate for one business date."""
from recon.orchestration.reconcile_dag import build_reconcile_dag

reconcile_daily = build_reconcile_dag()
