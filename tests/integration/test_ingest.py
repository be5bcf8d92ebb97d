"""The ingest steps on the private MariaDB and the moto S3 server: quarantine, duplicates, corrections, unsafe
keys, missing days and the ledger watermark."""
from __future__ import annotations

from datetime import date

import pytest

from recon import db, s3
from recon.ingest import steps
from recon.settings import load_settings
from recon.stack.config import admin_login

pytestmark = pytest.mark.integration
DAY = date(2026, 1, 5)
HEADER = ("automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,available_on_utc,"
          "currency,gross,fee,net,reporting_category,source_id,description\n")


def _line(txn: str, gross: str = "10.00", source_id: str = "ch_a") -> str:
    return f"po_1,2026-01-07 00:00:00,{txn},2026-01-05 10:00:00,,usd,{gross},0.00,{gross},charge,{source_id},x\n"


def _put(name: str, body: str, day: date = DAY) -> str:
    key = f"inbound/stripe/{day:%Y/%m/%d}/{name}"
    s3.client().put_object(Bucket=load_settings().bucket, Key=key, Body=body.encode())
    return key


def _ingest(source: str, day: date = DAY) -> dict:
    found = steps.discover(source, day)
    landed = steps.land(source, day, found["load_id"], found["keys"])
    audited = steps.audit(source, day, found["load_id"])
    published = steps.publish_day(source, day, found["load_id"])
    archived = steps.archive_day(source, day, found["load_id"])
    return {"found": found, "landed": landed, "audited": audited, "published": published, "archived": archived}


def _query(sql: str, *params) -> list[tuple]:
    with db.transaction() as cur:
        cur.execute(sql.format(raw=load_settings().raw_db), params)
        return list(cur.fetchall())


def _manifest() -> dict[str, tuple]:
    rows = _query("SELECT file_name, status, rows_read, rows_loaded, reason, archived_key FROM {raw}.file_manifest "
                  "WHERE source = 'stripe' ORDER BY file_id")
    return {r[0]: r[1:] for r in rows}


def _keys(prefix: str) -> list[str]:
    return s3.list_keys(s3.client(), load_settings().bucket, prefix)


def test_malformed_file_is_quarantined_with_its_line_and_the_others_load(clean_namespace) -> None:
    _put("good.csv", HEADER + _line("txn_1") + _line("txn_2", source_id="ch_b"))
    _put("bad.csv", HEADER + _line("txn_3", source_id="ch_c") + _line("txn_4", gross="12.5O", source_id="ch_d"))
    result = _ingest("stripe")
    manifest = _manifest()
    assert manifest["good.csv"][:3] == ("loaded", 2, 2)
    status, rows_read, rows_loaded, reason, archived = manifest["bad.csv"]
    assert status == "quarantined" and rows_loaded == 0
    assert "bad.csv, line 3, field 'gross'" in reason
    assert archived == "quarantine/stripe/2026/01/05/bad.csv"
    # no partial data: only the good file's rows reached landing and staging
    assert _query("SELECT balance_transaction_id FROM {raw}.src_stripe_payout_lines ORDER BY 1") == [("txn_1",),
                                                                                                  ("txn_2",)]
    assert _query("SELECT COUNT(*) FROM {raw}.landing_stripe_payout_lines") == [(2,)]
    assert _keys("inbound/") == []
    assert _keys("processed/") == ["processed/stripe/2026/01/05/good.csv"]
    assert result["landed"]["quarantined"] == 1


def test_redelivered_file_is_recorded_as_duplicate_and_not_loaded_twice(clean_namespace) -> None:
    body = HEADER + _line("txn_1") + _line("txn_2", source_id="ch_b")
    _put("report.csv", body)
    _ingest("stripe")
    _put("report-copy.csv", body)  # same bytes, new name
    _put("report.csv", body)  # same bytes, same name, delivered again
    _ingest("stripe")
    statuses = _query("SELECT file_name, status, duplicate_of IS NOT NULL FROM {raw}.file_manifest "
                      "WHERE source = 'stripe' ORDER BY file_id")
    assert statuses[0] == ("report.csv", "loaded", 0)
    assert sorted(statuses[1:]) == [("report-copy.csv", "duplicate", 1), ("report.csv", "duplicate", 1)]
    assert _query("SELECT COUNT(*) FROM {raw}.src_stripe_payout_lines") == [(2,)]
    # nothing deleted outright: the second copy of report.csv is archived beside the first, not over it
    processed = _keys("processed/stripe/2026/01/05/")
    assert len(processed) == 3 and "processed/stripe/2026/01/05/report.csv" in processed


def test_correction_replaces_the_earlier_version(clean_namespace) -> None:
    _put("report.csv", HEADER + _line("txn_1") + _line("txn_2", source_id="ch_b"))
    _ingest("stripe")
    _put("report.csv", HEADER + _line("txn_1", gross="11.00"))  # same name, new bytes
    _ingest("stripe")
    assert _query("SELECT file_name, status FROM {raw}.file_manifest WHERE source = 'stripe' ORDER BY file_id") == [
        ("report.csv", "superseded"), ("report.csv", "loaded")]
    assert _query("SELECT balance_transaction_id, gross_minor FROM {raw}.src_stripe_payout_lines") == [("txn_1", 1100)]


def test_rerunning_a_day_is_idempotent_and_an_empty_day_is_recorded(clean_namespace) -> None:
    _put("report.csv", HEADER + _line("txn_1"))
    _ingest("stripe")
    before = _query("SELECT balance_transaction_id, gross_minor, _file_id FROM {raw}.src_stripe_payout_lines")
    _ingest("stripe")  # the object is archived now: the re-run republishes the same rows
    assert _query("SELECT balance_transaction_id, gross_minor, _file_id FROM {raw}.src_stripe_payout_lines") == before
    empty = _ingest("stripe", date(2026, 1, 6))
    assert empty["found"]["keys"] == [] and empty["published"]["rows"] == 0
    assert ("no_file",) in _query("SELECT status FROM {raw}.ingest_runs WHERE source = 'stripe' AND "
                                  "business_date = '2026-01-06' AND step = 'discover'")


def test_unsafe_object_key_is_quarantined_and_never_used_as_a_path(clean_namespace) -> None:
    _put("ok.csv", HEADER + _line("txn_1"))
    _put("..", HEADER + _line("txn_2", source_id="ch_b"))
    _ingest("stripe")
    manifest = _manifest()
    assert manifest[".."][0] == "quarantined" and "'..'" in manifest[".."][3]
    assert manifest[".."][4].startswith("quarantine/stripe/2026/01/05/unsafe-key-")
    assert manifest["ok.csv"][0] == "loaded"


def test_ledger_extraction_keeps_versions_and_advances_the_watermark(clean_namespace) -> None:
    product = load_settings().product_db
    insert = (f"REPLACE INTO {product}.ledger_entries VALUES (%s, 'capture', 'stripe', %s, 'acc', 'm', %s, 'USD', "
              "%s, %s, %s)")
    with db.transaction("recon_product_db", login=admin_login()) as cur:
        cur.execute(insert, ("le_1", "ch_1", 100, "posted", "2026-01-05 10:00:00", "2026-01-05 10:00:00"))
        cur.execute(insert, ("le_2", "ch_2", 200, "posted", "2026-01-05 11:00:00", "2026-01-05 11:00:00"))
    _ingest("ledger", DAY)
    with db.transaction("recon_product_db", login=admin_login()) as cur:  # the next day: le_1 is voided, le_3 occurs
        cur.execute(insert, ("le_1", "ch_1", 100, "voided", "2026-01-05 10:00:00", "2026-01-06 09:00:00"))
        cur.execute(insert, ("le_3", "ch_3", 300, "posted", "2026-01-06 12:00:00", "2026-01-06 12:00:00"))
    _ingest("ledger", date(2026, 1, 6))
    _ingest("ledger", date(2026, 1, 6))  # a re-run adds nothing
    versions = _query("SELECT entry_id, status, business_date FROM {raw}.src_ledger_entries ORDER BY entry_id, "
                      "updated_at")
    assert versions == [("le_1", "posted", DAY), ("le_1", "voided", DAY), ("le_2", "posted", DAY),
                        ("le_3", "posted", date(2026, 1, 6))]
    assert _query("SELECT watermark FROM {raw}.extract_watermarks WHERE source = 'ledger'")[0][0].isoformat(
        " ") == "2026-01-06 12:00:00"
