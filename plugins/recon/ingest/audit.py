"""Audit: each landed file of the day must pass its source's GX suite (from the YAML) and its row count must
equal the rows read from the file. Passing files become `loaded`; failing ones are quarantined and their
landing rows removed, in one transaction. Each file's validation gets a page in the GX Data Docs site."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from recon import db
from recon.gates.gx_runner import GateResult, GxSession
from recon.ingest import manifest
from recon.settings import load_settings
from recon.sources import Source
from recon.warehouse import landing_table


@dataclass
class AuditResult:
    passed: int = 0
    failed: int = 0
    messages: list[str] = field(default_factory=list)
    rows_failed: int = 0  # rows of the files quarantined by the audit
    expectations_evaluated: int = 0
    expectations_failed: int = 0
    docs_urls: list[str] = field(default_factory=list)  # GX Data Docs page per file, failed files first

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "messages": self.messages}


def audit_landed(source: Source, business_date: date) -> AuditResult:
    s = load_settings()
    with db.transaction() as cur:
        landed = manifest.rows_for_date(cur, s, source.name, business_date, ("landed",))
    result = AuditResult()
    if not landed:
        return result
    session = GxSession(db.sqlalchemy_url(database=s.raw_db))  # the database of GX's temporary tables
    table = landing_table(s, source)
    gates: list[GateResult] = []
    for row in landed:
        expectations = [*source.expectations,
                        {"type": "expect_table_row_count_to_equal", "value": int(row.rows_read or 0)}]
        gate = session.validate(f"{source.name}:{row.file_name}",
                                f"SELECT * FROM {table} WHERE _file_id = {int(row.file_id)}", expectations,
                                suite=f"ingest_{source.name}")
        gates.append(gate)
        with db.transaction() as cur:
            if gate.success:
                if source.kind == "file":  # a correction: the version it replaces stops counting
                    cur.execute(f"UPDATE {s.raw_db}.file_manifest SET status = 'superseded', "
                                "reason = CONCAT('replaced by file ', %s) WHERE source = %s AND business_date = %s "
                                "AND file_name = %s AND status = 'loaded' AND file_id <> %s",
                                (row.file_id, source.name, business_date, row.file_name, row.file_id))
                manifest.update(cur, s, row.file_id, status="loaded", rows_loaded=row.rows_read,
                                rows_quarantined=0)
                result.passed += 1
            else:
                cur.execute(f"DELETE FROM {table} WHERE _file_id = %s", (row.file_id,))
                manifest.update(cur, s, row.file_id, status="quarantined", rows_loaded=0, rows_published=0,
                                rows_already_present=0, rows_quarantined=row.rows_read,
                                reason=f"data quality gate failed: {gate.summary()}")
                result.failed += 1
                result.rows_failed += int(row.rows_read or 0)
        result.messages.append(gate.summary())
    session.build_docs()
    result.expectations_evaluated = sum(g.evaluated for g in gates)
    result.expectations_failed = sum(len(g.failures) for g in gates)
    result.docs_urls = [g.docs_url for g in sorted(gates, key=lambda g: g.success) if g.docs_url]
    return result
