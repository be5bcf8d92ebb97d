"""`recon new-source`: what it writes for a new source, checked before anything touches the disk (the YAML loads,
the sample parses with it), then written, never over an existing file unless asked."""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from recon import paths
from recon.scaffold.columns import STARTER_COLUMNS, ColumnSpec
from recon.scaffold.dbt_yaml import render_dbt_yaml
from recon.scaffold.formats import ScaffoldError, resolve_role, spec_for
from recon.scaffold.reference import Reference, find_reference, staging_body
from recon.scaffold.sample import columns_from_sample
from recon.scaffold.source_yaml import SourceRequest, render_source_yaml
from recon.scaffold.staging import StagingModel, render_from_reference, render_staging
from recon.scaffold.test_file import csv_sample, format_sample, render_test
from recon.settings import check_identifier
from recon.sources import Source, SourceConfigError, load_source

_ENTITY = {"processor": "settlement_lines", "bank": "statement_lines", "other": "lines"}
_PROCESSOR_WIDTH = 16  # the ledger's processor column and the staging models' processor are 16 characters


@dataclass(frozen=True)
class Layout:
    """Where the files go: the project's folders (recon.paths), or a copy of them in a test."""
    sources_dir: Path
    staging_dir: Path
    tests_dir: Path
    fixtures_dir: Path
    root: Path  # paths are shown relative to this

    @classmethod
    def of_project(cls) -> Layout:
        repo = paths.repo_dir()
        return cls(paths.sources_dir(), paths.dbt_project_dir() / "models" / "staging", repo / "tests" / "unit",
                   repo / "tests" / "fixtures" / "sources", repo)

    @classmethod
    def under(cls, root: Path) -> Layout:
        return cls(root / "dags" / "sources", root / "dbt_project" / "models" / "staging", root / "tests" / "unit",
                   root / "tests" / "fixtures" / "sources", root)

    def show(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class NewSource:
    name: str
    format: str
    role: str | None = None
    from_sample: Path | None = None
    entity: str | None = None
    table: str | None = None
    processor: str | None = None
    description: str | None = None
    start_date: date | None = None

    def command(self) -> str:
        parts = ["recon new-source", self.name, "--format", self.format]
        if self.role:
            parts += ["--role", self.role]
        if self.from_sample:
            parts += ["--from-sample", self.from_sample.name]
        return " ".join(parts)


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    content: bytes
    what: str  # one line for the closing message


@dataclass
class Plan:
    source: Source
    role: str
    model: str
    files: list[PlannedFile] = field(default_factory=list)
    reference: str | None = None  # the source whose format files were copied


def _check_name(name: str) -> str:
    try:
        check_identifier(name, "source name")
    except ValueError as exc:
        raise ScaffoldError(str(exc)) from None
    if name != name.lower() or "__" in name:
        raise ScaffoldError(f"invalid source name {name!r}: use lower case letters, digits and single underscores "
                            "(it names the DAG ingest_<name>, the tables and the dbt models stg_<name>__<entity>)")
    return name


def _identifier(value: str, what: str, limit: int = 48) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value) or len(value) > limit:
        raise ScaffoldError(f"invalid {what} {value!r}: lower case letters, digits and _, starting with a letter, at "
                            f"most {limit} characters")
    return value


def _processor(req: NewSource, role: str) -> str | None:
    if role != "processor":
        if req.processor:
            raise ScaffoldError("--processor is for --role processor (the ledger's processor value)")
        return None
    value = req.processor or req.name
    if len(value) > _PROCESSOR_WIDTH and not req.processor:
        raise ScaffoldError(f"the source name {req.name!r} is longer than the ledger's processor column "
                            f"({_PROCESSOR_WIDTH} characters): give the ledger's value with --processor")
    return _identifier(value, "--processor", _PROCESSOR_WIDTH)


def _refuse_clashes(layout: Layout, name: str, table: str) -> None:
    for path in sorted(layout.sources_dir.glob("*.yml")):
        if path.stem == name:
            continue
        try:
            other = load_source(path)
        except (SourceConfigError, ValueError):
            continue
        if other.table == table:
            raise ScaffoldError(f"table {table!r} is already {other.name}'s ({path}): pick another with --table")


def _columns(req: NewSource, spec_is_csv: bool, reference: Reference | None) -> list[ColumnSpec]:
    if req.from_sample is not None:
        if not spec_is_csv:
            raise ScaffoldError(f"--from-sample reads a CSV header: it goes with --format csv; format {req.format}'s "
                                "columns are the ones its parser fills")
        return columns_from_sample(req.from_sample)
    if reference is not None:
        return [ColumnSpec(c.name, c.type, c.source, c.nullable, c.length if c.type == "string" else None,
                           c.currency_from) for c in reference.source.columns]
    return list(STARTER_COLUMNS)


def _title(name: str) -> str:
    return name.capitalize() if "_" not in name else name


def _model_description(role: str, title: str) -> str:
    shape = {"processor": "the normalized processor-line shape (see int_processor_lines) plus the file's own columns",
             "bank": "the normalized bank-line shape (see int_bank_lines) plus the file's own columns",
             "other": "their declared columns; no reconciliation model reads it (role other)"}[role]
    return f"{title}'s lines from the files with business date <= D, every delivery, in {shape}."


def plan_new_source(req: NewSource, layout: Layout) -> Plan:
    name = _check_name(req.name)
    spec = spec_for(req.format)
    role = resolve_role(spec, req.role, req.format)
    processor = _processor(req, role)
    reference = None if spec.parser == "csv_table" else find_reference(layout.sources_dir, layout.staging_dir,
                                                                       spec.parser, exclude=name)
    columns = _columns(req, spec.is_csv, reference)
    ref_entity = reference.model_name.split("__", 1)[1] if reference and reference.model_name else None
    entity = _identifier(req.entity or ref_entity or _ENTITY[role], "--entity")
    table = _identifier(req.table or f"{name}_{entity}", "--table (the default is <name>_<entity>)")
    _refuse_clashes(layout, name, table)
    title = _title(name)
    description = req.description or f"{title} {entity.replace('_', ' ')} ({spec.label}), one file per business date"
    source_req = SourceRequest(
        name=name, title=title, parser=spec.parser, format_label=spec.label, extension=spec.extension, role=role,
        table=table, description=description,
        start_date=req.start_date or datetime.now(timezone.utc).date(), processor=processor, command=req.command())
    source_yaml = render_source_yaml(source_req, columns=None if reference else columns, reference=reference,
                                     from_sample=req.from_sample.name if req.from_sample else None)
    sample = csv_sample(columns) if spec.parser == "csv_table" else format_sample(spec.parser)
    sample_name = f"{name}.{spec.extension}" if sample is not None else None
    with tempfile.TemporaryDirectory(prefix="recon-new-source-") as tmp:
        source = _load(source_yaml, name, Path(tmp))
        test = render_test(source=source, title=title, sample_name=sample_name, sample=sample, workdir=Path(tmp))
    model = _staging(reference, name, entity, table, role, title, spec.label, processor, columns)
    dbt_yaml = render_dbt_yaml(name=name, table=table, title=title, role=role, description=description, model=model,
                               model_description=_model_description(role, title), command=req.command())
    staging = layout.staging_dir
    plan = Plan(source=source, role=role, model=model.name, reference=reference.source.name if reference else None)
    plan.files = [
        PlannedFile(layout.sources_dir / f"{name}.yml", source_yaml.encode(),
                    f"the source: columns, options and the GX suite of the audit step (DAG ingest_{name})"),
        PlannedFile(staging / f"{model.name}.sql", model.sql.encode(), "the staging model"),
        PlannedFile(staging / f"{model.name}.yml", dbt_yaml.encode(),
                    f"its dbt source (src_{table}) and documented, tested columns"),
        PlannedFile(layout.tests_dir / f"test_source_{name}.py", test.encode(),
                    "parses the sample through the real parser"),
    ]
    if sample is not None and sample_name is not None:
        plan.files.append(PlannedFile(layout.fixtures_dir / sample_name, sample,
                                      "a made-up sample file in the source's format"))
    return plan


def _load(text: str, name: str, workdir: Path) -> Source:
    path = workdir / f"{name}.yml"
    path.write_text(text)
    try:
        return load_source(path)
    except (SourceConfigError, ValueError) as exc:
        raise ScaffoldError(f"the scaffolded YAML does not load ({exc}): a scaffold bug, please report it") from None


def _staging(reference: Reference | None, name: str, entity: str, table: str, role: str, title: str,
             format_label: str, processor: str | None, columns: list[ColumnSpec]) -> StagingModel:
    if reference is not None and reference.model is not None and reference.source.role == role:
        body = staging_body(reference, name, table, processor)
        return render_from_reference(reference_model=reference.model.stem, reference_source=reference.source.name,
                                     body=body, name=name, entity=entity, role=role, title=title,
                                     format_label=format_label, processor=processor or name, columns=columns)
    return render_staging(name=name, entity=entity, table=table, role=role, title=title, processor=processor or name,
                          columns=columns)


def write_plan(plan: Plan, *, force: bool = False) -> list[Path]:
    existing = [f.path for f in plan.files if f.path.exists()]
    if existing and not force:
        raise ScaffoldError("these files exist already: " + ", ".join(map(str, existing)) +
                            "; pick another name, or pass --force to replace them")
    for planned in plan.files:
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        planned.path.write_bytes(planned.content)
    return [f.path for f in plan.files]
