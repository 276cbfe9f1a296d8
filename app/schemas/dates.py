"""Calendar dates as the contract says them: `YYYY-MM-DD` strings only.

Pydantic would also read `0` or `"1700000000"` as a date (Unix time); a client sending a
number means something else, so it gets a 422 rather than 1970-01-01 (the fuzzer found it)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise ValueError("must be a calendar date written YYYY-MM-DD, e.g. 2024-05-12")
    return value


CalendarDate = Annotated[date, BeforeValidator(_iso_date_only)]
