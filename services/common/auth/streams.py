"""Open long-lived calls, re-checked whenever access may have narrowed.

A unary call is authorized once and ends quickly; a stream (WatchAlias, StreamMetrics, UploadChunks,
ScanHistory, ReadBlob, ReadRunFile, ...) may outlive its caller's rights. The interceptor registers
every streaming call here (`StreamRegistry.watch`) with a `recheck` coroutine that authenticates the
call's credentials again and authorizes its request (or first message) again.

`changed()` is called by the authorizer each time its caches are emptied: a revocation, expiry,
role, membership, service-account or visibility change committed (LISTEN/NOTIFY from any process, or
directly in the committing one). One sweep then re-checks every open call; a call that fails its
re-check is cancelled and ends with the re-check's error (UNAUTHENTICATED for a revoked or expired
key, PERMISSION_DENIED for a lost role), so nothing it would have sent or written afterwards happens.
A sweep also runs every `interval` seconds while calls are open (an expiry needs no notification, and
a process whose listening connection is down still converges).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from ..errors import PermissionDenied, ServiceError, Unauthenticated
from ..logging import get_logger
from .cache import cancel_task

log = get_logger(__name__)

Recheck = Callable[[], Awaitable[None]]

_PARALLEL_CHECKS = 32
_RETRY_SECONDS = 1.0


@dataclass(eq=False)
class OpenCall:
    """One registered call: its task, how to re-check it, and (once cut) why.

    `interruptible` is False while the call's task is outside the handler (gRPC sending a response
    the handler yielded): a cut then only records the error, and the call raises it as soon as it is
    back (`raise_if_cut`), so the status is always sent by the call's own task."""

    method: str
    recheck: Recheck
    task: asyncio.Task[object] | None
    error: ServiceError | None = field(default=None)
    interruptible: bool = True

    def cut(self, error: ServiceError) -> None:
        if self.error is None and self.task is not None and not self.task.done():
            self.error = error
            if self.interruptible:
                self.task.cancel()

    def raise_if_cut(self) -> None:
        if self.error is not None:
            raise self.error


class StreamRegistry:
    """The open long-lived calls of one process."""

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self.cut_count = 0  # calls ended by a re-check (tests and logs)
        self._open: set[OpenCall] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._open)

    @contextlib.asynccontextmanager
    async def watch(self, method: str, recheck: Recheck) -> AsyncIterator[OpenCall]:
        """Register the current task's call for as long as the block runs."""
        call = OpenCall(method, recheck, asyncio.current_task())
        self._open.add(call)
        self._ensure_sweeper()
        try:
            yield call
        finally:
            self._open.discard(call)
            if not self._open:
                self._wake.set()  # the sweeper ends when no call is left

    def changed(self) -> None:
        """Access may have narrowed: re-check every open call soon."""
        if self._open:
            self._wake.set()
            self._ensure_sweeper()

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None

    def _ensure_sweeper(self) -> None:
        if self._task is None or self._task.done():
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to re-check yet
                self._task = asyncio.get_running_loop().create_task(self._run(), name="stream-recheck")

    async def _run(self) -> None:
        while self._open:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            if not await self.sweep():
                await asyncio.sleep(_RETRY_SECONDS)  # a re-check could not finish: try again
                self._wake.set()

    async def sweep(self) -> bool:
        """Re-check every open call once; False when some re-check failed for another reason than
        the caller's rights (the database is down, say), so the sweep should be repeated."""
        calls = [c for c in self._open if c.error is None]
        if not calls:
            return True
        limit = asyncio.Semaphore(_PARALLEL_CHECKS)
        results = await asyncio.gather(*(self._check(c, limit) for c in calls))
        return all(results)

    async def _check(self, call: OpenCall, limit: asyncio.Semaphore) -> bool:
        async with limit:
            if call not in self._open:
                return True
            try:
                await call.recheck()
            except (Unauthenticated, PermissionDenied) as exc:
                log.info("stream_cut", rpc=call.method, reason=exc.reason)
                if call in self._open:  # still inside its block: the cancel lands in the handler
                    self.cut_count += 1
                    call.cut(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("stream_recheck_failed", rpc=call.method, error=type(exc).__name__)
                return False
            return True
