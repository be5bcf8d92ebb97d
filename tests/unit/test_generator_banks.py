"""The generator's bank statements (BAI2, camt.053) and its payout-leg truth, recomputed from the written files.

The files are read back with other code than the generator's: the `bai2` package (integrity checks on) and lxml;
the payout rules of the spec are applied again here, to what those readers return, and must give the truth's rows.
"""
from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

try:
    import recon.generator  # noqa: F401
except ImportError:  # no root conftest / install yet: import from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from recon.generator import generate
from recon.generator.model import BankLine, Payout
from recon.generator.payout_truth import compute_payout_truth, payout_token

bai2 = pytest.importorskip("bai2.bai2")
etree = pytest.importorskip("lxml.etree")

pytestmark = pytest.mark.unit

START = date(2026, 1, 5)
DAYS, PER_DAY, SEED = 5, 100, 42
DATES = [START + timedelta(days=i) for i in range(DAYS)]
EXPONENTS = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}
PATTERNS = {"stripe": re.compile(r"po_[A-Za-z0-9]+"), "adyen": re.compile(r"(?i)batch\s*[0-9]+")}
WINDOW_DAYS, GRACE_DAYS = 5, 3
CAMT_NS = {
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "001.08",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02": "001.02",
}


@dataclass(frozen=True)
class ReadLine:
    """A bank line as a reader sees it (the spec's bank columns)."""

    source: str
    day: date  # the statement file's business date
    currency: str
    direction: str
    amount: int
    booked: bool
    bank_reference: str
    reference: str  # customer_reference / end_to_end_id
    text: str  # text / remittance_text
    value_date: date  # stated, else the group as-of date / booking date
    continued: bool = False  # BAI2 text over 88 records / several Ustrd


@dataclass(frozen=True)
class ReadPayout:
    processor: str
    reference: str
    token: str
    currency: str
    day: date
    expected: int
    reported: int | None


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def to_minor(amount: str, currency: str) -> int:
    return int(Decimal(amount or "0").scaleb(EXPONENTS[currency.upper()]))


def day_folder(out: Path, source: str, day: date) -> Path:
    return out / "s3" / "inbound" / source / f"{day:%Y/%m/%d}"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen_banks") / "data"
    generate(path, days=DAYS, per_day=PER_DAY, seed=SEED, start=START)
    return path


# -- readers ------------------------------------------------------------------------------------------------------


def parse_bai2(path: Path):  # noqa: ANN201 (the package's own model)
    return bai2.parse_from_string(path.read_text(encoding="ascii"), check_integrity=True)


def read_bai2_lines(path: Path, day: date) -> list[ReadLine]:
    lines = []
    for group in parse_bai2(path).children:
        as_of = group.header.as_of_date
        for account in group.children:
            currency = account.header.currency or group.header.currency or "USD"
            for detail in account.children:
                code = int(detail.type_code.code)
                stated = detail.availability.get("date") if detail.funds_type and detail.funds_type.value == "V" \
                    else None
                lines.append(ReadLine(
                    "bank_us", day, currency, "credit" if 100 <= code <= 399 else "debit", detail.amount, True,
                    detail.bank_reference or "", detail.customer_reference or "", detail.text or "",
                    stated or as_of, continued=len(detail.rows) > 1,
                ))
    return lines


def camt_root(path: Path):  # noqa: ANN201
    root = etree.parse(str(path)).getroot()
    version = CAMT_NS[etree.QName(root).namespace]
    for element in root.iter():
        element.tag = etree.QName(element).localname
    return root, version


def _date(element) -> date | None:  # noqa: ANN001
    if element is None:
        return None
    text = element.findtext("Dt") or (element.findtext("DtTm") or "")[:10]
    return date.fromisoformat(text) if text else None


def read_camt_lines(path: Path, day: date) -> list[ReadLine]:
    root, _ = camt_root(path)
    lines = []
    for stmt in root.iter("Stmt"):
        for ntry in stmt.findall("Ntry"):
            amount = ntry.find("Amt")
            status = ntry.findtext("Sts/Cd") or ntry.findtext("Sts")
            ends = [e.text for e in ntry.iter("EndToEndId") if e.text != "NOTPROVIDED"]
            ustrd = [e.text for e in ntry.iter("Ustrd")]
            lines.append(ReadLine(
                "bank_eu", day, amount.get("Ccy"), "credit" if ntry.findtext("CdtDbtInd") == "CRDT" else "debit",
                to_minor(amount.text, amount.get("Ccy")),
                status == "BOOK" and ntry.findtext("RvslInd") != "true",
                ntry.findtext("AcctSvcrRef") or "", " ".join(ends), " ".join(ustrd),
                _date(ntry.find("ValDt")) or _date(ntry.find("BookgDt")), continued=len(ustrd) > 1,
            ))
    return lines


def read_bank_lines(out: Path) -> list[ReadLine]:
    lines = []
    for day in DATES:
        lines += read_bai2_lines(day_folder(out, "bank_us", day) / f"bank_us_{day:%Y-%m-%d}.bai2", day)
        lines += read_camt_lines(day_folder(out, "bank_eu", day) / f"bank_eu_{day:%Y-%m-%d}.xml", day)
    return lines


def read_payouts(out: Path) -> list[ReadPayout]:
    found = []
    for day in DATES:
        stripe: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in read_csv(day_folder(out, "stripe", day) / f"stripe_payout_reconciliation_{day:%Y-%m-%d}.csv"):
            stripe[row["automatic_payout_id"]].append(row)
        for payout_id, rows in stripe.items():
            currency = rows[0]["currency"].upper()
            nets = [(row["reporting_category"], to_minor(row["net"], currency)) for row in rows]
            reported = [-net for category, net in nets if category == "payout"]
            found.append(ReadPayout("stripe", payout_id, payout_id, currency, day,
                                    sum(net for category, net in nets if category != "payout"),
                                    reported[0] if reported else None))
        (adyen_file,) = day_folder(out, "adyen", day).glob("adyen_settlement_detail_report_batch_*.csv")
        adyen: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
        for row in read_csv(adyen_file):
            adyen[(row["Merchant Account"], row["Batch Number"], row["Net Currency"])].append(row)
        for (merchant, batch, currency), rows in adyen.items():
            net = {id(row): to_minor(row["Net Credit (NC)"], currency) - to_minor(row["Net Debit (NC)"], currency)
                   for row in rows}
            reported = [to_minor(row["Net Debit (NC)"], currency) for row in rows if row["Type"] == "MerchantPayout"]
            found.append(ReadPayout("adyen", f"{merchant}:{batch}", str(int(batch)), currency, day,
                                    sum(net[id(row)] for row in rows if row["Type"] != "MerchantPayout"),
                                    reported[0] if reported else None))
    return found


@pytest.fixture(scope="module")
def bank_lines(out: Path) -> list[ReadLine]:
    return read_bank_lines(out)


@pytest.fixture(scope="module")
def payouts(out: Path) -> list[ReadPayout]:
    return read_payouts(out)


# -- BAI2 ---------------------------------------------------------------------------------------------------------


def test_bai2_files_pass_the_packages_integrity_checks(out: Path) -> None:
    funds, continued = set(), 0
    for day in DATES:
        path = day_folder(out, "bank_us", day) / f"bank_us_{day:%Y-%m-%d}.bai2"
        parsed = parse_bai2(path)  # raises on any wrong control total or record count
        records = path.read_text(encoding="ascii").splitlines()
        assert records[0].startswith("01,") and records[-1].startswith("99,")
        assert {r[:2] for r in records} <= {"01", "02", "03", "16", "88", "49", "98", "99"}
        (group,) = parsed.children
        assert group.header.as_of_date == day
        assert [account.header.currency for account in group.children] == ["USD", "JPY"]
        file_total = 0
        for account in group.children:
            details = sum(child.amount for child in account.children)
            summaries = sum(item.amount for item in account.header.summary_items)
            assert details + summaries == account.trailer.account_control_total
            file_total += account.trailer.account_control_total
            for child in account.children:
                funds.add(child.funds_type.value if child.funds_type else "")
                continued += len(child.rows) > 1
        assert group.trailer.group_control_total == parsed.trailer.file_control_total == file_total
        assert parsed.trailer.number_of_records == len(records)
    assert "V" in funds and funds - {"V"}  # value-dated lines, and lines that fall back to the as-of date
    assert continued  # some text goes on over 88 records


def test_bai2_balances_add_up_and_chain(out: Path) -> None:
    closing: dict[str, int] = {}
    for day in DATES:
        group = parse_bai2(day_folder(out, "bank_us", day) / f"bank_us_{day:%Y-%m-%d}.bai2").children[0]
        for account in group.children:
            summary = {item.type_code.code: item for item in account.header.summary_items}
            credits = [c.amount for c in account.children if int(c.type_code.code) < 400]
            debits = [c.amount for c in account.children if int(c.type_code.code) >= 400]
            assert (summary["100"].amount, summary["100"].item_count) == (sum(credits), len(credits))
            assert (summary["400"].amount, summary["400"].item_count) == (sum(debits), len(debits))
            assert summary["015"].amount == summary["010"].amount + sum(credits) - sum(debits)
            number = account.header.customer_account_number
            if number in closing:
                assert summary["010"].amount == closing[number]
            closing[number] = summary["015"].amount


# -- camt.053 -----------------------------------------------------------------------------------------------------


def test_camt_files_parse_alternate_versions_and_balances_chain(out: Path) -> None:
    closing: dict[str, int] = {}
    statuses, reversals, texts = set(), 0, set()
    for index, day in enumerate(DATES):
        root, version = camt_root(day_folder(out, "bank_eu", day) / f"bank_eu_{day:%Y-%m-%d}.xml")
        assert version == ("001.08" if index % 2 == 0 else "001.02")
        stmts = root.findall("BkToCstmrStmt/Stmt")
        assert [stmt.findtext("Acct/Ccy") for stmt in stmts] == ["EUR", "KWD"]
        for stmt in stmts:
            account = stmt.findtext("Acct/Id/IBAN") or stmt.findtext("Acct/Id/Othr/Id")
            currency = stmt.findtext("Acct/Ccy")
            balances = {}
            for bal in stmt.findall("Bal"):
                amount = bal.find("Amt")
                assert amount.get("Ccy") == currency
                sign = 1 if bal.findtext("CdtDbtInd") == "CRDT" else -1
                balances[bal.findtext("Tp/CdOrPrtry/Cd")] = sign * to_minor(amount.text, currency)
            movement = 0
            for ntry in stmt.findall("Ntry"):
                status = ntry.findtext("Sts/Cd") if version == "001.08" else ntry.findtext("Sts")
                assert status is not None and (ntry.find("Sts/Cd") is None) == (version == "001.02")
                statuses.add(status)
                reversals += ntry.findtext("RvslInd") == "true"
                texts.update(e.text for e in ntry.iter("Ustrd"))
                amount = ntry.find("Amt")
                assert amount.get("Ccy") == currency
                if status == "BOOK":
                    assert ntry.find("BookgDt") is not None
                    signed = to_minor(amount.text, currency)
                    movement += signed if ntry.findtext("CdtDbtInd") == "CRDT" else -signed
            assert balances["CLBD"] == balances["OPBD"] + movement
            if account in closing:
                assert balances["OPBD"] == closing[account]
            closing[account] = balances["CLBD"]
    assert statuses == {"BOOK", "PDNG"} and reversals
    assert "ACCOUNT MAINTENANCE FEE & CHARGES <SEPA>" in texts  # escaped on the way out, back intact


# -- payouts and bank credits -------------------------------------------------------------------------------------


def _token(line: ReadLine, processor: str) -> str | None:
    for text in (line.bank_reference, line.reference, line.text):
        match = PATTERNS[processor].search(text)
        if match:
            return re.findall(r"[A-Za-z0-9_]+", match.group(0))[-1]
    return None


def _expected_rows(payouts: list[ReadPayout], lines: list[ReadLine], as_of: date) -> set[tuple[str, ...]]:
    """The spec's payout-leg rules, applied to what the readers returned."""
    credits = [line for line in lines if line.day <= as_of and line.direction == "credit" and line.booked]
    used: set[ReadLine] = set()
    rows = set()
    for payout in payouts:
        if payout.day > as_of:
            continue
        qualifying = [line for line in credits if line.currency == payout.currency
                      and _token(line, payout.processor) == payout.token
                      and payout.day <= line.value_date <= payout.day + timedelta(days=WINDOW_DAYS)]
        credit = min(qualifying, default=None,
                     key=lambda c: (c.amount != payout.expected, c.value_date, c.bank_reference))
        if credit is None:
            status = "pending_bank" if (as_of - payout.day).days <= GRACE_DAYS else "missing_in_bank"
        else:
            used.add(credit)
            ok = credit.amount == payout.expected and payout.reported in (None, payout.expected)
            status = "funded" if ok else "amount_mismatch"
        rows.add((as_of.isoformat(), "payout", payout.processor, payout.reference, payout.currency,
                  payout.day.isoformat(), str(payout.expected), "" if payout.reported is None else str(payout.reported),
                  credit.source if credit else "", credit.bank_reference if credit else "",
                  str(credit.amount) if credit else "", credit.value_date.isoformat() if credit else "", status))
    for line in credits:
        if line not in used:
            rows.add((as_of.isoformat(), "bank_credit", "", "", line.currency, "", "", "", line.source,
                      line.bank_reference, str(line.amount), line.value_date.isoformat(), "unexplained_bank_credit"))
    return rows


def test_payout_truth_equals_the_rules_applied_to_the_files(out: Path, payouts: list[ReadPayout],
                                                           bank_lines: list[ReadLine]) -> None:
    truth = read_csv(out / "truth" / "payouts.csv")
    columns = [c for c in truth[0] if c != "anomaly"]
    for as_of in DATES:
        expected = _expected_rows(payouts, bank_lines, as_of)
        actual = {tuple(row[c] for c in columns) for row in truth if row["as_of_date"] == as_of.isoformat()}
        assert actual == expected, as_of
        assert len(actual) == sum(row["as_of_date"] == as_of.isoformat() for row in truth)
    statuses = {row["expected_status"] for row in truth}
    assert statuses == {"funded", "amount_mismatch", "pending_bank", "missing_in_bank", "unexplained_bank_credit"}


def test_payouts_are_positive_and_agree_with_their_payout_line(payouts: list[ReadPayout]) -> None:
    assert payouts and all(p.expected > 0 and p.reported == p.expected for p in payouts)
    by_processor = defaultdict(set)
    for payout in payouts:
        by_processor[payout.processor].add(payout.currency)
    assert by_processor == {"stripe": set(EXPONENTS), "adyen": set(EXPONENTS)}
    adyen = sorted({(p.day, p.reference) for p in payouts if p.processor == "adyen"})
    assert [ref for _, ref in adyen] == [f"RECON_MERCHANT:{1001 + i}" for i in range(DAYS)]


def test_bank_credits_route_by_currency_and_spell_the_token(payouts: list[ReadPayout],
                                                            bank_lines: list[ReadLine]) -> None:
    assert {(line.source, line.currency) for line in bank_lines} == {
        ("bank_us", "USD"), ("bank_us", "JPY"), ("bank_eu", "EUR"), ("bank_eu", "KWD")}
    paid = {(line.currency, _token(line, processor)): line for line in bank_lines for processor in PATTERNS
            if line.booked and _token(line, processor)}
    # Both processors' payouts are paid in 0- and 3-decimal currencies too.
    for processor in PATTERNS:
        for currency in ("JPY", "KWD"):
            assert any((p.currency, p.token) in paid for p in payouts
                       if p.processor == processor and p.currency == currency), (processor, currency)
    spellings = {m.group(0) for line in bank_lines for m in [PATTERNS["adyen"].search(line.text)] if m}
    assert len({re.sub(r"[0-9]", "", s) for s in spellings}) >= 3  # case and spacing vary
    # A token sometimes sits in the reference field, sometimes only in the text, sometimes in a continuation.
    assert any(PATTERNS["stripe"].search(line.reference) for line in bank_lines)
    assert any(PATTERNS["stripe"].search(line.text) and not line.reference for line in bank_lines)
    assert any(line.continued and (PATTERNS["adyen"].search(line.text) or PATTERNS["stripe"].search(line.text))
               for line in bank_lines if line.source == "bank_us")


def test_every_kind_of_stray_credit(out: Path, payouts: list[ReadPayout], bank_lines: list[ReadLine]) -> None:
    """Unexplained credits: interest (no token), an unknown payout token, and a second credit for a funded payout."""
    last = DATES[-1].isoformat()
    rows = [r for r in read_csv(out / "truth" / "payouts.csv") if r["as_of_date"] == last]
    stray = {(r["bank_source"], r["bank_reference"]) for r in rows if r["kind"] == "bank_credit"}
    tokens = {(p.processor, p.currency, p.token) for p in payouts}
    kinds = set()
    for line in bank_lines:
        if (line.source, line.bank_reference) in stray:
            found = [(processor, line.currency, _token(line, processor)) for processor in PATTERNS
                     if _token(line, processor)]
            kinds.add("interest" if not found else "duplicate" if set(found) & tokens else "unknown")
    assert kinds == {"interest", "unknown", "duplicate"}
    assert {source for source, _ in stray} == {"bank_us", "bank_eu"}


def test_healthy_payouts_are_credited_one_or_two_days_later(out: Path) -> None:
    last = DATES[-1].isoformat()
    rows = [r for r in read_csv(out / "truth" / "payouts.csv") if r["as_of_date"] == last and r["kind"] == "payout"]
    lags = {(date.fromisoformat(r["value_date"]) - date.fromisoformat(r["payout_date"])).days
            for r in rows if r["anomaly"] == "none" and r["expected_status"] == "funded"}
    assert lags == {1, 2}
    routed = {(r["currency"], r["bank_source"]) for r in rows if r["bank_source"]}
    assert routed <= {("USD", "bank_us"), ("JPY", "bank_us"), ("EUR", "bank_eu"), ("KWD", "bank_eu")}


def test_payout_rules_on_a_hand_made_case() -> None:
    d = [START + timedelta(days=i) for i in range(8)]

    def credit(ref: str, day: date, amount: int, text: str, currency: str = "EUR", reference: str = "",
               status: str = "BOOK", reversal: bool = False, value: date | None = None,
               direction: str = "credit") -> BankLine:
        return BankLine("bank_eu", day, currency, direction, amount, "ach_credit", ref, reference, (text,), value,
                        status=status, is_reversal=reversal)

    payouts = [
        Payout("stripe", "po_A1", "po_A1", "EUR", d[0], 1000, 1000),  # two credits: the exact amount wins
        Payout("adyen", "RECON_MERCHANT:1001", "1001", "EUR", d[0], 500, 500),  # only a credit out of window
        Payout("adyen", "RECON_MERCHANT:1001", "1001", "USD", d[0], 700, 700),  # short by 2
        Payout("stripe", "po_B2", "po_B2", "EUR", d[1], 300, 299),  # the processor's own total disagrees
        Payout("stripe", "po_C3", "po_C3", "EUR", d[1], 400, 400),  # pending, reversed and debit lines only
    ]
    lines = [
        credit("R2", d[1], 999, "STRIPE PAYOUT po_A1"),
        credit("R1", d[2], 1000, "x", reference="po_A1"),
        credit("R3", d[7], 500, "ADYEN batch  1001"),  # value date d7 > d0 + 5
        credit("R4", d[5], 698, "ADYEN BATCH 1001", currency="USD", value=d[5]),  # d0 + 5: still in the window
        credit("R5", d[2], 300, "po_B2 payout"),
        credit("R6", d[2], 400, "po_C3", status="PDNG"),
        credit("R7", d[2], 400, "po_C3", reversal=True),
        credit("R8", d[2], 400, "po_C3", direction="debit"),
        credit("R9", d[0], 400, "BATCH1001 no space: the token pattern still finds 1001"),
    ]
    batch, number = re.compile(r"(?i)batch\s*[0-9]+"), re.compile(r"[0-9]+$")
    assert payout_token(lines[2], batch, number) == "1001"
    assert payout_token(lines[8], batch, number) == "1001"
    assert payout_token(lines[8], batch) == "BATCH1001"  # no token pattern: the whole match
    rows = compute_payout_truth(payouts, lines, d, {})
    state = {(r.as_of_date, r.processor, r.payout_reference, r.currency, r.bank_reference): r.expected_status
             for r in rows}
    payout = {(r.as_of_date, r.payout_reference, r.currency): r for r in rows if r.kind == "payout"}
    assert payout[(d[1], "po_A1", "EUR")].bank_reference == "R2"  # the only one visible: amount_mismatch
    assert payout[(d[1], "po_A1", "EUR")].expected_status == "amount_mismatch"
    assert payout[(d[2], "po_A1", "EUR")].bank_reference == "R1"  # the exact amount wins over the earlier one
    assert payout[(d[2], "po_A1", "EUR")].expected_status == "funded"
    assert state[(d[2], "", "", "EUR", "R2")] == "unexplained_bank_credit"
    # R9 (400, in the window) is the only credit for the EUR batch: a short payout from d0 on
    assert [payout[(day, "RECON_MERCHANT:1001", "EUR")].expected_status for day in d] == ["amount_mismatch"] * 8
    assert payout[(d[0], "RECON_MERCHANT:1001", "EUR")].bank_reference == "R9"
    assert state[(d[7], "", "", "EUR", "R3")] == "unexplained_bank_credit"
    assert [payout[(day, "RECON_MERCHANT:1001", "USD")].expected_status for day in d[3:]] == \
        ["pending_bank", "missing_in_bank", "amount_mismatch", "amount_mismatch", "amount_mismatch"]
    # reported != expected: a break as soon as the payout is seen, before any bank credit
    assert [payout[(day, "po_B2", "EUR")].expected_status for day in d[1:3]] == ["amount_mismatch"] * 2
    assert [payout[(day, "po_C3", "EUR")].expected_status for day in d[1:]] == \
        ["pending_bank"] * 4 + ["missing_in_bank"] * 3
    bank_rows = {r.bank_reference for r in rows if r.kind == "bank_credit"}
    assert not bank_rows & {"R6", "R7", "R8"}  # pending, reversal, debit: never rows
    assert "R9" not in bank_rows
