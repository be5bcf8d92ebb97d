"""Airflow DAG builders. DAG files in dags/ stay thin and call these; nothing here touches a database or S3
at parse time."""
