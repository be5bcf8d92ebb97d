"""The new source's own test (tests/unit/test_source_<name>.py) and the sample file it parses
(tests/fixtures/sources/<name>.<ext>). The expected values are what the real parser returns for the sample when
the scaffold runs, so the test passes as written and fails when the YAML or the parser changes what a row reads."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from recon.parsers.base import ParseError
from recon.parsers.registry import get_parser
from recon.scaffold.columns import ColumnSpec
from recon.scaffold.formats import ScaffoldError
from recon.sources import Source

SAMPLES = Path(__file__).parent / "templates" / "samples"
_TYPED = ("money", "currency", "integer", "date", "timestamp")
_BAD = {"money": "12.3O", "integer": "12.3O", "date": "2026-13-45", "timestamp": "not a time"}


def format_sample(parser: str) -> bytes | None:
    """A small valid file of a format the project reads (written for the scaffold, no partner data)."""
    found = sorted(SAMPLES.glob(f"{parser}.*"))
    return found[0].read_bytes() if found else None


def _value(col: ColumnSpec, row: int, position: int) -> str:
    if col.nullable and row == 2:
        return ""
    if col.type == "currency":
        return ("USD", "EUR")[row - 1]
    if col.type == "money":  # each amount column its own value, so a test tells them apart
        return f"{12 + position}.34" if row == 1 else f"-{5 + position}.00"
    if col.type == "integer":
        return str(row + position)
    if col.type == "date":
        return f"2026-01-0{4 + row}"
    if col.type == "timestamp":
        return f"2026-01-0{4 + row} 1{row}:00:00"
    return f"{col.name[:8].upper()}-{row:04d}"[:col.length or 64]


def csv_sample(columns: list[ColumnSpec]) -> bytes:
    """Two rows in the columns' headers, made up from their types (a partner's sample may hold customer data)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.header for c in columns])
    for row in (1, 2):
        writer.writerow([_value(c, row, position) for position, c in enumerate(columns)])
    return buffer.getvalue().encode()


def _literal(value: Any) -> str:
    if isinstance(value, datetime):
        parts = [value.year, value.month, value.day, value.hour, value.minute]
        parts += [value.second] if value.second else []
        return f"datetime({', '.join(map(str, parts))})"
    if isinstance(value, date):
        return f"date({value.year}, {value.month}, {value.day})"
    if isinstance(value, str):
        return _py_str(value)
    return repr(value)


def _py_str(text: str) -> str:
    """A Python string literal in double quotes, as this code base writes them."""
    return f'"{text}"' if not any(c in text for c in '"\\\n') else repr(text)


@dataclass(frozen=True)
class BadValue:
    header: str  # the input column spoiled in the first data row
    value: str


def _bad_value(source: Source, sample: bytes) -> BadValue | None:
    """The first typed, required column of a CSV sample: a made-up wrong value in it must be refused."""
    header = next(csv.reader(io.StringIO(sample.decode("utf-8-sig"))), [])
    for col in source.columns:
        if col.type in _BAD and col.required and col.source in header:
            return BadValue(col.source, _BAD[col.type])
    return None


def _spoil(sample: bytes, bad: BadValue) -> bytes:
    rows = list(csv.reader(io.StringIO(sample.decode("utf-8-sig"))))
    rows[1][rows[0].index(bad.header)] = bad.value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def parse_sample(source: Source, sample: bytes, file_name: str, workdir: Path) -> list[dict[str, Any]]:
    path = workdir / file_name
    path.write_bytes(sample)
    try:
        return [row.values for row in get_parser(source.format)(source, path, file_name)]
    except ParseError as exc:
        raise ScaffoldError(f"the sample does not parse with the new YAML ({exc}): a scaffold bug, please report "
                            "it") from None


def _checked_bad_value(source: Source, sample: bytes, file_name: str, workdir: Path) -> BadValue | None:
    bad = _bad_value(source, sample) if file_name.endswith(".csv") else None
    if bad is None:
        return None
    path = workdir / f"bad_{file_name}"
    path.write_bytes(_spoil(sample, bad))
    try:
        list(get_parser(source.format)(source, path, path.name))
    except ParseError as exc:
        if f"line 2, field '{bad.header}'" in str(exc):
            return bad
    return None  # the parser reads it some other way: no test is better than a wrong one


def render_test(*, source: Source, title: str, sample_name: str | None, sample: bytes | None,
                workdir: Path) -> str:
    name = source.name
    doc = (f'"""{title} ({name}): the sample file parses through the real parser (format {source.format}) into '
           f"the columns\ndags/sources/{name}.yml declares. Scaffolded by `recon new-source`: replace the sample "
           f"with an anonymized file from\n{title} when you have one and assert what you know about it.\"\"\"")
    if sample is None or sample_name is None:
        return _render_without_sample(doc, name, source.format)
    rows = parse_sample(source, sample, sample_name, workdir)
    if not rows:
        raise ScaffoldError("the sample has no data row: a scaffold bug, please report it")
    first = rows[0]
    typed = sorted((c for c in source.columns if c.type in _TYPED), key=lambda c: _TYPED.index(c.type))
    shown = [c.name for c in typed][:5]
    asserts = [f'    assert first["{c}"] {"is None" if first[c] is None else "== " + _literal(first[c])}'
               for c in shown]
    bad = _checked_bad_value(source, sample, sample_name, workdir)
    uses = " ".join(asserts) + (bad.header if bad else "")
    dt_imports = [n for n in ("date", "datetime") if re.search(rf"\b{n}\(", uses)]
    lines = [doc, "from __future__ import annotations", ""]
    if bad:
        lines.append("import csv")
    if dt_imports:
        lines.append(f"from datetime import {', '.join(dt_imports)}")
    lines += ["from pathlib import Path", "", "import pytest", ""]
    if bad:
        lines.append("from recon.parsers.base import ParseError")
    lines += [
        "from recon.parsers.registry import get_parser",
        "from recon.sources import get_source",
        "",
        "pytestmark = pytest.mark.unit",
        f'SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sources" / "{sample_name}"',
        "",
        "",
        "def _parse(path: Path = SAMPLE) -> list[dict]:",
        f'    source = get_source("{name}")',
        "    return [row.values for row in get_parser(source.format)(source, path, path.name)]",
        "",
        "",
        "def test_the_sample_parses_into_the_declared_columns() -> None:",
        "    rows = _parse()",
        f"    assert len(rows) == {len(rows)}",
        f'    assert set(rows[0]) == set(get_source("{name}").column_names)',
        "",
        "",
        "def test_the_first_row_is_typed() -> None:",
        "    first = _parse()[0]",
        *asserts,
        "",
        "",
        "def test_the_expectations_name_declared_columns() -> None:",
        f'    source = get_source("{name}")',
        '    named = {e["column"] for e in source.expectations if "column" in e}',
        "    assert named <= set(source.column_names), named - set(source.column_names)",
    ]
    if bad:
        lines += [
            "",
            "",
            "def test_a_bad_value_is_refused_with_its_line_and_field(tmp_path: Path) -> None:",
            '    with open(SAMPLE, encoding="utf-8-sig", newline="") as handle:',
            "        rows = list(csv.reader(handle))",
            f"    rows[1][rows[0].index({_py_str(bad.header)})] = {_py_str(bad.value)}",
            '    bad = tmp_path / "bad.csv"',
            '    with open(bad, "w", encoding="utf-8", newline="") as handle:',
            "        csv.writer(handle).writerows(rows)",
            f"    with pytest.raises(ParseError, match={_regex_literal(f'line 2, field {bad.header!r}')}):",
            "        _parse(bad)",
        ]
    return "\n".join(lines) + "\n"


def _regex_literal(text: str) -> str:
    pattern = re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)  # re.escape would escape spaces too
    return f'r"{pattern}"' if '"' not in pattern and not pattern.endswith("\\") else repr(pattern)


def _render_without_sample(doc: str, name: str, parser: str) -> str:
    return "\n".join([
        doc, "from __future__ import annotations", "", "from pathlib import Path", "", "import pytest", "",
        "from recon.parsers.registry import get_parser",
        "from recon.sources import get_source",
        "",
        "pytestmark = pytest.mark.unit",
        "# TODO: an anonymized sample file of the format; there is no made-up one for a format the scaffold does not "
        "know",
        f'SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sources" / "{name}.dat"',
        "",
        "",
        "def test_the_sample_parses_into_the_declared_columns() -> None:",
        "    if not SAMPLE.exists():",
        f'        pytest.skip(f"no sample file for {name} ({parser}) yet: put one at {{SAMPLE}}")',
        f'    source = get_source("{name}")',
        "    rows = [row.values for row in get_parser(source.format)(source, SAMPLE, SAMPLE.name)]",
        "    assert rows and set(rows[0]) == set(source.column_names)",
    ]) + "\n"
