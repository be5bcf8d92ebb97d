"""The row-accounting gate on the private MariaDB and the moto S3 server: publish records each file's rows and
refuses (rolling the day back) when rows read != rows published + rows quarantined, when a row of a refused file
sits in staging, or when a ledger version would vanish in INSERT IGNORE. The numbers are made to disagree on
purpose, by changing the manifest or the tables the way a defect would."""
from __future__ import annotations

import pytest
from test_ingest import DAY, HEADER, _ingest, _line, _put, _query

from recon import db
from recon.ingest import steps
from recon.ingest.accounting import AccountingError
from recon.settings import load_settings
from recon.stack.config import admin_login  # tampering needs rights the loader rightly lacks

pytestmark = pytest.mark.integration


def _files() -> dict[str, tuple]:
    rows = _query("SELECT file_name, file_id, status, rows_read, rows_published, rows_already_present, "
                  "rows_quarantined FROM {raw}.file_manifest WHERE source = 'stripe' ORDER BY file_id")
    return {r[0]: r[1:] for r in rows}


def _execute(sql: str, *params) -> None:
    with db.transaction(login=admin_login()) as cur:
        cur.execute(sql.format(raw=load_settings().raw_db), params)


def _src_snapshot() -> list[tuple]:
    return _query("SELECT balance_transaction_id, _file_id, _published_at FROM {raw}.src_stripe_payout_lines "
                  "ORDER BY 1")


def _republish() -> None:
    steps.publish_day("stripe", DAY, steps.discover("stripe", DAY)["load_id"])


@pytest.fixture()
def loaded_day(clean_namespace) -> dict[str, tuple]:
    """A day with a good file (2 rows) and a file the parser refused at line 3 (of 3 records)."""
    _put("report.csv", HEADER + _line("txn_1") + _line("txn_2", source_id="ch_b"))
    _put("bad.csv", HEADER + _line("txn_3", source_id="ch_c") + _line("txn_4", gross="1,5") + _line("txn_5"))
    _ingest("stripe")
    files = _files()
    assert files["report.csv"][1:] == ("loaded", 2, 2, 0, 0)
    assert files["bad.csv"][1:] == ("quarantined", 3, 0, 0, 3)  # every record counted, not just up to line 3
    return files


def test_the_gate_refuses_a_day_whose_numbers_disagree(loaded_day: dict[str, tuple]) -> None:
    before = _src_snapshot()
    file_id = loaded_day["report.csv"][0]
    _execute("UPDATE {raw}.file_manifest SET rows_read = 3 WHERE file_id = %s", file_id)
    with pytest.raises(AccountingError) as refused:
        _republish()
    message = str(refused.value)
    assert f"file {file_id} (report.csv, loaded): rows read 3 != rows published 2 + rows quarantined 0 (+1)" in message
    assert "nothing was published" in message
    assert _src_snapshot() == before  # rolled back: not even re-published
    failed = _query("SELECT status, detail FROM {raw}.pipeline_runs WHERE stage = 'publish' AND business_date = %s "
                    "ORDER BY finished_at DESC LIMIT 1", DAY)
    assert failed[0][0] == "failed" and "rows read 3 != rows published 2" in failed[0][1]
    _execute("UPDATE {raw}.file_manifest SET rows_read = 2 WHERE file_id = %s", file_id)
    _republish()  # the numbers agree again: published
    assert [r[:2] for r in _src_snapshot()] == [r[:2] for r in before]


def test_the_gate_refuses_a_row_lost_between_landing_and_staging(loaded_day: dict[str, tuple]) -> None:
    before = _src_snapshot()
    file_id = loaded_day["report.csv"][0]
    _execute("DELETE FROM {raw}.landing_stripe_payout_lines WHERE _file_id = %s AND balance_transaction_id = 'txn_2'",
             file_id)
    with pytest.raises(AccountingError, match=rf"file {file_id} \(report.csv, loaded\): rows read 2 != rows "
                                              r"published 1 \+ rows quarantined 0 \(\+1\)"):
        _republish()
    assert _src_snapshot() == before


def test_the_gate_refuses_a_row_of_a_refused_file_in_staging(loaded_day: dict[str, tuple]) -> None:
    good, bad = loaded_day["report.csv"][0], loaded_day["bad.csv"][0]
    table = "{raw}.landing_stripe_payout_lines"
    _execute(f"INSERT INTO {table} SELECT * FROM {table} WHERE _file_id = %s LIMIT 1", good)
    _execute(f"UPDATE {table} SET _file_id = %s WHERE _file_id = %s ORDER BY _row_number DESC LIMIT 1", bad, good)
    load_id = _query("SELECT load_id FROM {raw}.file_manifest WHERE file_id = %s", bad)[0][0]  # the run that refused it
    with pytest.raises(AccountingError, match=rf"landing_stripe_payout_lines holds 1 rows of refused file {bad}"):
        steps.publish_day("stripe", DAY, load_id)


LEDGER_INSERT = ("REPLACE INTO {product}.ledger_entries VALUES (%s, 'capture', 'stripe', %s, 'acc', 'm', %s, %s, "
                 "'posted', %s, %s)")


def _ledger(*rows: tuple) -> None:
    with db.transaction("recon_product_db", login=admin_login()) as cur:
        for row in rows:
            cur.execute(LEDGER_INSERT.format(product=load_settings().product_db), row)


def _extractions() -> list[tuple]:
    return _query("SELECT status, rows_read, rows_published, rows_already_present, rows_quarantined "
                  "FROM {raw}.file_manifest WHERE source = 'ledger' ORDER BY file_id")


def test_ledger_versions_already_present_are_accounted_and_a_silent_change_is_refused(clean_namespace) -> None:
    _ledger(("le_1", "ch_1", 100, "USD", "2026-01-05 10:00:00", "2026-01-05 10:00:00"),
            ("le_2", "ch_2", 200, "USD", "2026-01-05 11:00:00", "2026-01-05 11:00:00"))
    _ingest("ledger", DAY)
    _ingest("ledger", DAY)  # a re-run extracts the same two versions again
    assert _extractions() == [("loaded", 2, 2, 0, 0), ("loaded", 2, 0, 2, 0)]
    # the product changes le_2 without a new updated_at: INSERT IGNORE would keep the old version silently
    _ledger(("le_2", "ch_2", 250, "USD", "2026-01-05 11:00:00", "2026-01-05 11:00:00"))
    with pytest.raises(AccountingError, match=r"rows read 2 != rows published 0 \+ rows already present 1 \+ rows "
                                              r"quarantined 0 \(\+1\)"):
        _ingest("ledger", DAY)
    assert _query("SELECT entry_id, amount_minor FROM {raw}.src_ledger_entries ORDER BY 1") == [("le_1", 100),
                                                                                              ("le_2", 200)]


def test_a_refused_ledger_extraction_counts_every_row_it_returned(clean_namespace) -> None:
    _ledger(("le_1", "ch_1", 100, "USD", "2026-01-05 10:00:00", "2026-01-05 10:00:00"),
            ("le_2", "ch_2", 200, "XQX", "2026-01-05 11:00:00", "2026-01-05 11:00:00"),
            ("le_3", "ch_3", 300, "USD", "2026-01-05 12:00:00", "2026-01-05 12:00:00"))
    _ingest("ledger", DAY)
    status, read, published, present, quarantined = _extractions()[0]
    assert (status, read, published, present, quarantined) == ("quarantined", 3, 0, 0, 3)
    assert _query("SELECT COUNT(*) FROM {raw}.src_ledger_entries") == [(0,)]
    assert _query("SELECT reason FROM {raw}.file_manifest WHERE source = 'ledger'")[0][0].startswith(
        "ledger_entries, line 2, field 'currency'")


def test_an_old_manifest_gets_the_new_columns(stack) -> None:
    # a stack made before rows_published existed: the warehouse setup adds the columns, once, keeping the data
    from recon import warehouse

    s = load_settings()
    with db.transaction(login=admin_login()) as cur:
        cur.execute(f"ALTER TABLE {s.raw_db}.file_manifest DROP COLUMN rows_already_present, "
                    "DROP COLUMN rows_published")
    with db.as_login(admin_login()):  # the setup's DDL runs as the administrative login, as `recon stack up` does
        warehouse.init_warehouse(s)
        warehouse.init_warehouse(s)  # idempotent
    columns = [r[0] for r in _query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND "
                                    "TABLE_NAME = 'file_manifest' ORDER BY ORDINAL_POSITION", s.raw_db)]
    assert columns[columns.index("rows_quarantined"):][:3] == ["rows_quarantined", "rows_published",
                                                              "rows_already_present"]

