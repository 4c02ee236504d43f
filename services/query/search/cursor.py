"""Keyset positions of SearchRuns pages, carried in the shared page-token codec (common/paging.py).

A position holds the sort values and run id of the last run of a page; the codec binds it to the
query (project, canonical filter, order keys). The next page is "rows strictly after that position",
so runs inserted while a caller pages never cause duplicates or skips among the others. A token from
another query, or one that was edited, is INVALID_PAGE_TOKEN. Every value is type-checked against its
order key here and only ever used as a query parameter.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ...common import paging
from .attrs import OrderKey

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Position:
    values: tuple[Any, ...]
    run_pk: int


def query_of(parent: str, filter_doc: object, keys: list[OrderKey]) -> list[Any]:
    """What a token is bound to: the project, the canonical filter and the order keys."""
    return [parent, filter_doc, [str(k) for k in keys]]


def encode(query: list[Any], keys: list[OrderKey], position: Position) -> str:
    values = [_encode_value(k, v) for k, v in zip(keys, position.values, strict=True)]
    return paging.encode({"v": values, "id": position.run_pk}, query)


def decode(token: str, query: list[Any], keys: list[OrderKey]) -> Position | None:
    """The position in `token` (None for the first page), or INVALID_PAGE_TOKEN."""
    data = paging.decode(token, query)
    if data is None:
        return None
    try:
        if not isinstance(data, dict) or set(data) != {"v", "id"}:
            raise ValueError("malformed")
        values, run_pk = data["v"], data["id"]
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("malformed")
        if not isinstance(run_pk, int) or isinstance(run_pk, bool) or not 0 < run_pk < 2**63:
            raise ValueError("malformed")
        return Position(tuple(_decode_value(k, v) for k, v in zip(keys, values, strict=True)), run_pk)
    except (ValueError, TypeError, UnicodeEncodeError, OverflowError, RecursionError) as e:
        raise paging.invalid_token(str(e) or "malformed") from None


def _kind(key: OrderKey) -> str:
    attr = key.attr
    if attr.kind == "summary":
        return "float"
    if attr.kind == "config":
        return "json"
    if attr.name == "state":
        return "int"
    if attr.name.endswith("_at"):
        return "time"
    return "str"


def _encode_value(key: OrderKey, value: Any) -> Any:
    if value is None:
        return None
    kind = _kind(key)
    if kind == "time":
        return (value - _EPOCH) // timedelta(microseconds=1)
    if kind == "float" and not math.isfinite(value):
        return repr(value)  # "inf" / "-inf" (NaN never sorts: it counts as missing)
    return value


def _reject(constant: str) -> None:
    raise ValueError(f"{constant} is not valid in jsonb")


def _decode_value(key: OrderKey, value: Any) -> Any:
    if value is None:
        return None
    kind = _kind(key)
    if kind == "float":
        if value in ("inf", "-inf"):
            return float(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif kind == "int" and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**15:
        return value
    elif kind == "time" and isinstance(value, int) and not isinstance(value, bool):
        return _EPOCH + timedelta(microseconds=value)
    elif kind == "json" and isinstance(value, str):
        json.loads(value, parse_constant=_reject)  # jsonb text as PostgreSQL returned it
        if "\x00" not in value and "\\u0000" not in value:
            value.encode("utf-8")
            return value
    elif kind == "str" and isinstance(value, str) and "\x00" not in value:
        value.encode("utf-8")
        return value
    raise ValueError("malformed")
