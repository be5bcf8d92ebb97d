"""Values written into SQL text, for the one place where bind parameters are impossible: Great Expectations query
assets and unexpected-rows queries are plain strings that GX runs itself. Everywhere else values are bound
(`cur.execute(sql, params)`). Only typed values go in, rendered so that they cannot end the literal."""
from __future__ import annotations

from datetime import date, datetime

from recon.settings import check_identifier


def date_literal(value: date) -> str:
    """'YYYY-MM-DD' of a date (not a string, not a datetime)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"a SQL date literal needs a date, got {type(value).__name__}: {value!r}")
    return f"'{value.isoformat()}'"


def int_literal(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a SQL integer literal needs an int, got {type(value).__name__}: {value!r}")
    return str(value)


def name_literal(value: str) -> str:
    """A checked identifier (a source name) as a string literal."""
    return f"'{check_identifier(value, 'name')}'"
