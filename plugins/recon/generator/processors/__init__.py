"""Registry of the processors the generator can simulate. Adding one = one module + one entry here."""
from __future__ import annotations

from .adyen import AdyenProcessor
from .base import LinePlacement, Processor, SettlementFile
from .stripe import StripeProcessor

PROCESSORS: dict[str, Processor] = {processor.name: processor for processor in (AdyenProcessor(), StripeProcessor())}

# Share of items per processor.
PROCESSOR_WEIGHTS: dict[str, int] = {"adyen": 1, "stripe": 1}

__all__ = [
    "PROCESSORS", "PROCESSOR_WEIGHTS", "AdyenProcessor", "LinePlacement", "Processor", "SettlementFile",
    "StripeProcessor",
]
