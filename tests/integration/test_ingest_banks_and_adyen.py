"""The new sources through the real ingest steps (moto S3 + MariaDB + GX landing suites): permissive BAI2 and
camt.053 samples load with their row counts; a camt.053 file whose balances do not add up, and a BAI2 file with a
wrong control total, are quarantined with the reason; an Adyen report lands every row type."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import FIXTURES
from recon import db, s3
from recon.ingest import steps
from recon.settings import load_settings

pytestmark = pytest.mark.integration
DAY = date(2026, 1, 5)
ADYEN_HEADER = ("Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,"
                "TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,"
                "Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),"
                "Interchange (NC),Batch Number\n")
ADYEN_ROWS = [
    "RC,RM,1111111111111111,ORD-1,visa,2026-01-05 00:30:00,CET,Settled,1111111111111111,EUR,,100.00,1,EUR,,98.00,"
    "1.00,0.50,0.30,0.20,1001",
    "RC,RM,1111111111111111,ORD-1,visa,2026-01-05 09:00:00,UTC,Refunded,3333333333333333,EUR,20.00,,1,EUR,20.00,,,,,,"
    "1001",
    "RC,RM,,Fees,,2026-01-05 23:00:00,CET,Fee,,EUR,,,,EUR,0.50,,,,,,1001",
    "RC,RM,,,,2026-01-05 23:59:00,CET,MerchantPayout,,EUR,,,,EUR,77.50,,,,,,1001",
]


def _put(source: str, name: str, body: bytes) -> None:
    s3.client().put_object(Bucket=load_settings().bucket, Key=f"inbound/{source}/{DAY:%Y/%m/%d}/{name}", Body=body)


def _ingest(source: str) -> None:
    found = steps.discover(source, DAY)
    steps.land(source, DAY, found["load_id"], found["keys"])
    steps.audit(source, DAY, found["load_id"])
    steps.publish_day(source, DAY, found["load_id"])
    steps.archive_day(source, DAY, found["load_id"])


def _query(sql: str, *params) -> list[tuple]:
    with db.transaction() as cur:
        cur.execute(sql.format(raw=load_settings().raw_db), params)
        return list(cur.fetchall())


def _manifest(source: str) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in _query("SELECT file_name, status, rows_loaded, reason FROM {raw}.file_manifest "
                                        "WHERE source = %s ORDER BY file_id", source)}


def test_bank_statements_load_or_are_quarantined_by_their_landing_suites(clean_namespace) -> None:
    bai2 = FIXTURES / "samples" / "bai2" / "moov_cad_two_accounts_fixed_width_text.txt"
    details = sum(1 for line in bai2.read_text().splitlines() if line.startswith("16,"))
    _put("bank_us", "statement.bai2", bai2.read_bytes())
    # the same file with one detail amount changed: the 49 control total no longer agrees
    text = bai2.read_text()
    first_16 = next(line for line in text.splitlines() if line.startswith("16,"))
    fields = first_16.split(",")
    fields[2] = str(int(fields[2].lstrip("+") or 0) + 1)
    _put("bank_us", "tampered.bai2", text.replace(first_16, ",".join(fields), 1).encode())
    _ingest("bank_us")
    manifest = _manifest("bank_us")
    assert manifest["statement.bai2"][:2] == ("loaded", details)
    status, rows, reason = manifest["tampered.bai2"]
    assert status == "quarantined" and rows == 0 and "tampered.bai2" in reason and "49" in reason
    assert _query("SELECT COUNT(*) FROM {raw}.src_bank_us_statement_lines") == [(details,)]

    camt = FIXTURES / "samples" / "camt053" / "genkgo_camt053_v02_multi_statement.xml"
    entries = camt.read_text().count("<Ntry>")
    _put("bank_eu", "statement.xml", camt.read_bytes())
    # the closing balance of the first statement moved by one cent: the landing suite refuses the file
    broken = camt.read_text().replace("<Amt Ccy=\"EUR\">27.00</Amt>", "<Amt Ccy=\"EUR\">27.01</Amt>", 1)
    assert broken != camt.read_text()
    _put("bank_eu", "broken.xml", broken.encode())
    _ingest("bank_eu")
    manifest = _manifest("bank_eu")
    assert manifest["statement.xml"][:2] == ("loaded", entries)
    status, rows, reason = manifest["broken.xml"]
    assert status == "quarantined" and rows == 0 and "data quality gate failed" in reason
    assert _query("SELECT COUNT(*) FROM {raw}.src_bank_eu_statement_lines") == [(entries,)]


def test_adyen_report_lands_every_row_type_with_utc_times(clean_namespace, tmp_path: Path) -> None:
    _put("adyen", "settlement_detail_report_batch_1001.csv", (ADYEN_HEADER + "\n".join(ADYEN_ROWS) + "\n").encode())
    _ingest("adyen")
    assert _manifest("adyen")["settlement_detail_report_batch_1001.csv"][:2] == ("loaded", 4)
    rows = _query("SELECT type, created_utc, gross_credit_minor, net_debit_minor FROM {raw}.src_adyen_settlement_lines "
                  "ORDER BY _row_number")
    assert [r[0] for r in rows] == ["Settled", "Refunded", "Fee", "MerchantPayout"]
    assert str(rows[0][1]) == "2026-01-04 23:30:00"  # 00:30 CET is the previous day in UTC
    assert rows[0][2] == 10000 and rows[3][3] == 7750
