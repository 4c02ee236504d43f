"""One checked JSON parser for every JSON document a request carries (config, summary overrides,
metadata, filters, page tokens).

`parse(text, field, max_bytes=...)` returns the decoded value or raises InvalidArgument naming
`field`, and never lets a hostile document reach PostgreSQL or the recursion limit:

* larger than `max_bytes` (UTF-8)                               -> TOO_LARGE
* nested deeper than MAX_DEPTH arrays/objects                     -> TOO_LARGE
* not JSON; NaN, Infinity or -Infinity; a string or key holding
  U+0000 or a lone surrogate (jsonb cannot store either)         -> INVALID_JSON
* a number that overflows float64 (1e400) or an integer outside
  int64 (-2^63 .. 2^63-1)                                         -> OUT_OF_RANGE
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import InvalidArgument, Reason

MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 1024 * 1024
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonError(InvalidArgument):
    """A refused JSON document; `syntax` tells "not JSON at all" from "JSON Strata does not store"."""

    def __init__(self, field: str, reason: str, message: str, *, syntax: bool = False) -> None:
        super().__init__(field, reason, message)
        self.syntax = syntax


class _Refused(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _constant(name: str) -> Any:
    raise _Refused(Reason.INVALID_JSON, f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(Reason.OUT_OF_RANGE, f"{text[:32]} overflows float64")
    return value


def _int(text: str) -> int:
    if len(text) > 20:  # longer than any int64: refuse before converting
        raise _Refused(Reason.OUT_OF_RANGE, "an integer is outside int64")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _Refused(Reason.OUT_OF_RANGE, "an integer is outside int64")
    return value


def _check_depth(text: str) -> None:
    """Nesting of arrays/objects at most MAX_DEPTH, measured on the (valid JSON) text: strings and
    everything but brackets are removed at C speed, then the brackets are counted."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if len(brackets) <= 2 * MAX_DEPTH:
        return
    depth = 0
    for char in brackets:
        depth += 1 if char in "[{" else -1
        if depth > MAX_DEPTH:
            raise _Refused(Reason.TOO_LARGE, f"nested deeper than {MAX_DEPTH} levels")


def _check_strings(value: Any) -> None:
    """No U+0000 or lone surrogate in a key or string (an iterative walk over every value)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BAD_CHARS.search(item):
                raise _Refused(Reason.INVALID_JSON, "a string holds U+0000 or a lone surrogate")
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_value(text: str, value: Any) -> None:
    if isinstance(value, (dict, list)):
        _check_depth(text)
    # A decoded string can only hold U+0000 or a lone surrogate that the text spells as an escape
    # (or holds raw): the walk is needed only when the text has one.
    if _BAD_CHARS.search(text) or _BAD_ESCAPE.search(text):
        _check_strings(value)


def parse(text: str, field: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The JSON value of `text` (see the module docstring for what is refused and how)."""
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise JsonError(field, Reason.TOO_LARGE, f"{field} is larger than {max_bytes} bytes")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
        _check_value(text, value)
    except _Refused as e:
        raise JsonError(field, e.reason, f"{field}: {e}") from None
    except RecursionError:  # the decoder's own guard, far past MAX_DEPTH; reached in linear time
        raise JsonError(
            field, Reason.TOO_LARGE, f"{field} is nested deeper than {MAX_DEPTH} levels"
        ) from None
    except ValueError as e:
        raise JsonError(field, Reason.INVALID_JSON, f"{field} is not valid JSON: {e}", syntax=True) from None
    return value


def parse_object(text: str, field: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """`parse`, and the value must be a JSON object (INVALID_JSON otherwise)."""
    value = parse(text, field, max_bytes=max_bytes)
    if not isinstance(value, dict):
        raise JsonError(field, Reason.INVALID_JSON, f"{field} must be a JSON object")
    return value
