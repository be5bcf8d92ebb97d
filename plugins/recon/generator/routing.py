"""Which bank account receives a payout: by currency, whatever the processor (the spec's routing)."""
from __future__ import annotations

BANK_OF_CURRENCY: dict[str, str] = {"USD": "bank_us", "JPY": "bank_us", "EUR": "bank_eu", "KWD": "bank_eu"}
ACCOUNT_CURRENCIES: dict[str, tuple[str, ...]] = {"bank_us": ("USD", "JPY"), "bank_eu": ("EUR", "KWD")}
