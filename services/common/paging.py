"""One page-size rule and one page-token codec for every List RPC.

Page size (AIP-158): 0 means the RPC's documented default; a negative value is INVALID_ARGUMENT
(`page_size`, OUT_OF_RANGE); a value above the RPC's documented maximum is coerced to that maximum.

Pages are bounded in bytes too: a page stops early, with a next_page_token, once the items it holds
reach MAX_PAGE_BYTES (4 MiB, well under the 64 MiB message limit), so no row content can make a
List response too large to send. A page always holds at least one item.

A page token is opaque to callers: base64url of a small JSON object holding the position after
which the next page starts (any JSON value the caller's store understands) and a fingerprint of the
query it belongs to. A token replayed against another query (another parent, filter or order) or
edited by hand is INVALID_ARGUMENT with reason INVALID_PAGE_TOKEN, never INTERNAL. Tokens carry no
secrets; positions are only ever bound as SQL parameters.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from . import jsonvalue
from .errors import InvalidArgument, Reason

T = TypeVar("T")
P = TypeVar("P")

MAX_PAGE_BYTES = 4 * 1024 * 1024

# A token is a position, not a payload: anything longer than this was not made by the server.
MAX_TOKEN_CHARS = 4096


def page_size(requested: int, default: int, maximum: int) -> int:
    """The number of items to return for a request's `page_size` (see the module docstring)."""
    if requested < 0:
        raise InvalidArgument("page_size", Reason.OUT_OF_RANGE, "page_size must be >= 0")
    if requested == 0:
        return default
    return min(requested, maximum)


def fingerprint(query: Any) -> str:
    """A short hash of everything that defines the query a token pages through."""
    canonical = json.dumps(query, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def encode(position: Any, query: Any) -> str:
    raw = json.dumps({"p": position, "q": fingerprint(query)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_token(why: str) -> InvalidArgument:
    return InvalidArgument("page_token", Reason.INVALID_PAGE_TOKEN, f"page_token is not valid: {why}")


def decode(token: str, query: Any) -> Any:
    """The position stored in `token`, or None for an empty token (the first page).

    The caller still type-checks the position it gets back (see `decode_as`)."""
    if not token:
        return None
    if len(token) > MAX_TOKEN_CHARS:
        raise invalid_token("too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = jsonvalue.parse(raw.decode(), "page_token", max_bytes=MAX_TOKEN_CHARS)
    except (ValueError, binascii.Error, UnicodeDecodeError, InvalidArgument):
        raise invalid_token("malformed") from None
    if not isinstance(data, dict) or set(data) != {"p", "q"}:
        raise invalid_token("malformed")
    if data["q"] != fingerprint(query):
        raise invalid_token("it belongs to another query")
    return data["p"]


def decode_as(token: str, query: Any, kind: type) -> Any:
    """`decode`, then check that the position is a `kind` (bool never counts as int)."""
    position = decode(token, query)
    if position is None:
        return None
    if not isinstance(position, kind) or isinstance(position, bool):
        raise invalid_token("malformed")
    if isinstance(position, int) and not -(2**63) <= position < 2**63:
        raise invalid_token("out of range")
    return position


def approx_size(item: Any) -> int:
    """An upper-bound estimate of an item's encoded size: a message's ByteSize, else the lengths of
    the strings and bytes in a row, dataclass, mapping or sequence (8 bytes for anything else)."""
    stack, total = [item], 0
    while stack:
        value = stack.pop()
        if isinstance(value, (str, bytes, bytearray)):
            total += len(value) * (4 if isinstance(value, str) and not value.isascii() else 1) + 2
        elif hasattr(value, "ByteSize"):
            total += value.ByteSize() + 8
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            stack.extend(getattr(value, f.name) for f in dataclasses.fields(value))
        elif hasattr(value, "values") and callable(value.values):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)
        else:
            total += 8
    return total


def fit(items: Sequence[Any], budget: int | None = None, size: Callable[[Any], int] = approx_size) -> int:
    """How many leading `items` fit in `budget` bytes (default MAX_PAGE_BYTES; at least one item)."""
    budget = MAX_PAGE_BYTES if budget is None else budget
    used = 0
    for i, item in enumerate(items):
        used += size(item)
        if used > budget and i > 0:
            return i
    return len(items)


def page(
    rows: Sequence[T], limit: int, key: Callable[[T], Any], query: Any, budget: int | None = None
) -> tuple[list[T], str]:
    """The first `limit` of `rows` (fetched as limit + 1), cut short at `budget` bytes, and the next
    page's token ("" at the end)."""
    kept = list(rows[: fit(rows[:limit], budget)])
    return kept, encode(key(kept[-1]), query) if len(rows) > len(kept) else ""


@dataclass(frozen=True)
class PageRequest(Generic[P]):
    """One List call's paging, checked: `limit` items per page, the `position` where the previous page
    ended (None on the first page), and the `query` its tokens are bound to."""

    query: Any
    limit: int
    position: P | None

    def page(self, rows: Sequence[T], key: Callable[[T], Any]) -> tuple[list[T], str]:
        """`page` over rows fetched as limit + 1."""
        return page(rows, self.limit, key, self.query)


def page_request(
    query: Any, size: int, token: str, position: type[P], default: int, maximum: int
) -> PageRequest[P]:
    """The page-size rule, then the token decoded against `query` as a `position` (in that order)."""
    limit = page_size(size, default, maximum)
    return PageRequest(query, limit, decode_as(token, query, position))
