"""Deterministic sample data with ground truth for recon: all four partner sources, both legs.

`generate(out_dir, days=..., per_day=..., seed=...)` writes:

    product/ledger_changes_YYYY-MM-DD.csv      ledger_entries rows inserted or updated that day (contract 1.2)
    s3/inbound/stripe/YYYY/MM/DD/stripe_payout_reconciliation_YYYY-MM-DD.csv   Stripe itemized report (1.3),
                                               one po_ payout per currency
    s3/inbound/adyen/YYYY/MM/DD/adyen_settlement_detail_report_batch_N.csv     Adyen settlement details (1.4),
                                               batch N = 1001 + day, one MerchantPayout per net currency
    s3/inbound/bank_us/YYYY/MM/DD/bank_us_YYYY-MM-DD.bai2   BAI2 (1.5): USD and JPY accounts
    s3/inbound/bank_eu/YYYY/MM/DD/bank_eu_YYYY-MM-DD.xml    camt.053 001.08 / 001.02 by day (1.5): EUR and KWD
    truth/transactions.csv                     expected fct_transaction_reconciliation rows per as-of date
    truth/payouts.csv                          expected fct_payout_reconciliation rows per as-of date
    truth/summary.json                         per as-of date: counts per status, ledger totals, payout counts
    generation.json                            the parameters

Items (ledger entries) go to Stripe or Adyen; each processor's payout is credited at bank_us (USD, JPY) or
bank_eu (EUR, KWD) 1-2 days later unless a payout anomaly says otherwise. The truth applies the contract's rules
to what the files contain, not to the anomaly labels (those only fill the `anomaly` columns).

Same arguments => byte-identical files (one seeded `random.Random`, sorted output, no wall-clock time).
"""
from __future__ import annotations

from .anomalies import ANOMALY_CLASSES, DEFAULT_RATES, ITEM_CLASSES, PAYOUT_CLASSES
from .api import DEFAULT_START, GenerationResult, generate
from .cli import add_arguments, run
from .payout_truth import PAYOUT_RECON_STATUSES, PAYOUT_TRUTH_COLUMNS
from .truth import PAYOUT_STATUSES, STATUSES, TRUTH_COLUMNS

__all__ = [
    "ANOMALY_CLASSES", "DEFAULT_RATES", "DEFAULT_START", "GenerationResult", "ITEM_CLASSES", "PAYOUT_CLASSES",
    "PAYOUT_RECON_STATUSES", "PAYOUT_STATUSES", "PAYOUT_TRUTH_COLUMNS", "STATUSES", "TRUTH_COLUMNS",
    "add_arguments", "generate", "run",
]
