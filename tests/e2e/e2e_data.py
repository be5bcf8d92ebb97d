"""The e2e session's dates: 6 generated days from START; the first 5 go through the DAGs for the whole session
(fixture five_days in tests/conftest.py), the 6th is run by the break tests after a person resolved breaks."""
from __future__ import annotations

from datetime import date, timedelta

START = date(2026, 1, 5)
DAYS = [START + timedelta(days=i) for i in range(5)]
EXTRA_DAY = START + timedelta(days=5)
