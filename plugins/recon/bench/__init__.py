"""`recon bench` (`make bench`): the platform's throughput, memory and growth, measured against the raw floor of the
same machine (docs/benchmarks.md).

Modules: datagen (big days and big files, streamed, in the formats of `recon generate`), pipeline and child (the
real DAGs in a child process, with the stage figures recon.ops records), memory (peak RSS of the process tree),
floor (LOAD DATA + hand-written reconciliation SQL, and its counts against the marts'), growth (consecutive days),
overhead (DAG parse time, `airflow dags test` with no file), machine, report (targets, tables, JSON), env (the
benchmark's own namespace), run (the phases in order).
"""
