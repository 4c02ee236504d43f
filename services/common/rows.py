"""Database rows -> domain dataclasses or protobuf messages, field by field, written once.

`dataclass_from_row` and `message_from_row` fill every field from the row's column of the same name;
the keyword arguments supply the fields whose column is named differently or whose value needs work
(`timestamps` turns timestamp columns into Timestamp messages). A field with no such column (and not
supplied) raises KeyError: none is left at its default silently. The same rule as strata.wire.fields,
for rows (asyncpg.Record, or any mapping) instead of attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import asyncpg
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from strata.wire.fields import field_names

from .runs import ts

T = TypeVar("T")
M = TypeVar("M", bound=Message)
Row = asyncpg.Record | Mapping[str, Any]


def _columns(cls: type, row: Row, given: dict[str, Any]) -> dict[str, Any]:
    return {**{n: row[n] for n in field_names(cls) if n not in given}, **given}


def dataclass_from_row(cls: type[T], row: Row, **given: Any) -> T:
    """A `cls` dataclass: every field from the same-named column of `row`, except those in `given`."""
    return cls(**_columns(cls, row, given))


def message_from_row(cls: type[M], row: Row, **given: Any) -> M:
    """A `cls` message: every field from the same-named column of `row`, except those in `given`."""
    return cls(**_columns(cls, row, given))


def timestamps(row: Row, *columns: str) -> dict[str, Timestamp | None]:
    """The named timestamp columns of `row` as Timestamp messages (None, an unset field, for NULL)."""
    return {c: ts(row[c]) for c in columns}
