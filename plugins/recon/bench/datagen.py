"""Big business days for the benchmark, written as streams: one ledger entry and its processor line(s) at a time,
so a million-entry day (or a 5M-row file) never sits in memory.

Same formats and layout as `recon generate` (recon.generator), so `recon seed` plays them and the real parsers and
GX suites read them: product/ledger_changes_<D>.csv, s3/inbound/stripe|adyen|bank_us|bank_eu/YYYY/MM/DD/... The
generator builds a whole multi-day world in memory with its ground truth (fine for hundreds of entries a day, ~3 GB
for a million); this writer is a separate, simpler model of the same business for volume, with no ground truth:
the benchmark's honesty check is the raw floor's hand-written SQL against the marts instead (recon.bench.floor).

A day: N ledger entries split between Stripe and Adyen (USD 60%, EUR 25%, JPY 10%, KWD 5%; captures mostly, some
refunds, chargebacks and reversals) with, per item, at most one anomaly: amount or currency mismatch, no processor
line, a processor line 1-3 days late, a line with no ledger entry, a key twice in the ledger or twice at the
processor, an entry voided the next day. One payout per processor and currency per day; its bank credit comes
`bank_lag_days` later (0 for a single benchmark day, so funding is exercised; 1 in the growth run), now and then
short or missing; plus a bank fee per account and day and, some days, an unexplained interest credit.
Also writes floor/bank_lines_<D>.tsv: the day's bank lines already parsed, for the raw floor (recon.bench.floor).
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from recon.generator.model import BankLine
from recon.generator.money import EXPONENTS, format_major
from recon.generator.outputs import LEDGER_COLUMNS
from recon.generator.processors.adyen import COLUMNS as ADYEN_COLUMNS
from recon.generator.processors.adyen import COMPANY_ACCOUNT, MERCHANT_ACCOUNT, format_amount
from recon.generator.processors.stripe import COLUMNS as STRIPE_COLUMNS
from recon.generator.routing import BANK_OF_CURRENCY
from recon.generator.statements import ACCOUNTS, AccountDay, statement_path, version_for
from recon.generator.statements.accounts import booked_movement
from recon.generator.statements.bai2 import render_bai2
from recon.generator.statements.camt053 import render_camt053

CURRENCIES = ("USD", "EUR", "JPY", "KWD")
CURRENCY_CUTS = (0.60, 0.85, 0.95, 1.0)  # cumulative weights of CURRENCIES
_MAJOR_RANGE = {"USD": (5, 500), "EUR": (5, 400), "JPY": (500, 60_000), "KWD": (1, 150)}
ENTRY_TYPES = ("capture", "refund", "chargeback", "chargeback_reversal")
TYPE_CUTS = (0.92, 0.97, 0.99, 1.0)
SIGN = {"capture": 1, "refund": -1, "chargeback": -1, "chargeback_reversal": 1}
STRIPE_CATEGORY = {"capture": "charge", "refund": "refund", "chargeback": "dispute",
                   "chargeback_reversal": "dispute_reversal"}
STRIPE_PREFIX = {"capture": "ch_", "refund": "re_", "chargeback": "dp_", "chargeback_reversal": "dp_"}
ADYEN_TYPE = {"capture": "Settled", "refund": "Refunded", "chargeback": "Chargeback",
              "chargeback_reversal": "ChargebackReversed"}
ADYEN_FIXED_FEE = {"USD": 10, "EUR": 10, "JPY": 15, "KWD": 30}
# probability per item, drawn in this order (at most one per item)
ANOMALIES: tuple[tuple[str, float], ...] = (
    ("amount_mismatch", 0.010), ("currency_mismatch", 0.005), ("no_processor_line", 0.010), ("late_line", 0.020),
    ("missing_in_ledger", 0.005), ("duplicate_in_ledger", 0.005), ("duplicate_in_processor", 0.005),
    ("voided", 0.010),
)
SHORT_PAYOUT, MISSING_CREDIT, INTEREST_CREDIT = 0.05, 0.03, 0.3  # per payout, per payout, per day
ADYEN_EPOCH = date(2026, 1, 1)  # batch number = 1001 + days since then: one batch per business date


def batch_number(day: date) -> int:
    return 1001 + (day - ADYEN_EPOCH).days


@dataclass
class Line:
    """One processor transaction line, as it will be written (possibly in a later day's file)."""

    processor: str
    entry_type: str
    reference: str  # the match key's reference (Stripe source_id; Adyen PSP or modification reference)
    currency: str
    amount_minor: int  # positive, as the ledger holds it
    created: str  # 'YYYY-MM-DD HH:MM:SS' UTC
    order: str


@dataclass
class Payout:
    processor: str
    reference: str  # Stripe po_ id, Adyen '<merchant>:<batch>'
    token: str  # what the bank line carries: po_ id, batch number
    currency: str
    amount_minor: int
    business_date: date


@dataclass
class DayFiles:
    day: date
    ledger_csv: Path
    files: dict[str, Path]  # source -> its file of the day
    bank_tsv: Path
    entries: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # ledger rows, stripe/adyen rows, bank lines

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class _PayoutSums:
    """Running net (minor units) and transaction counts per currency of one processor file."""

    def __init__(self) -> None:
        self.net: dict[str, int] = {}
        self.count: dict[str, int] = {}
        self.charges: dict[str, int] = {}

    def add(self, currency: str, net: int, is_charge: bool) -> None:
        self.net[currency] = self.net.get(currency, 0) + net
        self.count[currency] = self.count.get(currency, 0) + 1
        if is_charge:
            self.charges[currency] = self.charges.get(currency, 0) + 1


def _time(day_text: str, second: int, micro: int) -> tuple[str, str]:
    """('YYYY-MM-DD HH:MM:SS', the same with microseconds) for a second of the day."""
    base = f"{day_text} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
    return base, f"{base}.{micro:06d}"


class StripeFile:
    """Stripe's itemized payout reconciliation report for one business date, written row by row."""

    def __init__(self, path: Path, day: date) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.day = path, day
        self.handle: TextIO = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(STRIPE_COLUMNS)
        self.effective = f"{day + timedelta(days=2)} 00:00:00"
        self.sums = _PayoutSums()
        self.rows = 0
        self._txn = 0

    def payout_id(self, currency: str) -> str:
        return f"po_{self.day:%Y%m%d}{currency}"

    def _row(self, currency: str, gross: int, fee: int, category: str, source_id: str, description: str,
             created: str) -> None:
        self._txn += 1
        c = currency
        self.writer.writerow((
            self.payout_id(c), self.effective, f"txn_{self.day:%Y%m%d}{self._txn:09d}", created, self.effective,
            c.lower(), format_major(gross, c), format_major(fee, c), format_major(gross - fee, c), category,
            source_id, description, "", "", "", ""))
        self.rows += 1

    def line(self, line: Line, amount_minor: int | None = None) -> None:
        amount = line.amount_minor if amount_minor is None else amount_minor
        gross = SIGN[line.entry_type] * amount
        if line.entry_type == "capture":
            fee = (amount * 29 + 500) // 1000 + 30
        elif line.entry_type == "chargeback":
            fee = 15 * 10 ** EXPONENTS[line.currency]
        else:
            fee = 0
        self._row(line.currency, gross, fee, STRIPE_CATEGORY[line.entry_type], line.reference,
                  f"Payment for {line.order}", line.created)
        self.sums.add(line.currency, gross - fee, line.entry_type == "capture")

    def close(self) -> list[Payout]:
        """Radar fees, a top-up when a currency nets negative, then the payout line per currency."""
        payouts = []
        end = f"{self.day} 23:59:59"
        for currency in sorted(self.sums.net):
            charges = self.sums.charges.get(currency, 0)
            radar = max(1, -(-charges * 5 * 10 ** EXPONENTS[currency] // 100))
            self._row(currency, -radar, 0, "fee", "", "Radar fees", end)
            net = self.sums.net[currency] - radar
            if net <= 0:
                top_up = 10 ** EXPONENTS[currency] - net
                self._row(currency, top_up, 0, "other_adjustment", f"adj_{self.day:%Y%m%d}{currency}",
                          "Negative balance cover", end)
                net += top_up
            self._row(currency, -net, 0, "payout", self.payout_id(currency), "STRIPE PAYOUT", self.effective)
            payouts.append(Payout("stripe", self.payout_id(currency), self.payout_id(currency), currency, net,
                                  self.day))
        self.handle.close()
        return payouts


class AdyenFile:
    """Adyen's settlement details report (one batch) for one business date, written row by row (all in UTC)."""

    def __init__(self, path: Path, day: date) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.day = path, day
        self.batch = batch_number(day)
        self.handle: TextIO = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(ADYEN_COLUMNS)
        self.booking = f"{day} 23:50:00"
        self.sums = _PayoutSums()
        self.rows = 0
        self._mod = 0

    def _modification(self) -> str:
        self._mod += 1
        return f"9{(self.day - ADYEN_EPOCH).days:05d}{self._mod:010d}"

    def _row(self, kind: str, created: str, currency: str, *, psp: str = "", order: str = "", modification: str = "",
             gross_debit: str = "", gross_credit: str = "", net_debit: str = "", net_credit: str = "",
             commission: str = "", markup: str = "") -> None:
        self.writer.writerow((
            COMPANY_ACCOUNT, MERCHANT_ACCOUNT, psp, order, "visa" if psp else "", created, "UTC", kind, modification,
            currency if psp else "", gross_debit, gross_credit, "1" if psp else "", currency, net_debit, net_credit,
            commission, markup, "", "", "visastandardcredit" if psp else "", "", str(self.batch), self.booking,
            "UTC"))
        self.rows += 1

    def line(self, line: Line, amount_minor: int | None = None) -> None:
        amount = line.amount_minor if amount_minor is None else amount_minor
        c, kind = line.currency, line.entry_type
        if kind == "capture":
            psp, modification = line.reference, self._modification()
        else:  # refunds and disputes: the payment's PSP reference, their own as modification reference
            psp, modification = f"8{line.reference[1:]}", line.reference
        fee = (amount * 150 + 5_000) // 10_000 + ADYEN_FIXED_FEE[c] if kind == "capture" else 0
        markup = 15 * 10 ** EXPONENTS[c] if kind == "chargeback" else 0
        credit = kind in ("capture", "chargeback_reversal")
        net = amount - fee if credit else -(amount + markup)
        text = format_amount(amount, c)
        self._row(ADYEN_TYPE[kind], line.created, c, psp=psp, order=line.order, modification=modification,
                  gross_credit=text if credit else "", gross_debit="" if credit else text,
                  net_credit=format_amount(net, c) if net >= 0 else "",
                  net_debit=format_amount(-net, c) if net < 0 else "",
                  commission=format_amount(fee, c) if fee else "", markup=format_amount(markup, c) if markup else "")
        self.sums.add(c, net, kind == "capture")

    def close(self) -> list[Payout]:
        payouts = []
        end = f"{self.day} 23:00:00"
        for currency in sorted(self.sums.net):
            fee = self.sums.count[currency] * ADYEN_FIXED_FEE[currency]
            self._row("Fee", end, currency, modification=f"Transaction Fees {self.day:%B %d %Y}",
                      net_debit=format_amount(fee, currency))
            net = self.sums.net[currency] - fee
            if net <= 0:
                top_up = 10 ** EXPONENTS[currency] - net
                self._row("Balancetransfer", end, currency, modification="Balance transfer from reserve",
                          net_credit=format_amount(top_up, currency))
                net += top_up
            self._row("MerchantPayout", end, currency, modification=f"TX{self.batch:010d}XT batch {self.batch}",
                      net_debit=format_amount(net, currency))
            payouts.append(Payout("adyen", f"{MERCHANT_ACCOUNT}:{self.batch}", str(self.batch), currency, net,
                                  self.day))
        self.handle.close()
        return payouts


class BigDataWriter:
    """Writes consecutive business days under `out_dir`; what crosses days (late lines, voids, payouts the bank has
    not credited yet, account balances) is carried in small queues, never the days themselves."""

    def __init__(self, out_dir: Path, *, seed: int = 7, bank_lag_days: int = 1) -> None:
        self.out_dir, self.seed, self.bank_lag_days = Path(out_dir), seed, bank_lag_days
        self.late_lines: dict[date, list[Line]] = {}
        self.voids: dict[date, list[tuple[str, ...]]] = {}
        self.to_credit: dict[date, list[Payout]] = {}
        self.balances = {acct.number: acct.opening_minor for accts in ACCOUNTS.values() for acct in accts}
        self.days_written = 0

    def ledger_path(self, day: date) -> Path:
        return self.out_dir / "product" / f"ledger_changes_{day:%Y-%m-%d}.csv"

    def _inbound(self, source: str, day: date, name: str) -> Path:
        return self.out_dir / "s3" / "inbound" / source / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / name

    def write_day(self, day: date, entries: int) -> DayFiles:
        rng = random.Random(f"{self.seed}-{day.isoformat()}")
        stripe = StripeFile(self._inbound("stripe", day, f"stripe_payout_reconciliation_{day}.csv"), day)
        adyen = AdyenFile(self._inbound("adyen", day, f"adyen_settlement_detail_report_batch_{batch_number(day)}.csv"),
                          day)
        by_processor = {"stripe": stripe, "adyen": adyen}
        ledger_path = self.ledger_path(day)
        ledger_path.parent.mkdir(parents=True, exist_ok=True)
        ledger_rows = 0
        with ledger_path.open("w", encoding="utf-8", newline="") as ledger:
            ledger.write(",".join(LEDGER_COLUMNS) + "\n")
            for row in self.voids.pop(day, []):  # yesterday's entries voided today: their new version
                ledger.write(",".join(row) + "\n")
                ledger_rows += 1
            ledger_rows += self._write_items(rng, day, entries, ledger, by_processor)
        for line in self.late_lines.pop(day, []):  # lines of earlier days that settle today
            by_processor[line.processor].line(line)
        payouts = stripe.close() + adyen.close()
        self.to_credit.setdefault(day + timedelta(days=self.bank_lag_days), []).extend(payouts)
        files = DayFiles(day=day, ledger_csv=ledger_path, files={"stripe": stripe.path, "adyen": adyen.path},
                         bank_tsv=self.out_dir / "floor" / f"bank_lines_{day}.tsv", entries=entries)
        bank_lines = self._write_banks(rng, day, files)
        files.rows = {"ledger": ledger_rows, "stripe": stripe.rows, "adyen": adyen.rows, "bank": bank_lines}
        self.days_written += 1
        return files

    def _write_items(self, rng: random.Random, day: date, entries: int, ledger: TextIO,
                     by_processor: dict[str, StripeFile | AdyenFile]) -> int:
        day_text, key = day.isoformat(), f"{day:%Y%m%d}"
        adyen_day = f"{(day - ADYEN_EPOCH).days:05d}"
        next_day = day + timedelta(days=1)
        rand, randint = rng.random, rng.randint
        write = ledger.write
        rows = 0
        for i in range(entries):
            processor = "stripe" if rand() < 0.5 else "adyen"
            draw = rand()
            currency = CURRENCIES[next(n for n, cut in enumerate(CURRENCY_CUTS) if draw < cut)]
            draw = rand()
            entry_type = ENTRY_TYPES[next(n for n, cut in enumerate(TYPE_CUTS) if draw < cut)]
            low, high = _MAJOR_RANGE[currency]
            scale = 10 ** EXPONENTS[currency]
            amount = randint(low * scale, high * scale)
            reference = (f"{STRIPE_PREFIX[entry_type]}{key}{i:010d}" if processor == "stripe"
                         else f"1{adyen_day}{i:010d}")
            second = i * 86_400 // entries if entries else 0
            created, occurred = _time(day_text, second, randint(0, 999_999))
            line = Line(processor, entry_type, reference, currency, amount, created, f"order-{key}-{i}")
            anomaly, draw, cumulative = "", rand(), 0.0
            for name, rate in ANOMALIES:
                cumulative += rate
                if draw < cumulative:
                    anomaly = name
                    break
            ledger_row = (f"le_{key}_{i:010d}", entry_type, processor, reference, f"acct_{i % 50_000:05d}",
                          f"m_{i % 997:03d}", str(amount), currency, "posted", occurred, occurred)
            if anomaly != "missing_in_ledger":
                write(",".join(ledger_row) + "\n")
                rows += 1
            if anomaly == "duplicate_in_ledger":  # a second entry with the same key
                write(",".join((f"le_{key}_{i:010d}_dup", *ledger_row[1:])) + "\n")
                rows += 1
            if anomaly == "voided":  # no line; voided tomorrow (a new version of the row)
                self.voids.setdefault(next_day, []).append(
                    (*ledger_row[:8], "voided", occurred, _time(next_day.isoformat(), second, 0)[1]))
                continue
            if anomaly == "no_processor_line":
                continue
            if anomaly == "late_line":
                self.late_lines.setdefault(day + timedelta(days=randint(1, 3)), []).append(line)
                continue
            writer = by_processor[processor]
            if anomaly == "amount_mismatch":
                writer.line(line, amount + 1)
            elif anomaly == "currency_mismatch":
                other = CURRENCIES[(CURRENCIES.index(currency) + 1) % len(CURRENCIES)]
                writer.line(Line(processor, entry_type, reference, other, amount, created, line.order))
            else:
                writer.line(line)
                if anomaly == "duplicate_in_processor":
                    writer.line(line)
        return rows

    def _write_banks(self, rng: random.Random, day: date, files: DayFiles) -> int:
        lines: list[BankLine] = []
        counter = iter(range(1, 10**8))

        def reference(source: str) -> str:
            n = next(counter)
            return f"{day:%y%m%d}{n:06d}" if source == "bank_us" else f"EU{day:%Y%m%d}{n:08d}"

        for payout in sorted(self.to_credit.pop(day, []), key=lambda p: (p.processor, p.currency)):
            if rng.random() < MISSING_CREDIT:
                continue
            amount = payout.amount_minor - (5 if rng.random() < SHORT_PAYOUT else 0)
            source = BANK_OF_CURRENCY[payout.currency]
            if payout.processor == "stripe":
                purpose, ref, text = "ach_credit", payout.token, ("STRIPE TRANSFER", f"ST-{payout.token[3:]}")
            else:
                purpose, ref, text = "wire_credit", "", ("ADYEN N.V. PAYOUT", f"batch {payout.token}, RECON_MERCHANT")
            lines.append(BankLine(source, day, payout.currency, "credit", amount, purpose, reference(source), ref,
                                  text, day))
        for source, accounts in ACCOUNTS.items():
            for account in accounts:
                fee = (5 + rng.randint(0, 40)) * 10 ** EXPONENTS[account.currency]
                lines.append(BankLine(source, day, account.currency, "debit", fee, "service_charge",
                                      reference(source), "", ("ACCOUNT SERVICE CHARGE",), day))
        if rng.random() < INTEREST_CREDIT:
            currency = rng.choice(CURRENCIES)
            lines.append(BankLine(BANK_OF_CURRENCY[currency], day, currency, "credit",
                                  rng.randint(1, 80) * 10 ** EXPONENTS[currency], "interest",
                                  reference(BANK_OF_CURRENCY[currency]), "", (f"INTEREST CREDIT {day:%b %Y}".upper(),),
                                  day))
        for source, accounts in ACCOUNTS.items():
            days = []
            for account in accounts:
                own = tuple(line for line in lines if line.source == source and line.currency == account.currency)
                opening = self.balances[account.number]
                closing = opening + booked_movement(own)
                self.balances[account.number] = closing
                days.append(AccountDay(account, day, opening, closing, own))
            path = statement_path(self.out_dir, source, day)
            path.parent.mkdir(parents=True, exist_ok=True)
            if source == "bank_us":
                path.write_bytes(render_bai2(day, days).encode("ascii"))
            else:
                path.write_bytes(render_camt053(day, self.days_written, days))
            files.files[source] = path
        write_bank_tsv(files.bank_tsv, lines)
        return len(lines)


BANK_TSV_COLUMNS = ("source", "line_id", "currency", "direction", "amount_minor", "is_booked", "value_date",
                    "reference_1", "reference_2", "reference_3")


def write_bank_tsv(path: Path, lines: list[BankLine]) -> None:
    """The bank lines as the floor loads them: already parsed (references as the staging models search them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            booked = int(line.status == "BOOK" and not line.is_reversal)
            out.write("\t".join((line.source, line.bank_reference, line.currency, line.direction,
                                 str(line.amount_minor), str(booked), line.effective_value_date.isoformat(),
                                 line.bank_reference, line.reference or "\\N", line.text or "\\N")) + "\n")


def write_stripe_file(path: Path, day: date, rows: int, seed: int = 7) -> int:
    """One Stripe report of about `rows` rows (charges, plus each currency's fee and payout lines): the file of the
    memory benchmark. Returns the rows written."""
    rng = random.Random(f"{seed}-stripe-{rows}-{day}")
    stripe = StripeFile(path, day)
    key = f"{day:%Y%m%d}"
    transactions = max(rows - 2 * len(CURRENCIES), 1)
    for i in range(transactions):
        draw = rng.random()
        currency = CURRENCIES[next(n for n, cut in enumerate(CURRENCY_CUTS) if draw < cut)]
        low, high = _MAJOR_RANGE[currency]
        scale = 10 ** EXPONENTS[currency]
        created, _ = _time(day.isoformat(), i * 86_400 // transactions, 0)
        stripe.line(Line("stripe", "capture", f"ch_{key}{i:010d}", currency, rng.randint(low * scale, high * scale),
                         created, f"order-{key}-{i}"))
    stripe.close()
    return stripe.rows
