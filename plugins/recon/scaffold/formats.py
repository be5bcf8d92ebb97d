"""The formats `recon new-source` knows: friendly names (`csv`, `bai2`...) -> the parser registry's names, the role
a format implies and the file extension partners use."""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("processor", "bank", "other")


class ScaffoldError(ValueError):
    """A request the scaffold refuses; the message says what to do instead."""


@dataclass(frozen=True)
class FormatSpec:
    parser: str  # the registry name, written as the YAML's `format:`
    role: str | None  # the role the format implies (a bank statement format is a bank); None: any, --role needed
    extension: str  # what partners' files usually end with (the sample file and the docs' examples)
    label: str  # for messages and comments

    @property
    def is_csv(self) -> bool:
        return self.extension == "csv"


# A registered parser with no entry here can still be scaffolded by its registry name (see spec_for).
_FRIENDLY: dict[str, FormatSpec] = {
    "csv": FormatSpec("csv_table", None, "csv", "CSV file"),
    "bai2": FormatSpec("bai2", "bank", "bai2", "BAI2 bank statement"),
    "camt053": FormatSpec("camt053", "bank", "xml", "ISO 20022 camt.053 bank statement"),
    "stripe": FormatSpec("stripe_payout_csv", "processor", "csv",
                         "Stripe itemized payout reconciliation report"),
    "adyen": FormatSpec("adyen_settlement_csv", "processor", "csv",
                        "Adyen settlement details report"),
}


FRIENDLY_NAMES = tuple(_FRIENDLY)


def format_names() -> list[str]:
    """Every name --format accepts: the friendly ones, then registry names that have no friendly alias."""
    from recon.parsers.registry import PARSERS  # imported here: `recon --help` needs only FRIENDLY_NAMES

    aliased = {spec.parser for spec in _FRIENDLY.values()}
    return [*_FRIENDLY, *sorted(name for name in PARSERS if name not in aliased)]


def spec_for(name: str) -> FormatSpec:
    from recon.parsers.registry import PARSERS

    if name in _FRIENDLY:
        return _FRIENDLY[name]
    for spec in _FRIENDLY.values():
        if spec.parser == name:
            return spec
    if name in PARSERS:  # a parser registered after this table was written: any role, columns by hand
        return FormatSpec(name, None, "dat", f"format {name}")
    raise ScaffoldError(f"unknown format {name!r}: use one of {', '.join(format_names())}. A new file format "
                        "needs a parser first (plugins/recon/parsers/registry.py; see docs/adding-a-source.md)")


def resolve_role(spec: FormatSpec, role: str | None, format_name: str) -> str:
    if role is not None and role not in ROLES:
        raise ScaffoldError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if spec.role is None:
        if role is None:
            raise ScaffoldError(f"--format {format_name} fits any role: say which with --role processor (a payment "
                                "processor's report), --role bank (a bank statement) or --role other (loaded only)")
        return role
    if role not in (None, spec.role):
        raise ScaffoldError(f"--format {format_name} is a {spec.label}: its role is {spec.role}, not {role}")
    return spec.role
