"""The staging model's properties file, models/staging/stg_<name>__<entity>.yml: the raw `src_` table as a dbt
source and the model's documented, tested columns. dbt reads every YAML file under models/, so the new source is
declared here, next to its model, and _sources.yml is never rewritten."""
from __future__ import annotations

import textwrap

from recon.scaffold.columns import yaml_scalar
from recon.scaffold.staging import StagingModel

# Tests on the normalized columns: the same the other staging models carry, checked by each model's cosmos task.
_TESTS = {
    "processor": {"line_id": ["not_null"],
                  "line_role": ["accepted_values: {values: [transaction, fee, payout, adjustment]}"]},
    "bank": {"line_id": ["not_null"], "direction": ["accepted_values: {values: [credit, debit, other]}"],
             "is_booked": ["accepted_values: {values: [0, 1], quote: false}"]},
    "other": {"file_id": ["not_null"]},
}


def _folded(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad[:-2]}description: >", *textwrap.wrap(text, 116 - indent, initial_indent=pad, subsequent_indent=pad)]


def render_dbt_yaml(*, name: str, table: str, title: str, role: str, description: str, model: StagingModel,
                    model_description: str, command: str) -> str:
    lines = [
        "version: 2",
        "",
        f"# {title}: the raw table the ingest DAG publishes, and its staging model.",
        f"# Scaffolded by `{command}`.",
        "",
        "sources:",
        f"  - name: {name}",
        f"    description: {yaml_scalar(description)}",
        "    schema: \"{{ var('raw_schema') or (target.schema ~ '_raw') }}\"",
        "    loaded_at_field: _published_at",
        "    freshness:",
        "      warn_after: {count: 36, period: hour}",
        "    tables:",
        f"      - name: src_{table}",
        *_folded(f"One row per row of {title}'s files, typed as dags/sources/{name}.yml declares (amounts in "
                 "integer minor units); business_date is the business date of the file that brought the row (a "
                 "corrected file replaces its date's rows).", 10),
        "",
        "models:",
        f"  - name: {model.name}",
        *_folded(model_description, 6),
        "    columns:",
    ]
    tests = _TESTS[role]
    for column, text in model.columns:
        lines.append(f"      - name: {column}")
        if text:
            lines.append(f"        description: {yaml_scalar(text)}")
        for test in tests.get(column, []):
            if test == "not_null":
                lines.append("        tests: [not_null]")
            else:
                lines += ["        tests:", f"          - {test}"]
    return "\n".join(lines) + "\n"
