"""Safe relative paths for files inside runs and artifact manifests (and the directories they are
downloaded into): what the server accepts, so no client can be made to write outside its target."""

from __future__ import annotations

from .errors import InvalidArgument, Reason

MAX_PATH_LENGTH = 1024


def check_safe_path(path: str, field: str = "path") -> str:
    """A relative POSIX path without "", ".", ".." components, backslashes, NUL or a drive letter."""
    if not path:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    parts = path.split("/")
    unsafe = (
        len(path) > MAX_PATH_LENGTH
        or path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or (len(path) > 1 and path[1] == ":")
        or any(part in {"", ".", ".."} for part in parts)
    )
    if unsafe:
        raise InvalidArgument(
            field,
            Reason.UNSAFE_PATH,
            f"{field} {path[:200]!r} must be a relative path without '.', '..' or empty components",
        )
    return path
