"""Checked conversions of the well-known Timestamp and Duration fields of a request.

protobuf's ToDatetime/ToTimedelta raise ValueError or OverflowError on values outside the types'
documented ranges (Timestamp: years 0001..9999; Duration: ±10,000 years, nanos of the seconds'
sign); here such a value is INVALID_ARGUMENT (the field, OUT_OF_RANGE) instead of INTERNAL.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, cast

from .errors import InvalidArgument, Reason

TIMESTAMP_SECONDS = (-62_135_596_800, 253_402_300_799)  # 0001-01-01 .. 9999-12-31T23:59:59
DURATION_SECONDS = 315_576_000_000  # 10,000 years
NANOS = 999_999_999


def _out_of_range(name: str, what: str) -> InvalidArgument:
    return InvalidArgument(name, Reason.OUT_OF_RANGE, f"{name} is not a valid {what}")


def timestamp(message: Any, field: str, name: str | None = None) -> datetime | None:
    """`message.field` as an aware UTC datetime, None when unset."""
    if not message.HasField(field):
        return None
    value, name = getattr(message, field), name or field
    lo, hi = TIMESTAMP_SECONDS
    if not (lo <= value.seconds <= hi and 0 <= value.nanos <= NANOS):
        raise _out_of_range(name, "timestamp (years 0001..9999)")
    try:
        return cast(datetime, value.ToDatetime(tzinfo=timezone.utc))
    except (ValueError, OverflowError):
        raise _out_of_range(name, "timestamp (years 0001..9999)") from None


def duration(message: Any, field: str, name: str | None = None) -> timedelta | None:
    """`message.field` as a timedelta, None when unset."""
    if not message.HasField(field):
        return None
    value, name = getattr(message, field), name or field
    same_sign = value.seconds == 0 or value.nanos == 0 or (value.seconds > 0) == (value.nanos > 0)
    if not (abs(value.seconds) <= DURATION_SECONDS and abs(value.nanos) <= NANOS and same_sign):
        raise _out_of_range(name, "duration (at most 10,000 years)")
    try:
        return cast(timedelta, value.ToTimedelta())
    except (ValueError, OverflowError):
        raise _out_of_range(name, "duration (at most 10,000 years)") from None
