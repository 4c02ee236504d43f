"""The keys-mode authorizer's caches: bounded TTL maps, and the LISTEN/NOTIFY loop that empties them
the moment another process (or this one) commits a change that narrows access.

Bound on staleness: a revocation, expiry change, role change, membership change, service-account
change or project visibility change reaches every process that is listening when the change commits
(PostgreSQL delivers the notification; in the committing process, the iam service also clears its own
cache directly). If a process's listening connection is down, its cache entries still expire after
STRATA_AUTH_CACHE_SECONDS, and it clears everything when it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import asyncpg

from ..db import Conn
from ..logging import get_logger
from ..metrics import AUTH_CACHE

log = get_logger(__name__)

K = TypeVar("K")
V = TypeVar("V")

CHANNEL = "strata_auth"
_HITS, _MISSES = AUTH_CACHE.labels("hit"), AUTH_CACHE.labels("miss")  # looked up once: hot path


async def cancel_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task (if any) and wait until it has ended; its failure is not re-raised."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


class TtlCache(Generic[K, V]):
    """A bounded map whose entries live `ttl` seconds. `generation` changes on clear(), so a load that
    started before a clear does not put back what the clear removed."""

    def __init__(self, ttl: float, max_size: int = 10_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self.generation = 0
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._data.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._data.pop(key, None)
            _MISSES.inc()
            return None
        _HITS.inc()
        return entry[1]

    def put(self, key: K, value: V, generation: int | None = None) -> None:
        if generation is not None and generation != self.generation:
            return
        self._data[key] = (time.monotonic() + self.ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self.generation += 1
        self._data.clear()


class AuthListener:
    """Keeps one connection LISTENing on CHANNEL (or `channels`) and calls `on_change` for every notification (and
    after every reconnect, since notifications sent while disconnected are lost)."""

    def __init__(
        self,
        dsn: str,
        on_change: Callable[[], None],
        retry_delay: float = 1.0,
        channels: tuple[str, ...] = (CHANNEL,),
    ) -> None:
        self.dsn = dsn
        self.on_change = on_change
        self.retry_delay = retry_delay
        self.channels = channels
        self.listening = asyncio.Event()  # set while subscribed (tests wait on it)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="auth-listener")

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None

    def _notified(self, *_args: object) -> None:
        self.on_change()

    async def _run(self) -> None:
        while True:
            conn: Conn | None = None
            try:
                conn = await asyncpg.connect(self.dsn)
                closed = asyncio.Event()
                conn.add_termination_listener(lambda _c, ev=closed: ev.set())
                for channel in self.channels:
                    await conn.add_listener(channel, self._notified)
                self.on_change()
                self.listening.set()
                await closed.wait()
                log.warning("auth_listener_disconnected")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("auth_listener_failed", error=type(exc).__name__)
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(self.retry_delay)
