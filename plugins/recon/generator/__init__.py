"""Deterministic sample data with ground truth for recon.

`generate(out_dir, days=..., per_day=..., seed=...)` writes:

    product/ledger_changes_YYYY-MM-DD.csv      ledger_entries rows inserted or updated that day (contract 1.2)
    s3/inbound/stripe/YYYY/MM/DD/stripe_payout_reconciliation_YYYY-MM-DD.csv   Stripe itemized report (1.3)
    truth/transactions.csv                     expected fct_transaction_reconciliation rows per as-of date
    truth/summary.json                         per as-of date: counts per status, ledger totals per currency
    generation.json                            the parameters

Same arguments => byte-identical files (one seeded `random.Random`, sorted output, no wall-clock time).
"""
from __future__ import annotations

from .anomalies import ANOMALY_CLASSES, DEFAULT_RATES
from .api import DEFAULT_START, GenerationResult, generate
from .cli import add_arguments, run
from .truth import STATUSES, TRUTH_COLUMNS

__all__ = [
    "ANOMALY_CLASSES", "DEFAULT_RATES", "DEFAULT_START", "GenerationResult", "STATUSES", "TRUTH_COLUMNS",
    "add_arguments", "generate", "run",
]
