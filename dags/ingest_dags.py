# Airflow DAG file (safe-mode parsing looks for the words "airflow" and "dag").
"""One ingest DAG per source YAML in dags/sources/ (see recon.orchestration.ingest_dag)."""
from recon.orchestration.ingest_dag import build_ingest_dag
from recon.sources import all_sources

for _source in all_sources().values():
    globals()[f"ingest_{_source.name}"] = build_ingest_dag(_source)
