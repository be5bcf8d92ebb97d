"""The ingest pipeline for one source and one business date: discover -> land -> audit -> publish -> archive.

Each step is a plain function the ingest DAG's tasks call; all state lives in the warehouse (file_manifest), so
any step can be re-run and a re-run of the whole day is idempotent.
"""
