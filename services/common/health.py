"""Health that reflects what the services depend on: the database and the blob store.

`HealthProbe.run()` is a background task of every server. Every `interval` seconds it runs
`SELECT 1` on a pool connection and the blob store's own check (folder present, bucket reachable),
each within `timeout`. While either fails, every service's status (and the server's, "") is
NOT_SERVING, so a load balancer or Kubernetes readiness probe stops routing calls that could only
answer UNAVAILABLE; when both pass again, SERVING. A change is logged once (health_changed), not
every probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from grpc_health.v1 import health_pb2

from .deps import Deps
from .logging import get_logger

log = get_logger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthProbe:
    def __init__(
        self,
        deps: Deps,
        set_all: Callable[[int], Awaitable[None]],
        interval: float = 2.0,
        timeout: float = 3.0,
    ) -> None:
        self.deps = deps
        self.set_all = set_all
        self.interval = interval
        self.timeout = timeout
        self.serving = True  # the server starts SERVING once both were reached at start-up

    async def database_ok(self) -> bool:
        async def select_one() -> None:
            async with self.deps.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")

        return await self._within_timeout(select_one)

    async def blobs_ok(self) -> bool:
        check = getattr(self.deps.blobs, "check", None)
        if check is None:
            return True
        return await self._within_timeout(check)

    async def _within_timeout(self, check: Callable[[], Awaitable[object]]) -> bool:
        """Whether `check` completes without error within the probe timeout."""
        try:
            await asyncio.wait_for(check(), self.timeout)
            return True
        except asyncio.CancelledError:
            raise
        except Exception:
            return False

    async def probe(self) -> bool:
        """One probe; updates the statuses when the answer changed. Returns whether all is up."""
        database, blobs = await asyncio.gather(self.database_ok(), self.blobs_ok())
        ok = database and blobs
        if ok != self.serving:
            self.serving = ok
            await self.set_all(SERVING if ok else NOT_SERVING)
            log.warning("health_changed", serving=ok, database=database, blobs=blobs)
        return ok

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.probe()
