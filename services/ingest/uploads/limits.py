"""Per-principal upload limits (no gRPC; the SQL is in uploads/store.py): how many upload streams one
principal may run at once in this process, how many open sessions it may have, and how large a blob it
may declare. They keep one caller (a hostile tenant or a runaway script) from starving every other
upload of the shared buffer, of stream slots or of session rows.

Refusals are RESOURCE_EXHAUSTED with a stable reason (TOO_MANY_UPLOAD_STREAMS,
TOO_MANY_UPLOAD_SESSIONS) and INVALID_ARGUMENT on `expected_size` (TOO_LARGE) for a declared size
above STRATA_MAX_BLOB_BYTES.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ...common.db import Conn
from ...common.errors import InvalidArgument, Reason, ResourceExhausted
from . import store


class StreamSlots:
    """Running upload streams per principal in this process (a plain counter: the event loop is the
    lock). A stream takes its slot before it reads a chunk and gives it back when it ends."""

    def __init__(self, per_principal: int) -> None:
        self.per_principal = max(1, per_principal)
        self._running: dict[str, int] = {}

    @contextlib.contextmanager
    def hold(self, principal: str) -> Iterator[None]:
        running = self._running.get(principal, 0)
        if running >= self.per_principal:
            raise ResourceExhausted(
                Reason.TOO_MANY_UPLOAD_STREAMS,
                f"at most {self.per_principal} upload streams may run at once per caller; "
                "wait for one to end",
                limit=str(self.per_principal),
            )
        self._running[principal] = running + 1
        try:
            yield
        finally:
            left = self._running[principal] - 1
            if left:
                self._running[principal] = left
            else:
                del self._running[principal]

    def running(self, principal: str) -> int:
        return self._running.get(principal, 0)


def check_declared_size(expected_size: int, max_blob_bytes: int) -> None:
    if expected_size < 0:
        raise InvalidArgument("expected_size", Reason.OUT_OF_RANGE, "expected_size must be >= 0")
    if expected_size > max_blob_bytes:
        raise InvalidArgument(
            "expected_size",
            Reason.TOO_LARGE,
            f"expected_size {expected_size} exceeds the server's maximum blob size of {max_blob_bytes} bytes",
        )


async def check_open_sessions(conn: Conn, owner: str, limit: int) -> None:
    """Inside the transaction that inserts a session: serialize the owner's creations (an advisory
    lock, so concurrent calls cannot both pass) and refuse when `limit` sessions are open already."""
    await store.lock_owner(conn, owner)
    if await store.count_open(conn, owner) >= limit:
        raise ResourceExhausted(
            Reason.TOO_MANY_UPLOAD_SESSIONS,
            f"at most {limit} upload sessions may be open per caller; commit or abort some first",
            limit=str(limit),
        )
