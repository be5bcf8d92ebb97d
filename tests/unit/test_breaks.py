"""Breaks without services: the reason codes and checks of a resolution, the list filters' SQL (parameterized),
the output formats, the CLI arguments, and the currency exponents the dbt macro uses (same as the Python ones)."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from recon import cli
from recon.breaks import listing, resolutions
from recon.currencies import EXPONENTS
from recon.settings import Settings

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
SETTINGS = Settings(namespace="rx", bucket="b")
BREAK_ID = "0123456789abcdef0123456789abcdef"


def test_the_dbt_currency_exponents_are_the_python_ones() -> None:
    macro = (REPO / "dbt_project" / "macros" / "breaks.sql").read_text()
    for exponent in (0, 3, 4):
        listed = re.search(rf"set exponent_{exponent} = '([A-Z ]+)'", macro).group(1).split()
        assert set(listed) == {code for code, e in EXPONENTS.items() if e == exponent}


@pytest.mark.parametrize(("args", "message"), [
    (("nothex", "write_off", "n", "me"), "not a break_id"),
    ((BREAK_ID, "because", "n", "me"), "unknown reason code"),
    ((BREAK_ID, "write_off", "   ", "me"), "--note is empty"),
    ((BREAK_ID, "write_off", "x" * 2001, "me"), "limit is 2000"),
    ((BREAK_ID, "write_off", "n", ""), "--by must name"),
])
def test_a_resolution_is_checked_before_anything_is_written(args, message) -> None:
    with pytest.raises(resolutions.ResolutionRefused, match=message):
        resolutions.validate(*args)


def test_a_valid_resolution_is_normalized() -> None:
    assert resolutions.validate(f" {BREAK_ID.upper()} ", "timing_difference", " late ", " ops ") == (
        BREAK_ID, "timing_difference", "late", "ops")


def test_the_contract_reason_codes_are_offered() -> None:
    assert {"write_off", "timing_difference", "processor_error", "duplicate_confirmed",
            "data_correction"} <= set(resolutions.REASON_CODES)


def test_list_filters_are_parameters_never_pasted_into_the_sql() -> None:
    filters = listing.BreakFilter(status="unresolved", leg="payout", reasons=("x' OR 1=1 --",), priority="P1",
                                  currency="usd", older_than_days=7)
    sql, params = listing.query(filters, SETTINGS)
    assert "OR 1=1" not in sql and "rx_marts.fct_reconciliation_breaks" in sql
    assert params == ["open", "reopened", "payout", "x' OR 1=1 --", "P1", "USD", 7]
    assert sql.count("%s") == len(params)


@pytest.mark.parametrize(("status", "lifecycles"), [
    ("unresolved", ["open", "reopened"]), ("closed", ["resolved", "auto_resolved"]), ("reopened", ["reopened"])])
def test_status_filter_maps_to_lifecycles(status, lifecycles) -> None:
    _sql, params = listing.query(listing.BreakFilter(status=status), SETTINGS)
    assert params == lifecycles


ROWS = [dict(zip(listing.COLUMNS, (
    BREAK_ID, "transaction", "amount_mismatch", "ledger_vs_processor", "P2", "open", 3, "2-3", 1234, "USD",
    "stripe", "ch_1", "le_1", date(2026, 1, 5), date(2026, 1, 5), date(2026, 1, 5), date(2026, 1, 8), None, 1,
    None, None, None, None, date(2026, 1, 8))))]


def test_amounts_print_in_major_units_of_their_currency() -> None:
    assert listing.major_amount(1234, "USD") == Decimal("12.34")
    assert listing.major_amount(1234, "JPY") == Decimal("1234")
    assert listing.major_amount(1234, "KWD") == Decimal("1.234")
    table = listing.format_table(ROWS)
    assert "12.34 USD" in table and BREAK_ID in table and "1 break(s) as of 2026-01-08" in table
    assert listing.format_table([]) == "no breaks match"


def test_csv_and_json_outputs_carry_every_column() -> None:
    rows = list(csv.DictReader(io.StringIO(listing.format_csv(ROWS))))
    assert rows[0]["break_id"] == BREAK_ID and rows[0]["opened_as_of"] == "2026-01-05"
    assert tuple(rows[0]) == listing.COLUMNS
    data = json.loads(listing.format_json(ROWS))
    assert data[0]["amount_minor"] == 1234 and data[0]["closed_as_of"] is None


def test_cli_breaks_arguments() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["breaks", "list", "--status", "all", "--leg", "payout", "--reason", "pending_bank",
                              "--reason", "missing_in_bank", "--older-than", "3", "--min-amount", "12.5",
                              "--format", "json"])
    assert (args.status, args.leg, args.reason, args.older_than, args.min_amount, args.format) == (
        "all", "payout", ["pending_bank", "missing_in_bank"], 3, Decimal("12.5"), "json")
    args = parser.parse_args(["breaks", "resolve", BREAK_ID, "--reason", "write_off", "--note", "n", "--by", "me"])
    assert (args.break_id, args.reason, args.no_refresh) == (BREAK_ID, "write_off", False)
    with pytest.raises(SystemExit):
        parser.parse_args(["breaks", "resolve", BREAK_ID, "--reason", "because", "--note", "n", "--by", "me"])
    with pytest.raises(SystemExit):
        parser.parse_args(["breaks", "list", "--min-amount", "-1"])


def test_resolve_help_lists_the_reason_codes(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["breaks", "resolve", "--help"])
    text = capsys.readouterr().out
    assert all(code in text for code in resolutions.REASON_CODES)


def test_min_amount_and_limit_are_filtered_in_sql_in_each_currency_s_minor_units() -> None:
    sql, params = listing.query(listing.BreakFilter(min_amount=Decimal("12.5"), limit=20), SETTINGS)
    assert sql.count("%s") == len(params) and sql.endswith("LIMIT %s") and params[-1] == 20
    clause, values = listing._min_amount_clause(Decimal("12.5"))
    by_exponent = {0: 13, 3: 12500, 4: 125000}  # 12.5 JPY rounds up: a 12 JPY break is below 12.5
    position = 0
    for exponent, minor in by_exponent.items():
        codes = [c for c, e in sorted(EXPONENTS.items()) if e == exponent]
        assert values[position:position + len(codes)] == codes and values[position + len(codes)] == minor
        position += len(codes) + 1
    assert values[position:] == [1250]  # every other currency: 2 decimals
    assert clause.count("%s") == len(values)
