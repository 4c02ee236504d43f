"""The one path rule of files inside runs and artifact manifests (and of the directories they are
downloaded into): what the server accepts, so no client can be made to write outside its target and
no stored name can drive a terminal. The grammar is `strata.wire.paths`, shared with the SDK."""

from __future__ import annotations

from strata.wire.paths import MAX_PATH_BYTES, path_problem, printable

from .errors import InvalidArgument, Reason

__all__ = ["MAX_PATH_BYTES", "check_path", "check_safe_path", "printable"]


def check_path(path: str, field: str = "path") -> str:
    """`path` if it follows the rule of strata.wire.paths; else INVALID_ARGUMENT naming `field`:
    FIELD_REQUIRED when empty, UNSAFE_PATH otherwise."""
    problem = path_problem(path)
    if problem is None:
        return path
    if not path:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    raise InvalidArgument(field, Reason.UNSAFE_PATH, f"{field} '{printable(path, 200)}' {problem}")


check_safe_path = check_path  # the earlier name
