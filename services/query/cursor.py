"""Opaque page tokens for keyset pagination, bound to the query that produced them.

A token holds the sort values and run id of the last run of a page, plus a fingerprint of the
query (project, canonical filter, order keys). The next page is "rows strictly after that position",
so runs inserted while a caller pages never cause duplicates or skips among the others. A token from
another query, or one that was edited, is INVALID_PAGE_TOKEN. Tokens carry no secrets: every value is
type-checked against its order key and only ever used as a query parameter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..common.errors import InvalidArgument, Reason
from .attrs import OrderKey

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Position:
    values: tuple[Any, ...]
    run_pk: int


def fingerprint(parent: str, filter_doc: object, keys: list[OrderKey]) -> str:
    canonical = json.dumps([parent, filter_doc, [str(k) for k in keys]], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def encode(fp: str, keys: list[OrderKey], position: Position) -> str:
    values = [_encode_value(k, v) for k, v in zip(keys, position.values, strict=True)]
    raw = json.dumps({"q": fp, "v": values, "id": position.run_pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, fp: str, keys: list[OrderKey]) -> Position:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("q") != fp:
            raise ValueError("the token belongs to a different query")
        values, run_pk = data["v"], data["id"]
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("malformed")
        if not isinstance(run_pk, int) or isinstance(run_pk, bool) or not 0 < run_pk < 2**63:
            raise ValueError("malformed")
        return Position(tuple(_decode_value(k, v) for k, v in zip(keys, values, strict=True)), run_pk)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError) as e:
        raise InvalidArgument(
            "page_token", Reason.INVALID_PAGE_TOKEN, f"page_token is not valid for this query: {e}"
        ) from None


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
