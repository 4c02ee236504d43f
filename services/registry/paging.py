"""Page sizes and opaque page tokens for the registry's List RPCs.

A token carries the last key of the previous page and a short hash of the query it belongs to, so a
token replayed against a different query (another parent, prefix or filter) is refused with
INVALID_PAGE_TOKEN instead of silently returning the wrong rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..common.errors import InvalidArgument, Reason

T = TypeVar("T")


def page_size(requested: int, default: int, maximum: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size", Reason.OUT_OF_RANGE, "page_size must be >= 0")
    if requested == 0:
        return default
    return min(requested, maximum)


def _query_hash(query: tuple[Any, ...]) -> str:
    return hashlib.sha256(json.dumps(query, default=str).encode()).hexdigest()[:12]


def encode(last_key: Any, query: tuple[Any, ...]) -> str:
    raw = json.dumps({"k": last_key, "q": _query_hash(query)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, query: tuple[Any, ...], kind: type = object) -> Any:
    """The last key of the previous page (of type `kind`), or None for the first page."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        key, qhash = data["k"], data["q"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token", Reason.INVALID_PAGE_TOKEN, "malformed page_token") from None
    if qhash != _query_hash(query):
        raise InvalidArgument("page_token", Reason.INVALID_PAGE_TOKEN, "page_token belongs to another query")
    if not isinstance(key, kind) or isinstance(key, bool):
        raise InvalidArgument("page_token", Reason.INVALID_PAGE_TOKEN, "malformed page_token")
    return key


def page(
    rows: Sequence[T], limit: int, key: Callable[[T], Any], query: tuple[Any, ...]
) -> tuple[list[T], str]:
    """The first `limit` of `rows` (fetched as limit + 1) and the token of the next page ("" at the end)."""
    kept = list(rows[:limit])
    return kept, encode(key(kept[-1]), query) if len(rows) > limit else ""
