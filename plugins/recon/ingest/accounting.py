"""Row accounting: nothing read is lost, nothing is published twice. Run by publish, in its transaction, so a day
that does not add up is never published (the task fails naming the file and its numbers).

For every file the run handled, and every file the day publishes (docs/bad-input.md, "Row accounting"):

    rows_read = rows_published + rows_already_present + rows_quarantined

- rows_read: the file's records, counted from the file itself (recon.parsers.registry.count_records), also for a
  file the parser or the card-number gate refuses; for a database source, the rows the extraction returned.
- rows_published: the rows of the file in src_<table> after this publish (a file source's loaded files).
- rows_already_present: a database source's extracted rows whose version (key + watermark) src already held with
  the same values; always 0 for files.
- rows_quarantined: the rows of a refused file (all of them: a file is refused whole).
- Files never read count 0 of each: duplicates (their rows are those of `duplicate_of`), unsafe keys, abandoned
  attempts. A superseded file keeps the numbers it had when it was loaded (its rows left src when the correction
  that `supersedes` it was published).

And no partial data: no landing or src row belongs to a file that is not loaded (or superseded, for landing), and
every src row of a file source's day belongs to one of the day's loaded files.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from recon.ingest.manifest import FINAL
from recon.settings import Settings
from recon.sources import Source
from recon.warehouse import landing_table, src_table


class AccountingError(RuntimeError):
    """The day's rows do not add up: it must not be published."""


@dataclass(frozen=True)
class FileAccount:
    file_id: int
    file_name: str
    status: str
    rows_read: int | None
    rows_published: int | None
    rows_already_present: int | None
    rows_quarantined: int | None

    @property
    def numbers(self) -> tuple[int | None, ...]:
        return self.rows_read, self.rows_published, self.rows_already_present, self.rows_quarantined

    def problem(self) -> str | None:
        where = f"file {self.file_id} ({self.file_name}, {self.status})"
        if self.status not in FINAL:
            return f"{where} is not finished: its rows are not accounted"
        if any(n is None for n in self.numbers):
            return f"{where} has no row counts (rows read {self.rows_read}, published {self.rows_published}, " \
                   f"quarantined {self.rows_quarantined})"
        read, published, present, quarantined = (int(n or 0) for n in self.numbers)
        if read != published + present + quarantined:
            present_part = f" + rows already present {present}" if present else ""
            return (f"{where}: rows read {read} != rows published {published}{present_part} + rows quarantined "
                    f"{quarantined} ({read - published - present - quarantined:+d})")
        return None


def day_accounts(cur: Any, s: Settings, source: Source, business_date: date, load_id: str) -> list[FileAccount]:
    """The files this check covers: those the run handled (its load id) and, for a file source, every loaded file
    the day publishes (publish has just counted their rows). A database source's earlier extractions were checked
    by their own runs."""
    also_loaded = " OR status = 'loaded'" if source.kind == "file" else ""
    cur.execute(f"SELECT file_id, file_name, status, rows_read, rows_published, rows_already_present, "
                f"rows_quarantined FROM {s.raw_db}.file_manifest WHERE source = %s AND business_date = %s "
                f"AND (load_id = %s{also_loaded}) ORDER BY file_id", (source.name, business_date, load_id))
    return [FileAccount(*row) for row in cur.fetchall()]


def _stray_rows(cur: Any, s: Settings, source: Source, business_date: date, accounts: list[FileAccount]) -> list[str]:
    """Rows in landing or src that belong to a file that is not (or no longer) loaded: partial or stale data."""
    problems = []
    refused = [a.file_id for a in accounts if a.status in ("quarantined", "duplicate", "abandoned")]
    if refused:
        marks = ", ".join(["%s"] * len(refused))
        for table in (landing_table(s, source), src_table(s, source)):
            cur.execute(f"SELECT _file_id, COUNT(*) FROM {table} WHERE _file_id IN ({marks}) GROUP BY _file_id",
                        refused)
            problems += [f"{table} holds {count} rows of refused file {file_id}" for file_id, count in cur.fetchall()]
    if source.kind == "file":
        cur.execute(f"SELECT s._file_id, COUNT(*) FROM {src_table(s, source)} s LEFT JOIN {s.raw_db}.file_manifest m "
                    "ON m.file_id = s._file_id AND m.status = 'loaded' AND m.business_date = s.business_date "
                    "WHERE s.business_date = %s AND m.file_id IS NULL GROUP BY s._file_id", (business_date,))
        problems += [f"{src_table(s, source)} holds {count} rows for {business_date} of file {file_id}, which is not "
                     "a loaded file of that date" for file_id, count in cur.fetchall()]
    return problems


def check_day(cur: Any, s: Settings, source: Source, business_date: date, load_id: str) -> list[FileAccount]:
    """Raise AccountingError naming every file whose rows do not add up; return the accounts checked."""
    accounts = day_accounts(cur, s, source, business_date, load_id)
    problems = [p for p in (a.problem() for a in accounts) if p]
    problems += _stray_rows(cur, s, source, business_date, accounts)
    if problems:
        raise AccountingError(f"row accounting failed for {source.name} {business_date} (load {load_id}); nothing "
                              f"was published: {'; '.join(problems)}")
    return accounts


def totals(accounts: list[FileAccount]) -> dict[str, int]:
    names = ("rows_read", "rows_published", "rows_already_present", "rows_quarantined")
    return {name: sum(int(getattr(a, name) or 0) for a in accounts) for name in names}
