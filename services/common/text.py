"""One checker for free-text fields (descriptions, display names, notes, filters).

`check(value, field, max_chars)` returns the text or raises InvalidArgument naming `field`:
U+0000 or a lone surrogate is INVALID_TEXT (PostgreSQL text cannot store NUL); more than the
field's bound is TOO_LARGE. The bounds of every free-text field are here, so docs/security.md and
the proto comments state one set of numbers.
"""

from __future__ import annotations

import re

from .errors import InvalidArgument, Reason

DISPLAY_NAME_MAX = 128  # users', teams' and runs' display names
DESCRIPTION_MAX = 4096  # projects, service accounts, API keys, artifacts, artifact versions
FILTER_VALUE_MAX = 1024  # each string of an audit filter
EMAIL_MAX = 320

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def check(value: str, field: str, max_chars: int) -> str:
    """`value` if it is at most `max_chars` characters and holds no U+0000 or lone surrogate."""
    if len(value) > max_chars:
        raise InvalidArgument(field, Reason.TOO_LARGE, f"{field} is longer than {max_chars} characters")
    if _BAD_CHARS.search(value):
        raise InvalidArgument(field, Reason.INVALID_TEXT, f"{field} holds U+0000 or a lone surrogate")
    return value


def check_bytes(value: str, field: str, max_bytes: int) -> str:
    """`check` with the bound in UTF-8 bytes (fields documented in bytes, e.g. run notes)."""
    check(value, field, max_bytes)
    if len(value.encode("utf-8", "surrogatepass")) > max_bytes:
        raise InvalidArgument(field, Reason.TOO_LARGE, f"{field} is larger than {max_bytes} bytes")
    return value
