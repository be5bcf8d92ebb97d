"""Checksums of every mart, to prove a re-run changed nothing: every table and view in `<ns>_marts` (so a new mart
is covered without editing a list), every row, in a stable order, without the columns that only say when a run
wrote the row."""
from __future__ import annotations

import hashlib

from recon import db
from recon.settings import load_settings
from recon.stack.config import admin_login

# columns whose value is the time of the run that wrote the row, not reconciliation content
RUN_TIME_COLUMNS = {"processed_at", "checked_at"}
# marts that log the runs themselves: they grow with every run by design
RUN_LOG_MARTS = {"rpt_pipeline_runs"}


def mart_checksums() -> dict[str, str]:
    marts = load_settings().marts_db
    with db.transaction(login=admin_login()) as cur:
        cur.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s "
                    "ORDER BY table_name, ordinal_position", (marts,))
        columns: dict[str, list[str]] = {}
        for table, column in cur.fetchall():
            if table not in RUN_LOG_MARTS and column not in RUN_TIME_COLUMNS:
                columns.setdefault(table, []).append(column)
        sums = {}
        for table, cols in columns.items():
            cur.execute(f"SELECT {', '.join(f'`{c}`' for c in cols)} FROM `{marts}`.`{table}`")
            rows = sorted((tuple(row) for row in cur.fetchall()), key=repr)
            sums[table] = hashlib.sha256(repr(rows).encode()).hexdigest()[:16] + f" ({len(rows)} rows)"
    assert len(sums) >= 9, f"expected the marts of a reconciled namespace in {marts}, found {sorted(sums)}"
    return sums
