"""The raw floor: what this machine's database does with the same day's files and no pipeline around it.

1. LOAD DATA LOCAL INFILE of the same files into bare tables of `<ns>_floor`: the ledger CSV (the file the product
   database was seeded from), the Stripe and Adyen CSVs as they are (the server converts the decimals), and for the
   banks the day's lines already parsed (floor/bank_lines_<D>.tsv, written by the generator next to the BAI2 and
   camt.053 files): the floor does not parse BAI2 or XML at all, so its bank side is a lower bound. (With one payout
   per processor and currency a day, the bank files are a few dozen lines: nothing to weigh either way.)
2. Indexes on the match keys.
3. The reconciliation written by hand in SQL, on one business date: per match key (processor, reference, type) the
   posted ledger entries and the processor transaction lines give duplicate_in_ledger, duplicate_in_processor,
   currency_mismatch, amount_mismatch, matched, pending/missing_in_processor and missing_in_ledger; per payout the
   sum of its lines' net, the bank credit found by the sources' payout patterns within the value-date window gives
   funded, amount_mismatch, pending/missing_in_bank, and each credit left over is unexplained_bank_credit; each
   transaction gets the payout status of its line's payout. Tolerances, grace days and patterns come from the same
   source YAMLs the pipeline reads.

It knows what the pipeline must discover: one date, no earlier history (no re-deliveries, corrections or later
versions to sort out), a fixed file layout. Its counts per status must equal the marts' (`compare`): the hand-written
SQL and dbt answer the same question.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

from recon import connections, db
from recon.settings import load_settings
from recon.stack.config import admin_login
from recon.sources import Source, all_sources

STRIPE_COLUMNS = ("automatic_payout_id", "automatic_payout_effective_at", "balance_transaction_id", "created_utc",
                  "available_on_utc", "currency", "gross", "fee", "net", "reporting_category", "source_id",
                  "description", "charge_id", "payment_intent_id", "customer_facing_amount",
                  "customer_facing_currency")
ADYEN_COLUMNS = ("company_account", "merchant_account", "psp_reference", "merchant_reference", "payment_method",
                 "creation_date", "time_zone", "type", "modification_reference", "gross_currency", "@gross_debit",
                 "@gross_credit", "exchange_rate", "net_currency", "@net_debit", "@net_credit", "@commission",
                 "@markup", "@scheme_fees", "@interchange", "payment_method_variant", "modification_merchant_reference",
                 "batch_number", "booking_date", "booking_date_time_zone")

_DDL = {
    "f_ledger": """(entry_id VARCHAR(64) NOT NULL, entry_type VARCHAR(32) NOT NULL, processor VARCHAR(16) NOT NULL,
        processor_reference VARCHAR(64) NOT NULL, account_id VARCHAR(64), merchant_id VARCHAR(64),
        amount_minor BIGINT NOT NULL, currency CHAR(3) NOT NULL, status VARCHAR(16) NOT NULL,
        occurred_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NOT NULL)""",
    "f_stripe": """(automatic_payout_id VARCHAR(64), automatic_payout_effective_at DATETIME, balance_transaction_id
        VARCHAR(64) NOT NULL, created_utc DATETIME, available_on_utc DATETIME, currency CHAR(3), gross DECIMAL(20, 3),
        fee DECIMAL(20, 3), net DECIMAL(20, 3), reporting_category VARCHAR(32), source_id VARCHAR(64),
        description VARCHAR(1024), charge_id VARCHAR(64), payment_intent_id VARCHAR(64),
        customer_facing_amount VARCHAR(32), customer_facing_currency VARCHAR(3))""",
    "f_adyen": """(company_account VARCHAR(128), merchant_account VARCHAR(128), psp_reference VARCHAR(64),
        merchant_reference VARCHAR(128), payment_method VARCHAR(64), creation_date VARCHAR(32), time_zone
        VARCHAR(64), type VARCHAR(32), modification_reference VARCHAR(128), gross_currency CHAR(3),
        gross_debit DECIMAL(20, 3), gross_credit DECIMAL(20, 3), exchange_rate VARCHAR(32), net_currency CHAR(3),
        net_debit DECIMAL(20, 3), net_credit DECIMAL(20, 3), commission DECIMAL(20, 3), markup DECIMAL(20, 3),
        scheme_fees DECIMAL(20, 3), interchange DECIMAL(20, 3), payment_method_variant VARCHAR(64),
        modification_merchant_reference VARCHAR(128), batch_number BIGINT, booking_date VARCHAR(32),
        booking_date_time_zone VARCHAR(64))""",
    "f_bank": """(source VARCHAR(48) NOT NULL, line_id VARCHAR(128) NOT NULL, currency CHAR(3) NOT NULL,
        direction VARCHAR(8) NOT NULL, amount_minor BIGINT NOT NULL, is_booked TINYINT NOT NULL, value_date DATE,
        reference_1 VARCHAR(128), reference_2 VARCHAR(1024), reference_3 VARCHAR(2048))""",
}
_CSV = "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\n' IGNORE 1 LINES"
_TSV = "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'"


def _scale(currency: str) -> str:
    """10^(ISO 4217 exponent) of a currency column, for the currencies the benchmark writes."""
    return f"(CASE UPPER({currency}) WHEN 'JPY' THEN 1 WHEN 'KWD' THEN 1000 ELSE 100 END)"


@dataclass
class FloorResult:
    loads: dict[str, dict[str, float]] = field(default_factory=dict)  # table -> rows, seconds
    seconds: dict[str, float] = field(default_factory=dict)  # load, index, reconcile, total
    transaction_status: dict[str, int] = field(default_factory=dict)
    payout_status: dict[str, int] = field(default_factory=dict)  # the transactions' payout_status
    payout_leg_status: dict[str, int] = field(default_factory=dict)

    @property
    def rows_loaded(self) -> int:
        return int(sum(load["rows"] for load in self.loads.values()))

    @property
    def load_rows_per_second(self) -> float:
        seconds = self.seconds.get("load", 0.0)
        return self.rows_loaded / seconds if seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"loads": self.loads, "seconds": self.seconds, "rows_loaded": self.rows_loaded,
                "load_rows_per_second": round(self.load_rows_per_second),
                "transaction_status": self.transaction_status, "payout_status": self.payout_status,
                "payout_leg_status": self.payout_leg_status}


@dataclass(frozen=True)
class Rules:
    """What the pipeline reads from the source YAMLs, per processor."""

    grace_days: dict[str, int]
    tolerance_minor: dict[str, int]
    bank_grace_days: dict[str, int]
    window_days: dict[str, int]
    patterns: dict[str, tuple[str, str | None]]  # processor -> (payout reference pattern, token pattern)

    @classmethod
    def from_sources(cls, sources: dict[str, Source] | None = None) -> "Rules":
        processors = [s for s in (sources or all_sources()).values() if s.role == "processor"]
        by = {s.options["processor"]: s for s in processors}
        return cls(grace_days={p: s.grace_days for p, s in by.items()},
                   tolerance_minor={p: int(s.options.get("amount_tolerance_minor", 0)) for p, s in by.items()},
                   bank_grace_days={p: int(s.options.get("bank_grace_days", 3)) for p, s in by.items()},
                   window_days={p: int(s.options.get("value_date_window_days", 5)) for p, s in by.items()},
                   patterns={p: (s.options["payout_reference_pattern"], s.options.get("payout_token_pattern"))
                             for p, s in by.items() if s.options.get("payout_reference_pattern")})

    def per_processor(self, values: dict[str, int], column: str) -> str:
        cases = " ".join(f"WHEN '{p}' THEN {int(v)}" for p, v in sorted(values.items()))
        return f"(CASE {column} {cases} ELSE 0 END)"


class Floor:
    """Runs the floor in its own database, `<ns>_floor` (dropped and made again by `prepare`)."""

    def __init__(self, database: str | None = None, rules: Rules | None = None,
                 progress: Callable[[str], None] = print) -> None:
        self.database = database or f"{load_settings().namespace}_floor"
        self.rules = rules or Rules.from_sources()
        self.progress = progress
        self.conn = db.connect(autocommit=True, database="", login=admin_login())  # its own database: setup

    def close(self) -> None:
        self.conn.close()

    def _run(self, sql: str, params: tuple[Any, ...] | None = None) -> int:
        with self.conn.cursor() as cur:
            return cur.execute(sql, params)

    def _rows(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def prepare(self) -> None:
        d = self.database
        self._run(f"DROP DATABASE IF EXISTS {d}")
        self._run(f"CREATE DATABASE {d} CHARACTER SET utf8mb4")
        for table, ddl in _DDL.items():
            self._run(f"CREATE TABLE {d}.{table} {ddl} ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")

    def drop(self) -> None:
        self._run(f"DROP DATABASE IF EXISTS {self.database}")

    # -- 1. load -------------------------------------------------------------------------------------------------
    def load(self, ledger_csv: Path, stripe_csvs: list[Path], adyen_csvs: list[Path], bank_tsvs: list[Path],
             result: FloorResult) -> None:
        d = self.database
        ledger_cols = "entry_id, entry_type, processor, processor_reference, @account_id, @merchant_id, " \
                      "amount_minor, currency, status, occurred_at, updated_at"
        adyen_cols = ", ".join(ADYEN_COLUMNS)
        nullif = ", ".join(f"{c[1:]} = NULLIF({c}, '')" for c in ADYEN_COLUMNS if c.startswith("@"))
        jobs: list[tuple[str, Path, str]] = [
            ("f_ledger", ledger_csv, f"{_CSV} ({ledger_cols}) SET account_id = NULLIF(@account_id, ''), "
                                     "merchant_id = NULLIF(@merchant_id, '')"),
            *(("f_stripe", p, f"{_CSV} ({', '.join(STRIPE_COLUMNS)})") for p in stripe_csvs),
            *(("f_adyen", p, f"{_CSV} ({adyen_cols}) SET {nullif}") for p in adyen_csvs),
            *(("f_bank", p, f"{_TSV} (source, line_id, currency, direction, amount_minor, is_booked, value_date, "
                            "reference_1, reference_2, reference_3)") for p in bank_tsvs),
        ]
        started = time.perf_counter()
        for table, path, spec in jobs:
            t0 = time.perf_counter()
            with self.conn.cursor() as cur:
                rows = cur.execute(f"LOAD DATA LOCAL INFILE %s INTO TABLE {d}.{table} CHARACTER SET utf8mb4 {spec}",
                                   (str(path),))
                cur.execute("SHOW COUNT(*) WARNINGS")
                warnings = cur.fetchone()[0]
                if warnings:
                    cur.execute("SHOW WARNINGS LIMIT 3")
                    raise RuntimeError(f"floor: LOAD DATA of {path} into {table}: {warnings} warning(s), e.g. "
                                       f"{cur.fetchall()}")
            seconds = time.perf_counter() - t0
            entry = result.loads.setdefault(table, {"rows": 0, "seconds": 0.0, "bytes": 0})
            entry["rows"] += rows
            entry["seconds"] = round(entry["seconds"] + seconds, 3)
            entry["bytes"] += path.stat().st_size
            self.progress(f"  floor: LOAD DATA {path.name}: {rows:,} rows in {seconds:.1f} s")
        result.seconds["load"] = round(time.perf_counter() - started, 3)

    # -- 2. index ------------------------------------------------------------------------------------------------
    def index(self, result: FloorResult) -> None:
        d = self.database
        started = time.perf_counter()
        self._run(f"ALTER TABLE {d}.f_ledger ADD INDEX ix_key (processor, processor_reference, entry_type)")
        self._run(f"ALTER TABLE {d}.f_stripe ADD INDEX ix_key (source_id, reporting_category)")
        self._run(f"ALTER TABLE {d}.f_adyen ADD INDEX ix_psp (psp_reference, type), "
                  "ADD INDEX ix_modification (modification_reference, type)")
        result.seconds["index"] = round(time.perf_counter() - started, 3)
        self.progress(f"  floor: indexes on the match keys in {result.seconds['index']:.1f} s")

    # -- 3. reconcile --------------------------------------------------------------------------------------------
    def reconcile(self, business_date: date, result: FloorResult) -> None:
        started = time.perf_counter()
        for step, sql, params in self.statements(business_date):
            t0 = time.perf_counter()
            self._run(sql, params)
            self.progress(f"  floor: {step} in {time.perf_counter() - t0:.1f} s")
        result.seconds["reconcile"] = round(time.perf_counter() - started, 3)
        result.seconds["total"] = round(sum(result.seconds.get(k, 0.0) for k in ("load", "index", "reconcile")), 3)
        d = self.database
        result.transaction_status = self._counts(f"SELECT status, COUNT(*) FROM {d}.f_transactions GROUP BY status")
        result.payout_status = self._counts(f"SELECT payout_status, COUNT(*) FROM {d}.f_transactions "
                                            "GROUP BY payout_status")
        result.payout_leg_status = self._counts(f"SELECT status, COUNT(*) FROM {d}.f_payout_items GROUP BY status")

    def _counts(self, sql: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in self._rows(sql)}

    def statements(self, day: date) -> list[tuple[str, str, tuple[Any, ...] | None]]:
        """The hand-written reconciliation, statement by statement: (what, SQL, parameters)."""
        d, r = self.database, self.rules
        tolerance = r.per_processor(r.tolerance_minor, "l.processor")
        grace = r.per_processor(r.grace_days, "l.processor")
        bank_grace = r.per_processor(r.bank_grace_days, "p.processor")
        window = r.per_processor(r.window_days, "p.processor")
        payout_tolerance = r.per_processor(r.tolerance_minor, "p.processor")
        item_bank_grace = r.per_processor(r.bank_grace_days, "i.processor")  # a line with no payout row
        lines = f"""CREATE TABLE {d}.f_lines (KEY ix_key (processor, reference, entry_type),
            KEY ix_payout (processor, payout_reference, net_currency)) AS
            SELECT 'stripe' AS processor,
                   CASE reporting_category WHEN 'charge' THEN 'capture' WHEN 'refund' THEN 'refund'
                        WHEN 'dispute' THEN 'chargeback' WHEN 'dispute_reversal' THEN 'chargeback_reversal' END
                       AS entry_type,
                   CASE WHEN reporting_category = 'payout' THEN 'payout' ELSE 'other' END AS role,
                   source_id AS reference, UPPER(currency) AS currency,
                   CAST(ROUND(CASE WHEN reporting_category IN ('refund', 'dispute') THEN -gross ELSE gross END
                              * {_scale('currency')}) AS SIGNED) AS amount_minor,
                   CAST(ROUND(net * {_scale('currency')}) AS SIGNED) AS net_minor,
                   automatic_payout_id AS payout_reference, automatic_payout_id AS token,
                   UPPER(currency) AS net_currency
            FROM {d}.f_stripe
            UNION ALL
            SELECT 'adyen',
                   CASE type WHEN 'Settled' THEN 'capture' WHEN 'Refunded' THEN 'refund'
                        WHEN 'Chargeback' THEN 'chargeback' WHEN 'ChargebackReversed' THEN 'chargeback_reversal' END,
                   CASE WHEN type = 'MerchantPayout' THEN 'payout' ELSE 'other' END,
                   CASE WHEN type = 'Settled' THEN psp_reference ELSE modification_reference END,
                   UPPER(COALESCE(gross_currency, net_currency)),
                   CAST(ROUND(CASE WHEN type IN ('Refunded', 'Chargeback')
                                   THEN COALESCE(gross_debit, 0) - COALESCE(gross_credit, 0)
                                   ELSE COALESCE(gross_credit, 0) - COALESCE(gross_debit, 0) END
                              * {_scale('COALESCE(gross_currency, net_currency)')}) AS SIGNED),
                   CAST(ROUND((COALESCE(net_credit, 0) - COALESCE(net_debit, 0)) * {_scale('net_currency')})
                        AS SIGNED),
                   CONCAT(merchant_account, ':', batch_number), CAST(batch_number AS CHAR), UPPER(net_currency)
            FROM {d}.f_adyen"""
        ledger_keys = f"""CREATE TABLE {d}.f_ledger_keys (PRIMARY KEY (processor, processor_reference, entry_type)) AS
            SELECT processor, processor_reference, entry_type, COUNT(*) AS entries
            FROM {d}.f_ledger WHERE status = 'posted' GROUP BY processor, processor_reference, entry_type"""
        line_keys = f"""CREATE TABLE {d}.f_line_keys (PRIMARY KEY (processor, reference, entry_type)) AS
            SELECT processor, reference, entry_type, COUNT(*) AS line_count, MIN(currency) AS currency,
                   SUM(amount_minor) AS amount_minor, MIN(payout_reference) AS payout_reference,
                   MIN(net_currency) AS net_currency
            FROM {d}.f_lines WHERE entry_type IS NOT NULL GROUP BY processor, reference, entry_type"""
        payouts = f"""CREATE TABLE {d}.f_payouts (PRIMARY KEY (processor, payout_reference, currency),
            KEY ix_token (processor, token)) AS
            SELECT processor, payout_reference, net_currency AS currency, MIN(token) AS token,
                   CAST(%s AS DATE) AS payout_date,
                   SUM(CASE WHEN role <> 'payout' THEN net_minor ELSE 0 END) AS expected_minor,
                   -SUM(CASE WHEN role = 'payout' THEN net_minor END) AS reported_minor
            FROM {d}.f_lines WHERE payout_reference IS NOT NULL
            GROUP BY processor, payout_reference, net_currency"""
        token_selects = []
        token_params: list[Any] = []
        for processor, (pattern, token_pattern) in sorted(r.patterns.items()):
            found = ("COALESCE(NULLIF(REGEXP_SUBSTR(reference_1, %s), ''), NULLIF(REGEXP_SUBSTR(reference_2, %s), ''),"
                     " NULLIF(REGEXP_SUBSTR(reference_3, %s), ''))")
            token_params += [pattern] * 3
            token = found if token_pattern is None else f"NULLIF(REGEXP_SUBSTR({found}, %s), '')"
            if token_pattern is not None:
                token_params.append(token_pattern)
            token_selects.append(f"SELECT line_id, '{processor}' AS processor, CAST({token} AS CHAR(128)) AS token "
                                 f"FROM {d}.f_bank "
                                 "WHERE direction = 'credit' AND is_booked = 1")
        tokens = (f"CREATE TABLE {d}.f_credit_tokens (KEY ix_token (processor, token)) AS SELECT * FROM ("
                  + " UNION ALL ".join(token_selects) + ") AS t WHERE token IS NOT NULL")
        payout_items = f"""CREATE TABLE {d}.f_payout_items (KEY ix_payout (processor, payout_reference, currency)) AS
            WITH candidates AS (
                SELECT p.processor, p.payout_reference, p.currency, c.line_id, c.amount_minor,
                       ROW_NUMBER() OVER (PARTITION BY p.processor, p.payout_reference, p.currency
                                          ORDER BY c.amount_minor <> p.expected_minor, c.value_date, c.line_id)
                           AS candidate_rank
                FROM {d}.f_payouts AS p
                JOIN {d}.f_credit_tokens AS t ON t.processor = p.processor AND t.token = p.token
                JOIN {d}.f_bank AS c ON c.line_id = t.line_id AND c.currency = p.currency
                 AND c.direction = 'credit' AND c.is_booked = 1
                 AND c.value_date BETWEEN p.payout_date AND DATE_ADD(p.payout_date, INTERVAL {window} DAY)
            ), chosen AS (SELECT * FROM candidates WHERE candidate_rank = 1)
            SELECT p.processor, p.payout_reference, p.currency, b.line_id AS bank_line_id,
                   CASE WHEN p.reported_minor IS NOT NULL AND p.reported_minor <> p.expected_minor
                            THEN 'amount_mismatch'
                        WHEN b.line_id IS NOT NULL
                             AND ABS(b.amount_minor - p.expected_minor) <= {payout_tolerance}
                            THEN 'funded'
                        WHEN b.line_id IS NOT NULL THEN 'amount_mismatch'
                        WHEN DATEDIFF(%s, p.payout_date) <= {bank_grace} THEN 'pending_bank'
                        ELSE 'missing_in_bank' END AS status
            FROM {d}.f_payouts AS p LEFT JOIN chosen AS b
              ON b.processor = p.processor AND b.payout_reference = p.payout_reference AND b.currency = p.currency
            UNION ALL
            SELECT NULL, NULL, c.currency, c.line_id, 'unexplained_bank_credit'
            FROM {d}.f_bank AS c
            WHERE c.direction = 'credit' AND c.is_booked = 1
              AND c.line_id NOT IN (SELECT line_id FROM chosen)"""
        transactions = f"""CREATE TABLE {d}.f_transactions AS
            WITH items AS (
                SELECT CASE WHEN k.entries >= 2 THEN 'duplicate_in_ledger'
                            WHEN p.line_count >= 2 THEN 'duplicate_in_processor'
                            WHEN p.line_count = 1 AND p.currency <> l.currency THEN 'currency_mismatch'
                            WHEN p.line_count = 1 AND ABS(l.amount_minor - p.amount_minor) > {tolerance}
                                THEN 'amount_mismatch'
                            WHEN p.line_count = 1 THEN 'matched'
                            WHEN DATEDIFF(%s, DATE(l.occurred_at)) <= {grace} THEN 'pending_processor'
                            ELSE 'missing_in_processor' END AS status,
                       l.processor, p.payout_reference, p.net_currency, p.line_count
                FROM {d}.f_ledger AS l
                JOIN {d}.f_ledger_keys AS k ON k.processor = l.processor
                 AND k.processor_reference = l.processor_reference AND k.entry_type = l.entry_type
                LEFT JOIN {d}.f_line_keys AS p ON p.processor = l.processor
                 AND p.reference = l.processor_reference AND p.entry_type = l.entry_type
                WHERE l.status = 'posted'
                UNION ALL
                SELECT 'missing_in_ledger', x.processor, x.payout_reference, x.net_currency, 1
                FROM {d}.f_lines AS x
                LEFT JOIN {d}.f_ledger_keys AS k ON k.processor = x.processor AND k.processor_reference = x.reference
                 AND k.entry_type = x.entry_type
                WHERE x.entry_type IS NOT NULL AND k.processor IS NULL
            )
            SELECT i.status,
                   CASE WHEN i.line_count IS NULL THEN 'not_applicable'
                        WHEN py.status = 'amount_mismatch' THEN 'payout_amount_mismatch'
                        WHEN py.status IS NOT NULL THEN py.status
                        WHEN DATEDIFF(%s, %s) <= {item_bank_grace} THEN 'pending_bank'
                        ELSE 'missing_in_bank' END AS payout_status
            FROM items AS i
            LEFT JOIN {d}.f_payout_items AS py ON py.processor = i.processor
             AND py.payout_reference = i.payout_reference AND py.currency = i.net_currency"""
        return [
            ("processor lines in one shape (minor units, signed like the ledger)", lines, None),
            ("ledger keys", ledger_keys, None),
            ("processor line keys", line_keys, None),
            ("payouts (sum of their lines' net)", payouts, (day,)),
            ("payout tokens in the bank credits (the sources' patterns)", tokens, tuple(token_params)),
            ("payout leg: bank credit per payout, statuses, unexplained credits", payout_items, (day,)),
            ("transaction leg: statuses per item with its payout status", transactions, (day, day, day)),
        ]


def run_floor(business_date: date, ledger_csv: Path, stripe_csvs: list[Path], adyen_csvs: list[Path],
              bank_tsvs: list[Path], progress: Callable[[str], None] = print, keep: bool = False) -> FloorResult:
    """Load, index and reconcile one business date's files; returns the times and the counts per status."""
    floor = Floor(progress=progress)
    result = FloorResult()
    try:
        floor.prepare()
        floor.load(ledger_csv, stripe_csvs, adyen_csvs, bank_tsvs, result)
        floor.index(result)
        floor.reconcile(business_date, result)
        if not keep:
            floor.drop()
    finally:
        floor.close()
    return result


def mart_counts(business_date: date) -> dict[str, dict[str, int]]:
    """The same counts from the pipeline's marts (as of the latest processed date, which is the benchmark's)."""
    s = load_settings()
    queries = {
        "transaction_status": f"SELECT status, COUNT(*) FROM {s.marts_db}.fct_transaction_reconciliation "
                              "GROUP BY status",
        "payout_status": f"SELECT payout_status, COUNT(*) FROM {s.marts_db}.fct_transaction_reconciliation "
                         "GROUP BY payout_status",
        "payout_leg_status": f"SELECT status, COUNT(*) FROM {s.marts_db}.fct_payout_reconciliation GROUP BY status",
    }
    out: dict[str, dict[str, int]] = {}
    with db.transaction(connections.TRANSFORMER) as cur:
        cur.execute(f"SELECT MAX(as_of_date) FROM {s.marts_db}.rpt_reconciliation_runs")
        latest = cur.fetchone()[0]
        if latest != business_date:
            raise RuntimeError(f"the marts show {latest}, not the benchmark's date {business_date}")
        for name, sql in queries.items():
            cur.execute(sql)
            out[name] = {str(k): int(v) for k, v in cur.fetchall()}
    return out


def compare(floor: FloorResult, marts: dict[str, dict[str, int]]) -> list[str]:
    """The differences between the floor's and the marts' counts per status (empty: they agree)."""
    problems = []
    for name in ("transaction_status", "payout_status", "payout_leg_status"):
        mine, theirs = getattr(floor, name), marts.get(name, {})
        for status in sorted(set(mine) | set(theirs)):
            if mine.get(status, 0) != theirs.get(status, 0):
                problems.append(f"{name} {status}: floor {mine.get(status, 0)}, marts {theirs.get(status, 0)}")
    return problems
