"""A source of the same format already in the project. What a format fixes is copied from it: the columns its
parser fills, its landing suite, its format options and its staging model's SQL, so a second BAI2 bank starts
from the BAI2 bank that works rather than from a blank page."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from recon.scaffold.formats import ScaffoldError
from recon.sources import Source, SourceConfigError, load_source

_TOP_LEVEL = re.compile(r"^[A-Za-z_#]")  # a top-level key or comment ends the block before it


@dataclass(frozen=True)
class Reference:
    source: Source
    text: str  # its YAML, comments included
    model: Path | None  # its staging model, when one reads its src_ table

    @property
    def model_name(self) -> str | None:
        return self.model.stem if self.model else None


def _reads(sql: str, source: Source) -> bool:
    pattern = rf"source\(\s*['\"]{source.name}['\"]\s*,\s*['\"]src_{source.table}['\"]\s*\)"
    return re.search(pattern, sql) is not None


def find_reference(sources_dir: Path, staging_dir: Path, parser: str, exclude: str) -> Reference | None:
    """The first file source (by name) declared with format `parser`, other than `exclude`."""
    for path in sorted(sources_dir.glob("*.yml")):
        if path.stem == exclude:
            continue
        try:
            source = load_source(path)
        except (SourceConfigError, ValueError):
            continue  # a broken YAML is reported by the DAG parse, not here
        if source.kind != "file" or source.format != parser:
            continue
        models = [p for p in sorted(staging_dir.glob("stg_*.sql")) if _reads(p.read_text(), source)]
        return Reference(source, path.read_text(), models[0] if models else None)
    return None


def yaml_block(text: str, key: str) -> list[str]:
    """The lines of a top-level key's block (`key:` line included), comments kept; [] when the key is absent."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if re.match(rf"^{key}:", line):
            end = start + 1
            while end < len(lines) and not _TOP_LEVEL.match(lines[end]):
                end += 1
            while end > start + 1 and not lines[end - 1].strip():
                end -= 1
            return lines[start:end]
    return []


def options_block(ref: Reference, processor: str | None) -> list[str]:
    """The reference's options, with this source's processor value (a second Stripe account may keep `stripe`)."""
    block = yaml_block(ref.text, "options")
    if processor is None:
        return block
    return [re.sub(r"^(\s+processor:\s*)[A-Za-z0-9_]+", lambda m: m.group(1) + processor, line) for line in block]


_HEADER = re.compile(r"\A\s*\{#.*?#\}\s*", re.S)


def staging_body(ref: Reference, name: str, table: str, processor: str | None) -> str:
    """The reference's staging SQL without its header comment, reading this source's table under this source's
    name. Its other names (column aliases such as adyen_line_id) stay: they describe the format."""
    if ref.model is None:
        raise AssertionError("staging_body needs a reference with a staging model")
    old = ref.source
    sql = _HEADER.sub("", ref.model.read_text(), count=1)
    sql = re.sub(rf"source\(\s*['\"]{old.name}['\"]\s*,\s*['\"]src_{old.table}['\"]\s*\)",
                 f"source('{name}', 'src_{table}')", sql)
    mark = "\x00processor\x00"  # the processor value may be the reference's own name (a second Stripe account)
    sql = re.sub(rf"""(recon_text\(\s*"'){old.name}('"\s*,\s*\d+\s*\)\s*}}}}\s*as\s+processor\b)""",
                 rf"\g<1>{mark}\g<2>", sql)
    sql = sql.replace(f"'{old.name}'", f"'{name}'")
    if re.search(rf"\b{old.name}\b", re.sub(r"--[^\n]*", "", sql)):
        raise ScaffoldError(f"{ref.model}: could not move every use of {old.name!r} to {name!r}; copy the model by "
                            "hand (see docs/adding-a-source.md)")
    return sql.replace(mark, processor or name)
