"""Checked conversions of the well-known Timestamp and Duration fields of a request, and the
messages a response sets them from (`timestamp_message`, `duration_message`).

protobuf's ToDatetime/ToTimedelta raise ValueError or OverflowError on values outside the types'
documented ranges (Timestamp: years 0001..9999; Duration: ±10,000 years, nanos of the seconds'
sign); here such a value is INVALID_ARGUMENT (the field, OUT_OF_RANGE) instead of INTERNAL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, cast

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

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


_W = TypeVar("_W", Timestamp, Duration)
_V = TypeVar("_V", datetime, timedelta)


def _message(make: Callable[[], _W], fill: Callable[[_W, _V], None], value: _V | None) -> _W | None:
    """A new well-known message filled from `value`; None (an unset field) for None."""
    if value is None:
        return None
    message = make()
    fill(message, value)
    return message


def timestamp_message(value: datetime | None) -> Timestamp | None:
    return _message(Timestamp, Timestamp.FromDatetime, value)


def duration_message(value: timedelta | None) -> Duration | None:
    return _message(Duration, Duration.FromTimedelta, value)
