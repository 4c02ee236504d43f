"""The upload buffer budget (STRATA_UPLOAD_BUFFER): a process-wide bound on bytes upload streams hold
in memory, with a share per caller (STRATA_UPLOAD_BUFFER_PER_PRINCIPAL) so one caller can never hold
all of it. The share counts the bytes a caller's streams gather from their clients (what an idle
client could keep hostage); a part on its way to the blob store is `detach`ed from it (it is released
when the write ends, whatever the client does) and counts against the shared limit only.

Requests wait in FIFO order for the shared limit; a request held back only by its own caller's share
lets the requests of other callers behind it go first. release() is synchronous, so a finished part
upload gives its bytes back at once (from a done-callback), whatever its stream is waiting for.
`force()` takes bytes beyond the limit: a stream uses it only to reach the blob store's minimum part
size (below it, it could release nothing), which bounds the overdraft (see uploads/stream.py).
"""

from __future__ import annotations

import asyncio
from collections import deque


class ByteBudget:
    def __init__(self, limit: int, share: int = 0) -> None:
        self.limit = max(1, limit)
        self.share = min(self.limit, share) if share > 0 else self.limit
        self.used = 0
        self._held: dict[str, int] = {}
        self._waiters: deque[tuple[str, int, asyncio.Future[None]]] = deque()

    def held(self, key: str) -> int:
        return self._held.get(key, 0)

    def _fits(self, key: str, n: int) -> bool:
        return self.used + n <= self.limit and self.held(key) + n <= self.share

    def _take(self, key: str, n: int) -> None:
        self.used += n
        self._held[key] = self.held(key) + n

    def try_acquire(self, n: int, key: str = "") -> bool:
        """Take n bytes at once if nobody waits and they fit; False (nothing taken) otherwise."""
        if self._waiters or not self._fits(key, n):
            return False
        self._take(key, n)
        return True

    def force(self, n: int, key: str = "") -> None:
        self._take(key, n)

    async def acquire(self, n: int, key: str = "") -> int:
        """Wait for n bytes (at most the caller's share); returns what was taken."""
        n = min(n, self.share)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((key, n, fut))
        self._grant()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release(n, key)  # granted just as we were cancelled
            else:
                self._waiters = deque(w for w in self._waiters if w[2] is not fut)
                self._grant()
            raise
        return n

    def detach(self, n: int, key: str) -> None:
        """n bytes of `key` leave its share (still counted in the shared limit until released)."""
        left = self.held(key) - n
        if left > 0:
            self._held[key] = left
        else:
            self._held.pop(key, None)
        self._grant()

    def release(self, n: int, key: str | None = "") -> None:
        """Give n bytes back; key None for bytes detached from their caller's share."""
        self.used -= n
        if key is not None:
            self.detach(n, key)
        else:
            self._grant()

    def _grant(self) -> None:
        for waiter in list(self._waiters):
            key, need, fut = waiter
            if self.used + need > self.limit:
                break  # first come, first served for the shared limit
            if fut.done() or self.held(key) + need > self.share:
                if fut.done():
                    self._waiters.remove(waiter)
                continue  # this caller's share is spent: the others behind it go first
            self._waiters.remove(waiter)
            self._take(key, need)
            fut.set_result(None)
