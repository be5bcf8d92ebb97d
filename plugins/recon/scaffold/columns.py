"""A column as the scaffold writes it into a source YAML (`columns:`), and the starting columns of a source with
no sample."""
from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str = "string"  # one of recon.sources.COLUMN_TYPES
    source: str | None = None  # the header it is read from, when it differs from name
    nullable: bool = False
    length: int | None = None  # strings only
    currency_from: str | None = None  # money only
    comment: str = ""  # written after the entry, e.g. what was inferred

    @property
    def header(self) -> str:
        return self.source or self.name


def yaml_scalar(value: str, flow: bool = False) -> str:
    """`value` as a YAML scalar: plain when YAML reads it back unchanged (in a {flow: mapping} when `flow`), else
    double-quoted."""
    if value and value == value.strip() and "\n" not in value and not value.startswith(("'", '"')):
        document = f"{{k: {value}}}" if flow else f"k: {value}"
        try:
            if yaml.safe_load(document) == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_column(col: ColumnSpec) -> str:
    parts = [f"name: {col.name}", f"type: {col.type}"]
    if col.type == "string":
        parts.append(f"length: {col.length or 64}")
    if col.source and col.source != col.name:
        parts.append(f"from: {yaml_scalar(col.source, flow=True)}")
    if col.currency_from:
        parts.append(f"currency_from: {col.currency_from}")
    if col.nullable:
        parts.append("nullable: true")
    entry = "  - {" + ", ".join(parts) + "}"
    return f"{entry:<68}  # {col.comment}" if col.comment else entry


# No sample: an example of a partner file's columns, to be replaced by the file's own (a TODO says so).
STARTER_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("line_reference", "string", comment="TODO: the file's columns (an example)"),
    ColumnSpec("created_at", "timestamp"),
    ColumnSpec("currency", "currency"),
    ColumnSpec("amount_minor", "money", source="amount", currency_from="currency"),
    ColumnSpec("description", "string", nullable=True, length=256),
)
