"""Periodic background work (crash detection, upload expiry, TTL and GC) that is safe with replicas.

`every(interval, name, fn)` returns a ServiceSpec background task. Each pass takes a PostgreSQL advisory
lock named after the task (session-level, on a dedicated connection), so when several replicas run,
one of them does a given pass and the others skip it.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from . import metrics
from .context import SYSTEM, CallInfo, reset_call, set_call
from .logging import get_logger

if TYPE_CHECKING:
    from .deps import Deps

log = get_logger(__name__)


def lock_id(name: str) -> int:
    return 0x5354_0000_0000 + zlib.crc32(name.encode())


async def run_once_locked(
    deps: Deps, name: str, fn: Callable[[Deps], Awaitable[object]]
) -> tuple[bool, object]:
    """Run fn(deps) if this process gets the task's lock; returns (ran, result)."""
    async with deps.pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_id(name)):
            return False, None
        token = set_call(CallInfo(rpc=f"background/{name}", request_id=name, peer="", principal=SYSTEM))
        try:
            return True, await fn(deps)
        finally:
            reset_call(token)
            await conn.execute("SELECT pg_advisory_unlock($1)", lock_id(name))


def every(
    interval: Callable[[Deps], float], name: str, fn: Callable[[Deps], Awaitable[object]]
) -> Callable[[Deps], Awaitable[None]]:
    """A background task running fn every interval(deps) seconds (0 or less: disabled)."""

    async def task(deps: Deps) -> None:
        seconds = interval(deps)
        if seconds <= 0:
            return
        while True:
            await asyncio.sleep(seconds)
            try:
                ran, result = await metrics.timed_job(name, run_once_locked(deps, name, fn))
                if ran and result:
                    log.info("background_pass", task=name, result=result)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background_pass_failed", task=name)

    task.__name__ = name
    return task
