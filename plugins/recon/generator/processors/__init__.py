"""Registry of the processors the generator can simulate. Adding Adyen = one module + one entry here."""
from __future__ import annotations

from .base import Processor
from .stripe import StripeProcessor

PROCESSORS: dict[str, Processor] = {processor.name: processor for processor in (StripeProcessor(),)}

# Share of items per processor (only Stripe for now).
PROCESSOR_WEIGHTS: dict[str, int] = {"stripe": 1}

__all__ = ["PROCESSORS", "PROCESSOR_WEIGHTS", "Processor", "StripeProcessor"]
