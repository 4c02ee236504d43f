"""Database rows -> domain dataclasses, field by field, written once.

`dataclass_from_row` fills every field of the dataclass from the row's column of the same name; the
keyword arguments supply the fields whose column is named differently or whose value needs work. A
field with no such column (and not supplied) raises KeyError: none is left at its default silently.
The same rule as strata.wire.fields, for rows (asyncpg.Record, or any mapping) instead of attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import asyncpg
from strata.wire.fields import field_names

T = TypeVar("T")


def dataclass_from_row(cls: type[T], row: asyncpg.Record | Mapping[str, Any], **given: Any) -> T:
    """A `cls` dataclass: every field from the same-named column of `row`, except those in `given`."""
    return cls(**{n: row[n] for n in field_names(cls) if n not in given}, **given)
