"""The staging model of a new source (stg_<name>__<entity>.sql): the normalized processor-line or bank-line shape
the reconciliation unions (macros/recon_columns.sql), filled from the source's columns where a column of the same
name exists, with a typed placeholder marked TODO everywhere else; then the source's own columns and lineage."""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from recon.scaffold.columns import ColumnSpec


@dataclass(frozen=True)
class Slot:
    """One normalized column: `fill` uses a same-named source column ({col}), `placeholder` stands in otherwise."""
    name: str
    description: str
    fill: str = ""  # '' = always `placeholder` (a fixed value)
    placeholder: str = ""
    todo: str = ""  # said next to the placeholder
    types: tuple[str, ...] = ("string",)  # source column types that may fill it by name
    guesses: tuple[str, ...] = ()  # other column names that likely hold it (gross_minor <- amount_minor)
    signed: bool = False  # an amount: filled by name, its sign convention still needs a look
    sure: bool = False  # a guessed column is right by construction (net_currency <- the only currency)


_TEXT = "{{{{ recon_text('{expr}', {n}) }}}}"
_ID = "{{{{ recon_id('{expr}', {n}) }}}}"
_INT = "{{{{ recon_int('{expr}') }}}}"
_MONEY = ("money", "integer")


def _text(n: int, upper: bool = False) -> tuple[str, str]:
    return _TEXT.format(expr="upper({col})" if upper else "{col}", n=n), _TEXT.format(expr="null", n=n)


def _id(n: int) -> tuple[str, str]:
    return _ID.format(expr="{col}", n=n), _ID.format(expr="null", n=n)


def _int() -> tuple[str, str]:
    return _INT.format(expr="{col}"), _INT.format(expr="null")


LINEAGE = (
    Slot("business_date", "Business date of the file that brought the line (a corrected file replaces its date's "
         "rows).", placeholder="business_date"),
    Slot("file_id", "The file's id in <ns>_raw.file_manifest.", placeholder="_file_id"),
    Slot("file_row_number", "The line of that file where the row starts (the header is line 1).",
         placeholder="_row_number"),
)
DELIVERY_RANK = Slot("delivery_rank", "1 for a line's first delivery; 2, 3... when a later file repeats it (the "
                     "reconciliation reads rank 1 only).", placeholder="{{ recon_int('delivery_rank') }}")


def processor_slots(name: str, processor: str) -> tuple[Slot, ...]:
    return (
        Slot("processor", "The ledger's processor value (options.processor).",
             placeholder=f"{{{{ recon_text(\"'{processor}'\", 16) }}}}"),
        Slot("source", "The source: its YAML in dags/sources/.", placeholder=f"{{{{ recon_text(\"'{name}'\", 48) }}}}"),
        Slot("line_id", "Identifies a line across deliveries (tested on int_processor_lines).",
             placeholder=f"{{{{ recon_id('{name}_line_id') }}}}"),
        Slot("line_type", "The partner's own type of line.", *_text(32), "the partner's type of line",
             guesses=("type", "line_type", "category", "reporting_category", "transaction_type")),
        Slot("line_role", "transaction | fee | payout | adjustment.", *_text(16),
             "transaction | fee | payout | adjustment"),
        Slot("entry_type", "The ledger's entry type on transaction lines (capture, refund, chargeback, "
             "chargeback_reversal); NULL on the others.", *_text(32),
             "capture | refund | chargeback | chargeback_reversal, or NULL"),
        Slot("processor_reference", "The reference the ledger's processor_reference holds for the same money "
             "movement (the match key, case-sensitive).", *_id(64), "the ledger's processor_reference"),
        Slot("payout_reference", "The payout the line belongs to.", *_id(128), "the payout the line belongs to",
             guesses=("payout_id",)),
        Slot("payout_token", "What a bank line carries to name that payout (found with "
             "options.payout_reference_pattern).", *_id(128), "how bank lines name that payout"),
        Slot("currency", "Gross currency, compared with the ledger's.", *_text(3, upper=True), "the gross currency",
             ("currency",)),
        Slot("net_currency", "Currency of net_minor and fee_minor (the payout's).", *_text(3, upper=True),
             "the currency of net and fee", ("currency",), guesses=("currency",), sure=True),
        Slot("gross_minor", "Gross amount, signed from the merchant balance's point of view (credits > 0).", *_int(),
             "signed, minor units (credits > 0)", _MONEY, guesses=("amount_minor", "gross_amount_minor"),
             signed=True),
        Slot("fee_minor", "Fee charged, > 0 when the processor takes money.", *_int(),
             "> 0 when the processor takes money", _MONEY),
        Slot("net_minor", "Net amount (gross - fee when there is no FX).", *_int(), "signed; gross - fee", _MONEY,
             signed=True),
        LINEAGE[0],
        Slot("created_at", "When the partner created the line (UTC).", "{col}", "cast(null as datetime(6))",
             "when the line was created (UTC)", ("timestamp",), guesses=("created_utc", "created", "created_at_utc")),
        Slot("description", "The partner's text for the line.", *_text(1024), "the partner's text, if any"),
        *LINEAGE[1:],
        DELIVERY_RANK,
    )


def bank_slots(name: str) -> tuple[Slot, ...]:
    return (
        Slot("source", "The source: its YAML in dags/sources/.", placeholder=f"{{{{ recon_text(\"'{name}'\", 48) }}}}"),
        Slot("line_id", "Identifies a statement line across deliveries.",
             placeholder=f"{{{{ recon_id('{name}_line_id') }}}}"),
        Slot("account_id", "The bank account the line is on.", *_text(64), "the account number or IBAN"),
        Slot("currency", "The amount's currency.", *_text(3, upper=True), "the amount's currency", ("currency",)),
        Slot("direction", "credit | debit | other.", *_text(8), "credit | debit | other"),
        Slot("amount_minor", "Signed amount in minor units: credit > 0, debit < 0.", *_int(),
             "signed, minor units (credit > 0, debit < 0)", _MONEY, signed=True),
        Slot("is_booked", "1 when the bank says the entry is final (booked, not a reversal).",
             placeholder="{{ recon_int('1') }}", todo="1 only for final entries (booked, not reversed)"),
        Slot("entry_status", "The bank's status of the entry (BOOK, PDNG...).",
             placeholder="{{ recon_text(\"'BOOK'\", 8) }}", todo="the bank's status of the entry"),
        Slot("value_date", "When the money is available.", "{col}", "business_date",
             "the value date (for now the file's date)", ("date",)),
        Slot("bank_reference", "The bank's reference of the line.", *_id(128), "the bank's reference"),
        Slot("reference_1", "First place a payout token is searched (the bank reference).", *_id(128),
             "searched first for a payout token", guesses=("bank_reference",),
             sure=True),
        Slot("reference_2", "Second place a payout token is searched (customer reference, end-to-end id).", *_id(128),
             "searched second (customer reference)"),
        Slot("reference_3", "Third place a payout token is searched (free text, remittance information).",
             *_id(2048), "searched third (free text)"),
        *LINEAGE,
        DELIVERY_RANK,
    )


@dataclass(frozen=True)
class StagingModel:
    name: str  # stg_<source>__<entity>
    sql: str
    columns: tuple[tuple[str, str], ...]  # (column, description), in the model's order


def _header(paragraphs: list[str]) -> str:
    wrapped = ["\n".join(textwrap.wrap(p, 114, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False))
               for p in paragraphs]
    return "{#\n" + "\n\n".join(wrapped) + "\n#}\n"


def _expression(slot: Slot, by_name: dict[str, ColumnSpec]) -> tuple[str, str | None]:
    """(SQL expression, the source column that fills it or None for the placeholder)."""
    for candidate in (slot.name, *slot.guesses):
        col = by_name.get(candidate)
        if slot.fill and col is not None and col.type in slot.types:
            return slot.fill.replace("{col}", col.name), col.name
    return slot.placeholder, None


def _select_line(expr: str, alias: str, todo: str = "", last: bool = False) -> str:
    line = f"    {expr if expr == alias else f'{expr} as {alias}'}{'' if last else ','}"
    return f"{line}  -- TODO: {todo}" if todo else line


def _bank_amount(by_name: dict[str, ColumnSpec]) -> str | None:
    amount, direction = by_name.get("amount_minor"), by_name.get("direction")
    if amount and direction and amount.type in _MONEY:  # unsigned amount + direction, as both banks' files
        return "{{ recon_int(\"case when direction = 'debit' then -amount_minor else amount_minor end\") }}"
    return None


def render_staging(*, name: str, entity: str, table: str, role: str, title: str, processor: str,
                   columns: list[ColumnSpec]) -> StagingModel:
    model = f"stg_{name}__{entity}"
    by_name = {c.name: c for c in columns}
    src = f"{{{{ source('{name}', 'src_{table}') }}}}"
    if role == "other":
        return _render_other(model, name, title, src, columns)
    slots = processor_slots(name, processor) if role == "processor" else bank_slots(name)
    used = {"line_id"} & set(by_name)  # a partner's line id becomes line_id (through <name>_line_id)
    lines, docs = [], []
    for slot in slots:
        expr, column = _expression(slot, by_name)
        signed = _bank_amount(by_name) if slot.name == "amount_minor" else None
        if signed:
            expr, column = signed, "amount_minor"
        if column is None:
            todo = slot.todo
        elif (column != slot.name and not slot.sure) or (slot.signed and not signed):
            todo = f"check ({column}): {slot.todo}"  # a guess by name, or an amount whose sign may differ
        else:
            todo = ""
        if column is not None:
            used.add(column)
        lines.append(_select_line(expr, slot.name, todo))
        docs.append((slot.name, slot.description))
    normalized = {s.name for s in slots}
    own = [c for c in columns if c.name not in used]
    lines.append("    -- the file's own columns")
    for col in own:
        alias = f"{name}_{col.name}" if col.name in normalized else col.name
        lines.append(_select_line(col.name, alias))
        docs.append((alias, _own_description(col)))
    lines.append(_select_line("_load_id", "load_id", last=True))
    docs.append(("load_id", "The ingest run that loaded the line."))
    kind = "processor-line" if role == "processor" else "bank-line"
    macro = "processor_line_columns" if role == "processor" else "bank_line_columns"
    union = "int_processor_lines" if role == "processor" else "int_bank_lines"
    rows = "report_lines" if role == "processor" else "statement_lines"
    line_id = (f"{{{{ recon_id('src.line_id') }}}}" if "line_id" in by_name else
               f"md5(concat_ws('|', '{name}', cast(src.business_date as char), cast(src._file_id as char),\n"
               f"            cast(src._row_number as char)))")
    line_id_todo = ("" if "line_id" in by_name else
                    "        -- TODO: the partner's own id of the line, the same when a later file repeats it (until "
                    "then, its\n        -- place in its file: a repeated line counts twice)\n")
    header = _header([
        f"{title}'s {entity.replace('_', ' ')} as of D (files with business date <= D), in the normalized {kind} "
        f"shape (macro {macro} in macros/recon_columns.sql) plus the file's own columns. Scaffolded by "
        "`recon new-source`: a column of the same name fills a normalized column; each one marked TODO holds a "
        "placeholder (a typed NULL or a default) until you map it.",
        f"TODO: map every column marked TODO, then add '{model}' to the list in "
        f"models/intermediate/{union}.sql: from then on the reconciliation reads this model.",
    ])
    sql = (f"{header}with {rows} as (\n    select\n        src.*,\n{line_id_todo}        {line_id} as {name}_line_id\n"
           f"    from {src} as src\n    where src.business_date <= {{{{ as_of_date() }}}}\n),\n\n"
           f"ranked as (\n    select\n        {rows}.*,\n        {{{{ delivery_rank('{name}_line_id') }}}} as "
           f"delivery_rank\n    from {rows}\n)\n\nselect\n" + "\n".join(lines) + "\nfrom ranked\n")
    return StagingModel(model, sql, tuple(docs))


def _own_description(col: ColumnSpec) -> str:
    where = f"the file's `{col.header}`" if col.source and col.source != col.name else "the file"
    unit = {"money": f" in minor units of {col.currency_from}", "currency": " (ISO 4217, upper case)",
            "timestamp": " (UTC)"}.get(col.type, "")
    return f"From {where}{unit}."


def _render_other(model: str, name: str, title: str, src: str, columns: list[ColumnSpec]) -> StagingModel:
    header = _header([
        f"{title}'s rows as of D (files with business date <= D), one per landed row, typed as "
        f"dags/sources/{name}.yml declares. Scaffolded by `recon new-source` (role other): no intermediate model "
        "reads it; models that need these rows ref() this one.",
    ])
    lines = [f"    {c.name}," for c in columns] + [
        "    business_date,", _select_line("_file_id", "file_id"), _select_line("_row_number", "file_row_number"),
        _select_line("_load_id", "load_id", last=True)]
    docs = [(c.name, _own_description(c)) for c in columns] + [(s.name, s.description) for s in LINEAGE] + [
        ("load_id", "The ingest run that loaded the row.")]
    sql = f"{header}select\n" + "\n".join(lines) + f"\nfrom {src}\nwhere business_date <= {{{{ as_of_date() }}}}\n"
    return StagingModel(model, sql, tuple(docs))


_KEYWORDS = {"case", "when", "then", "else", "end", "and", "or", "not", "null"}


def select_columns(sql: str) -> list[str]:
    """The column names of a staging model's final select (one column per line, as every model here is written):
    its `as` aliases and bare column names, in order."""
    body = re.sub(r"\{#.*?#\}", "", sql, flags=re.S)
    lines = body.splitlines()
    start = max(i for i, line in enumerate(lines) if line.strip() == "select")
    names = []
    for line in lines[start + 1:]:
        text = re.sub(r"--.*", "", line).strip().rstrip(",").strip()
        if text.startswith("from "):
            break
        alias = re.search(r"\bas\s+([A-Za-z_][A-Za-z0-9_]*)$", text)
        if alias:
            names.append(alias.group(1))
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", text) and text.lower() not in _KEYWORDS:
            names.append(text.rsplit(".", 1)[-1])
    return names


def render_from_reference(*, reference_model: str, reference_source: str, body: str, name: str, entity: str,
                          role: str, title: str, format_label: str, processor: str,
                          columns: list[ColumnSpec]) -> StagingModel:
    """A reference source's model (its body already moved to this source by reference.staging_body)."""
    model = f"stg_{name}__{entity}"
    union = "int_processor_lines" if role == "processor" else "int_bank_lines"
    header = _header([
        f"{title}'s {entity.replace('_', ' ')} as of D (files with business date <= D), read as "
        f"{reference_model} reads {reference_source}, the other {format_label} source: the same normalized shape "
        "and the same rules for signs, line ids and dates, which the format fixes. Scaffolded by "
        "`recon new-source`.",
        f"TODO: check those rules against {title}'s files, then add '{model}' to the list in "
        f"models/intermediate/{union}.sql: from then on the reconciliation reads this model.",
    ])
    described = {s.name: s.description for s in (processor_slots(name, processor) if role == "processor"
                                                  else bank_slots(name))}
    own = {c.name: _own_description(c) for c in columns}
    own["load_id"] = "The ingest run that loaded the line."
    docs = tuple((c, described.get(c) or own.get(c, "")) for c in select_columns(body))
    return StagingModel(model, header + body.lstrip("\n"), docs)
