"""`recon new-source`: the files it writes (into a copy of the project's folders), what it refuses, --from-sample,
--dry-run and --force, and that what it writes holds: the YAML loads, the dbt YAML matches the model, and the
generated test passes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from recon import cli
from recon.parsers.registry import PARSERS
from recon.scaffold.formats import ScaffoldError, format_names, spec_for
from recon.scaffold.plan import Layout, NewSource, plan_new_source, write_plan
from recon.scaffold.staging import select_columns
from recon.sources import load_source

pytestmark = pytest.mark.unit
DAY = date(2026, 1, 1)


@pytest.fixture()
def project(tmp_path: Path) -> Layout:
    """A copy of what the scaffold reads (the source YAMLs, the staging models) in tmp_path."""
    shutil.copytree(REPO / "dags" / "sources", tmp_path / "dags" / "sources")
    shutil.copytree(REPO / "dbt_project" / "models" / "staging", tmp_path / "dbt_project" / "models" / "staging")
    return Layout.under(tmp_path)


def scaffold(layout: Layout, name: str, fmt: str, force: bool = False, **options) -> list[Path]:
    return write_plan(plan_new_source(NewSource(name, fmt, start_date=DAY, **options), layout), force=force)


def test_every_format_has_a_parser_and_every_parser_a_format() -> None:
    for name in format_names():
        assert spec_for(name).parser in PARSERS, name
    assert {spec_for(name).parser for name in format_names()} == set(PARSERS)
    assert {"csv", "bai2", "camt053"} <= set(format_names())
    assert spec_for("csv_table") == spec_for("csv")  # the registry's own names work too


def test_a_csv_processor_source_is_written_and_loads(project: Layout) -> None:
    written = scaffold(project, "acme", "csv", role="processor")
    staging = project.staging_dir
    assert [project.show(p) for p in written] == [
        "dags/sources/acme.yml",
        "dbt_project/models/staging/stg_acme__settlement_lines.sql",
        "dbt_project/models/staging/stg_acme__settlement_lines.yml",
        "tests/unit/test_source_acme.py",
        "tests/fixtures/sources/acme.csv",
    ]
    source = load_source(project.sources_dir / "acme.yml")
    assert (source.kind, source.format, source.table, source.role) == ("file", "csv_table", "acme_settlement_lines",
                                                                      "processor")
    assert source.options["processor"] == "acme" and source.s3_prefix == "inbound/acme"
    assert source.start_date == DAY
    assert source.column("amount_minor").currency_from == "currency"
    assert {"type": "expect_column_values_to_match_regex", "column": "currency", "regex": "^[A-Z]{3}$"} in \
        source.expectations
    assert "TODO" in (project.sources_dir / "acme.yml").read_text()

    sql = (staging / "stg_acme__settlement_lines.sql").read_text()
    assert "from {{ source('acme', 'src_acme_settlement_lines') }} as src" in sql
    assert "{{ recon_text('upper(currency)', 3) }} as currency," in sql  # a column of the same name fills it
    assert "as gross_minor,  -- TODO" in sql  # no such column: a placeholder and a TODO
    props = yaml.safe_load((staging / "stg_acme__settlement_lines.yml").read_text())
    [raw] = props["sources"]
    assert raw["name"] == "acme" and [t["name"] for t in raw["tables"]] == ["src_acme_settlement_lines"]
    [model] = props["models"]
    assert model["name"] == "stg_acme__settlement_lines"
    assert [c["name"] for c in model["columns"]] == select_columns(sql)  # every column of the model, in order
    assert {"not_null"} == set(next(c for c in model["columns"] if c["name"] == "line_id")["tests"])


def test_a_bai2_bank_copies_the_format_from_the_bai2_source(project: Layout) -> None:
    scaffold(project, "bank_ch", "bai2")
    new, old = load_source(project.sources_dir / "bank_ch.yml"), load_source(project.sources_dir / "bank_us.yml")
    assert new.role == "bank" and new.format == "bai2" and new.table == "bank_ch_statement_lines"
    assert new.columns == old.columns and new.expectations == old.expectations
    assert new.options == {"bank": True, "default_currency": "USD"}
    sql = (project.staging_dir / "stg_bank_ch__statement_lines.sql").read_text()
    body = sql.split("#}", 1)[1]
    assert "{{ source('bank_ch', 'src_bank_ch_statement_lines') }}" in body
    assert "'bank_ch'" in body and "bank_us" not in body
    assert select_columns(sql) == select_columns((project.staging_dir / "stg_bank_us__statement_lines.sql")
                                                 .read_text())


def test_a_second_stripe_account_keeps_the_ledgers_processor_value(project: Layout) -> None:
    scaffold(project, "stripe_eu", "stripe", processor="stripe")
    source = load_source(project.sources_dir / "stripe_eu.yml")
    assert source.options["processor"] == "stripe" and source.role == "processor"
    assert source.options["payout_reference_pattern"] == "po_[A-Za-z0-9]+"
    sql = (project.staging_dir / "stg_stripe_eu__payout_lines.sql").read_text()
    assert "{{ recon_text(\"'stripe'\", 16) }} as processor," in sql
    assert "{{ recon_text(\"'stripe_eu'\", 48) }} as source," in sql


@pytest.mark.parametrize(("name", "fmt", "options"), [
    ("acme", "csv", {"role": "processor"}),
    ("feed", "csv", {"role": "other"}),
    ("bank_x", "csv", {"role": "bank"}),
    ("bank_ch", "bai2", {}),
    ("bank_fr", "camt053", {}),
    ("adyen_us", "adyen", {}),
])
def test_the_generated_test_passes(project: Layout, name: str, fmt: str, options: dict) -> None:
    scaffold(project, name, fmt, **options)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(REPO / "pyproject.toml"),
         "--rootdir", str(project.root), str(project.tests_dir / f"test_source_{name}.py")],
        env={**os.environ, "RECON_SOURCES_DIR": str(project.sources_dir)}, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout


SAMPLE = ("Txn ID,Created At,Settlement Date,Currency,Gross Amount,Fee,Memo,Item Count,Account No\n"
          "T-9001,2026-01-05T10:15:00Z,2026-01-06,usd,120.50,3.10,Alice Example order 77,3,000123\n"
          "T-9002,2026-01-05T11:00:00Z,2026-01-06,EUR,-20.00,0.00,,1,000124\n")


def test_from_sample_takes_columns_from_the_header_and_types_from_the_rows(project: Layout) -> None:
    sample = project.root / "partner_report.csv"
    sample.write_text(SAMPLE)
    written = scaffold(project, "acme", "csv", role="processor", from_sample=sample)
    source = load_source(project.sources_dir / "acme.yml")
    got = {c.name: (c.type, c.source, c.nullable, c.currency_from) for c in source.columns}
    assert got == {
        "txn_id": ("string", "Txn ID", False, None),
        "created_at": ("timestamp", "Created At", False, None),
        "settlement_date": ("date", "Settlement Date", False, None),
        "currency": ("currency", "Currency", False, None),
        "gross_amount_minor": ("money", "Gross Amount", False, "currency"),
        "fee_minor": ("money", "Fee", False, "currency"),
        "memo": ("string", "Memo", True, None),
        "item_count": ("integer", "Item Count", False, None),
        "account_no": ("string", "Account No", False, None),  # leading zeros: an identifier, not a number
    }
    assert "# from the header of partner_report.csv" in (project.sources_dir / "acme.yml").read_text()
    for path in written:  # the partner's values never leave their file (it may hold customer data)
        text = path.read_text()
        assert "Alice" not in text and "T-9001" not in text and "120.50" not in text, path


@pytest.mark.parametrize(("body", "error"), [
    ("", "the file is empty"),
    ("a;b;c\n1;2;3\n", "delimited by something other than ','"),
    ("a,b,a\n1,2,3\n", "duplicate column names (a)"),
])
def test_from_sample_refuses_what_the_csv_parser_cannot_read(project: Layout, body: str, error: str) -> None:
    sample = project.root / "s.csv"
    sample.write_text(body)
    with pytest.raises(ScaffoldError, match=error.replace("(", r"\(").replace(")", r"\)")):
        plan_new_source(NewSource("acme", "csv", role="other", from_sample=sample), project)


@pytest.mark.parametrize(("request_", "error"), [
    (NewSource("Acme", "csv", role="other"), "use lower case"),
    (NewSource("1acme", "csv", role="other"), "invalid source name"),
    (NewSource("ac-me", "csv", role="other"), "invalid source name"),
    (NewSource("acme__eu", "csv", role="other"), "single underscores"),
    (NewSource("acme", "mt940"), "unknown format 'mt940': use one of csv, bai2, camt053"),
    (NewSource("acme", "csv"), "say which with --role"),
    (NewSource("acme", "bai2", role="processor"), "its role is bank, not processor"),
    (NewSource("acme", "bai2", from_sample=Path("x.csv")), "--from-sample reads a CSV header"),
    (NewSource("acme", "csv", role="bank", processor="acme"), "--processor is for --role processor"),
    (NewSource("a_processor_name_too_long", "csv", role="processor"), "give the ledger's value with --processor"),
    (NewSource("acme", "csv", role="other", table="stripe_payout_lines"), "already stripe's"),
    (NewSource("acme", "csv", role="other", from_sample=Path("/nonexistent.csv")), "no such file"),
])
def test_bad_requests_are_refused_before_anything_is_written(project: Layout, request_: NewSource,
                                                             error: str) -> None:
    before = sorted(project.root.rglob("*"))
    with pytest.raises(ScaffoldError, match=error.replace("(", r"\(").replace(")", r"\)")):
        plan_new_source(request_, project)
    assert sorted(project.root.rglob("*")) == before


def test_existing_files_are_never_replaced_without_force(project: Layout) -> None:
    scaffold(project, "acme", "csv", role="other")
    yml = project.sources_dir / "acme.yml"
    yml.write_text(yml.read_text().replace("# TODO: read every TODO below", "# edited by hand"))
    with pytest.raises(ScaffoldError, match=r"exist already: .*acme\.yml.*pass --force"):
        scaffold(project, "acme", "csv", role="other")
    assert "# edited by hand" in yml.read_text()
    scaffold(project, "acme", "csv", role="other", force=True)
    assert "# edited by hand" not in yml.read_text()


@pytest.fixture()
def cli_project(project: Layout, monkeypatch: pytest.MonkeyPatch) -> Layout:
    """The CLI writes where recon.paths says: point them at the copy."""
    monkeypatch.setenv("RECON_REPO_DIR", str(project.root))
    monkeypatch.setenv("RECON_STACK_DIR", str(REPO / ".stack"))  # the stack's settings stay the real ones
    monkeypatch.delenv("RECON_SOURCES_DIR", raising=False)
    monkeypatch.delenv("RECON_DBT_PROJECT_DIR", raising=False)
    return project


def test_cli_dry_run_prints_the_files_and_writes_nothing(cli_project: Layout, capsys) -> None:
    before = sorted(cli_project.root.rglob("*"))
    assert cli.main(["new-source", "bank_ch", "--format", "bai2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "==> dags/sources/bank_ch.yml <==\n# bank_ch (BAI2 bank statement)" in out
    assert "would write 5 files for source bank_ch" in out and "dry run: nothing was written" in out
    assert sorted(cli_project.root.rglob("*")) == before


def test_cli_writes_and_says_what_to_do_next(cli_project: Layout, capsys) -> None:
    assert cli.main(["new-source", "acme", "--format", "csv", "--role", "processor", "--start-date",
                     "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert (cli_project.sources_dir / "acme.yml").exists()
    for step in ("wrote 5 files for source acme", "  dags/sources/acme.yml", "grep -n TODO",
                 ".stack/venv/bin/pytest tests/unit/test_source_acme.py", "recon stack up", "make manifest",
                 "DAG ingest_acme appears", "int_processor_lines.sql", "dags/sources/ledger.yml"):
        assert step in out, step
    assert cli.main(["new-source", "acme", "--format", "csv", "--role", "processor"]) == 2
    assert "pass --force to replace them" in capsys.readouterr().err


def test_cli_refuses_a_bad_name_with_exit_code_2(cli_project: Layout, capsys) -> None:
    assert cli.main(["new-source", "bad-name", "--format", "csv", "--role", "other"]) == 2
    assert "recon new-source: invalid source name 'bad-name'" in capsys.readouterr().err


def test_a_csv_bank_fills_the_bank_line_shape_from_columns_of_the_same_name(project: Layout) -> None:
    sample = project.root / "statement.csv"
    sample.write_text("line_id,account_id,value_date,currency,direction,amount,bank_reference,text\n"
                      "L1,DE89370400440532013000,2026-01-05,EUR,credit,250.46,BR1,PAYOUT PO-1\n"
                      "L2,DE89370400440532013000,2026-01-05,EUR,debit,8.00,BR2,FEE\n")
    scaffold(project, "bank_de", "csv", role="bank", from_sample=sample)
    sql = (project.staging_dir / "stg_bank_de__statement_lines.sql").read_text()
    assert "{{ recon_id('src.line_id') }} as bank_de_line_id" in sql and "TODO: the partner's own id" not in sql
    assert ("{{ recon_int(\"case when direction = 'debit' then -amount_minor else amount_minor end\") }} as "
            "amount_minor,\n") in sql  # an unsigned amount and its direction: signed, no TODO
    assert "    value_date,\n" in sql and "{{ recon_id('bank_reference', 128) }} as reference_1,\n" in sql
    assert "as reference_2,  -- TODO" in sql and "as is_booked,  -- TODO" in sql
    own = sql.split("-- the file's own columns\n", 1)[1]
    assert own.split() == ["text,", "_load_id", "as", "load_id", "from", "ranked"]


def test_a_newly_registered_format_gets_example_columns_and_a_test_waiting_for_a_sample(
        project: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PARSERS, "mt940", lambda source, path, file_name: iter(()))
    assert "mt940" in format_names()
    written = scaffold(project, "bank_nl", "mt940", role="bank")
    assert [project.show(p) for p in written][-1] == "tests/unit/test_source_bank_nl.py"  # no made-up sample
    source = load_source(project.sources_dir / "bank_nl.yml")
    assert source.format == "mt940" and source.role == "bank" and source.options == {"bank": True}
    test = (project.tests_dir / "test_source_bank_nl.py").read_text()
    assert 'pytest.skip(f"no sample file for bank_nl (mt940) yet: put one at {SAMPLE}")' in test
    compile(test, "test_source_bank_nl.py", "exec")  # valid Python
