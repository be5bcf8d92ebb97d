"""The source declaration, dags/sources/<name>.yml: what recon.sources.load_source reads and the DAG factory turns
into `ingest_<name>`. Its `expectations` are the Great Expectations suite the audit step runs on every file."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from recon.scaffold.columns import ColumnSpec, render_column, yaml_scalar
from recon.scaffold.reference import Reference, options_block, yaml_block


@dataclass(frozen=True)
class SourceRequest:
    name: str
    title: str  # how comments name the partner, e.g. "Acme"
    parser: str  # the registry name
    format_label: str
    extension: str
    role: str
    table: str
    description: str
    start_date: date
    processor: str | None  # processors only
    command: str  # the command line that made it, quoted in the header


_PROCESSOR_OPTIONS = """\
options:
  processor: {processor:<23} # TODO: check: the ledger's processor value these lines reconcile against
  amount_tolerance_minor: 0          # |ledger - processor| above this (minor units) is amount_mismatch
  bank_grace_days: 3                 # a payout with no bank credit is pending_bank this many days, then missing_in_bank
  value_date_window_days: 5          # a bank credit pays a payout when payout_date <= value date <= payout_date + 5
  # TODO: how a bank line names a payout from {title}: a regular expression, e.g. '{title_upper}-PO-[0-9]+'.
  # Without it, no payout from {title} is ever funded. payout_token_pattern: the part of that match that names
  # the payout (default: all of it).
  # payout_reference_pattern: '...'"""

_BANK_OPTIONS = """\
options:
  bank: true                 # a bank statement source: its booked credits pay processor payouts"""

_GRACE = {
    "processor": "a ledger entry with no {title} line is pending_processor for 3 days, then missing",
    "bank": "every source declares one; payouts wait for the bank by the processor's bank_grace_days",
    "other": "every source declares one; a source with role other reconciles nothing",
}


def _expectations(columns: list[ColumnSpec]) -> list[str]:
    lines = ["expectations:                # Great Expectations, run on each landed file before it is published"]
    for col in columns:
        if col.type == "currency":
            if not col.nullable:
                lines.append(f"  - {{type: expect_column_values_to_not_be_null, column: {col.name}}}")
            lines.append(f"  - {{type: expect_column_values_to_match_regex, column: {col.name}, "
                         'regex: "^[A-Z]{3}$"}')
    key = next((c for c in columns if c.type == "string" and not c.nullable), None)
    example_key = key.name if key else columns[0].name
    lines += [
        "  # TODO: the rules a good file follows (a file that breaks one is quarantined, with the rule in the "
        "reason), e.g.",
        f"  # - {{type: expect_column_values_to_be_unique, column: {example_key}}}",
        f"  # - {{type: expect_column_values_to_be_in_set, column: {example_key}, value_set: [a, b]}}",
        "  # - type: unexpected_rows",
        "  #   description: what a bad row is, in words (it is what the quarantine reason says)",
        f"  #   unexpected_rows_query: SELECT * FROM {{batch}} WHERE {example_key} = ''",
    ]
    return lines


def _columns(columns: list[ColumnSpec], from_sample: str | None) -> list[str]:
    if from_sample:
        head = (f"columns:                     # from the header of {from_sample} (types from its first rows: "
                "check them)")
    else:
        head = ('columns:                     # output name, type, input header ("from"); money columns need '
                "their currency")
    return [head, *(render_column(c) for c in columns)]


def render_source_yaml(req: SourceRequest, *, columns: list[ColumnSpec] | None = None,
                       reference: Reference | None = None, from_sample: str | None = None) -> str:
    """From `columns` (a CSV sample or the starter columns), or copied from `reference` (the columns its parser
    fills, its suite and its format options)."""
    title = req.title
    lines = [
        f"# {title} ({req.format_label}), one file per business date.",
        f"# Partners drop files at s3://<bucket>/inbound/{req.name}/YYYY/MM/DD/<name>.{req.extension} (the date is the "
        "business date).",
    ]
    if reference is not None:
        lines.append(f"# Columns, expectations and options are {reference.source.name}.yml's, the other "
                     f"{req.parser} source's: its parser fills them by name.")
    lines += [f"# Scaffolded by `{req.command}`.",
              "# TODO: read every TODO below; docs/adding-a-source.md walks through the rest."]
    lines += [
        f"name: {req.name}",
        f"description: {yaml_scalar(req.description)}",
        "kind: file",
        f"format: {req.parser}",
        f"table: {req.table}",
        f"s3_prefix: inbound/{req.name}",
        'schedule: "0 0 * * *"        # daily data interval [D 00:00, D+1 00:00) UTC; the run for D starts after '
        "it closes",
        f"start_date: {req.start_date.isoformat()}       # the first business date: a run for an earlier date runs "
        "no task",
        f"grace_days: 3                # {_GRACE[req.role].format(title=title)}",
        'expected_by: "D+1 06:00"     # TODO: by when (UTC, the day after business date D) the file is in inbound/.',
        "                             # The ingest run for D waits for the file until then, then fails naming the",
        "                             # source, the date and this time (docs/operations.md, Late and missing sources)",
        "poke_interval_seconds: 300   # how often that wait looks for the file",
    ]
    if reference is not None and reference.source.role == req.role and options_block(reference, req.processor):
        lines += options_block(reference, req.processor)
    elif req.role == "processor":
        lines += _PROCESSOR_OPTIONS.format(processor=req.processor or req.name, title=title,
                                           title_upper=req.name.upper()).splitlines()
    elif req.role == "bank":
        lines += _BANK_OPTIONS.splitlines()
    if reference is not None:
        lines += yaml_block(reference.text, "columns") + yaml_block(reference.text, "expectations")
    else:
        assert columns, "a source without a reference needs columns"
        lines += _columns(columns, from_sample) + _expectations(columns)
    return "\n".join(lines) + "\n"
