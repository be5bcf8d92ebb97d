"""The append-only table of manual break resolutions (raw `break_resolutions`) and recording one.

A resolution is written against the break as the marts show it at the latest processed as-of date (its as_of_date
and row_hash), so a later change of the break reopens it. Rows are never updated or deleted: database triggers
refuse UPDATE and DELETE, whoever sends them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from recon import connections, db
from recon.settings import Settings, load_settings

REASON_CODES: dict[str, str] = {
    "write_off": "the difference is accepted and written off",
    "timing_difference": "it will clear with later data (e.g. a settlement or bank credit still on its way)",
    "processor_error": "the processor reported it wrongly; taken up with the processor",
    "bank_error": "the bank reported it wrongly; taken up with the bank",
    "duplicate_confirmed": "a genuine duplicate, handled (refunded or reversed) outside the ledger",
    "data_correction": "the ledger or a partner file was corrected; the correction will flow in",
}
CLOSED = ("resolved", "auto_resolved")
MAX_NOTE = 2000
MAX_BY = 128

TABLE_DDL = """
CREATE TABLE IF NOT EXISTS {raw}.break_resolutions (
  resolution_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  break_id CHAR(32) NOT NULL,
  as_of_date DATE NOT NULL COMMENT 'latest processed as-of date when recorded',
  break_row_hash CHAR(32) NOT NULL COMMENT 'the break state resolved (fct_reconciliation_breaks.row_hash)',
  reason_code VARCHAR(32) NOT NULL,
  note VARCHAR(2000) NOT NULL,
  resolved_by VARCHAR(128) NOT NULL,
  resolved_at DATETIME(6) NOT NULL,
  KEY ix_break_resolutions_break_id (break_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='append-only: UPDATE and DELETE are refused by triggers'
"""
# One trigger per statement kind; SIGNAL makes the statement fail, so nothing is changed.
TRIGGER_DDL = """
CREATE TRIGGER IF NOT EXISTS {raw}.break_resolutions_no_{action}
BEFORE {verb} ON {raw}.break_resolutions FOR EACH ROW
SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'break_resolutions is append-only: record a new resolution instead'
"""


class ResolutionRefused(ValueError):
    """The resolution was not recorded; the message says why and what to do."""


@dataclass(frozen=True)
class Resolution:
    resolution_id: int
    break_id: str
    as_of_date: date
    reason_code: str
    resolved_by: str
    resolved_at: datetime


def create_table(cur, settings: Settings) -> None:
    """Created once and never dropped by the setup: it is the audit trail."""
    cur.execute(TABLE_DDL.format(raw=settings.raw_db))
    for action, verb in (("update", "UPDATE"), ("delete", "DELETE")):
        cur.execute(TRIGGER_DDL.format(raw=settings.raw_db, action=action, verb=verb))


def validate(break_id: str, reason_code: str, note: str, resolved_by: str) -> tuple[str, str, str, str]:
    break_id = break_id.strip().lower()
    if len(break_id) != 32 or any(c not in "0123456789abcdef" for c in break_id):
        raise ResolutionRefused(f"{break_id!r} is not a break_id (32 hex characters): `recon breaks list` shows them")
    if reason_code not in REASON_CODES:
        raise ResolutionRefused(f"unknown reason code {reason_code!r}: use one of {', '.join(REASON_CODES)}")
    note, resolved_by = note.strip(), resolved_by.strip()
    if not note:
        raise ResolutionRefused("--note is empty: say why the break is resolved (it is the audit trail)")
    if len(note) > MAX_NOTE:
        raise ResolutionRefused(f"--note is {len(note)} characters long; the limit is {MAX_NOTE}")
    if not resolved_by or len(resolved_by) > MAX_BY:
        raise ResolutionRefused(f"--by must name who resolves the break (1 to {MAX_BY} characters)")
    return break_id, reason_code, note, resolved_by


def record(break_id: str, reason_code: str, note: str, resolved_by: str,
           settings: Settings | None = None) -> Resolution:
    """Append a resolution for a break that the marts show as not closed; refuse anything else with the reason."""
    settings = settings or load_settings()
    break_id, reason_code, note, resolved_by = validate(break_id, reason_code, note, resolved_by)
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(
            f"SELECT as_of_date, lifecycle, row_hash, closed_as_of, resolution_id, resolved_by "
            f"FROM {settings.marts_db}.fct_reconciliation_breaks WHERE break_id = %s", (break_id,))
        row = cur.fetchone()
        if row is None:
            raise ResolutionRefused(f"unknown break {break_id}: `recon breaks list --status all` shows every break")
        as_of, lifecycle, row_hash, closed_as_of, last_resolution, last_by = row
        if lifecycle == "auto_resolved":
            raise ResolutionRefused(f"break {break_id} is already closed: auto_resolved as of {closed_as_of} "
                                    "(later data cleared it); nothing to resolve")
        if lifecycle == "resolved":
            raise ResolutionRefused(f"break {break_id} is already closed: resolved by {last_by} "
                                    f"(resolution #{last_resolution}); it reopens by itself if it changes")
        # Locks the break's resolutions (index range) so two people resolving it at once cannot both succeed,
        # and catches a resolution recorded since the mart was last refreshed.
        cur.execute(
            f"SELECT resolution_id, resolved_by FROM {settings.raw_db}.break_resolutions "
            "WHERE break_id = %s AND as_of_date = %s AND break_row_hash = %s FOR UPDATE", (break_id, as_of, row_hash))
        done = cur.fetchone()
        if done is not None:
            raise ResolutionRefused(f"break {break_id} is already closed: resolved by {done[1]} "
                                    f"(resolution #{done[0]}); the mart shows it after `recon breaks refresh`")
        resolved_at = datetime.now(timezone.utc).replace(tzinfo=None)  # the column is UTC, naive
        cur.execute(
            f"INSERT INTO {settings.raw_db}.break_resolutions (break_id, as_of_date, break_row_hash, reason_code, "
            "note, resolved_by, resolved_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (break_id, as_of, row_hash, reason_code, note, resolved_by, resolved_at))
        return Resolution(int(cur.lastrowid), break_id, as_of, reason_code, resolved_by, resolved_at)
