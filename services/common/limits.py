"""Per-principal concurrency limits on heavy calls, so one caller cannot occupy the database pool.

A heavy call is one RPC of `HEAVY_RPCS`: a bulk write that may carry thousands of entries or hold a
transaction and its row locks while it works. Each principal may have `STRATA_HEAVY_CALLS_PER_PRINCIPAL`
of them in progress at once; one more waits up to `STRATA_HEAVY_CALL_WAIT` seconds for a slot, then
answers RESOURCE_EXHAUSTED with reason TOO_MANY_CONCURRENT_CALLS and a RetryInfo delay. Other calls and
other principals never wait on these slots.

The interceptor takes the slot after the call is authenticated and authorized (an unauthenticated or
forbidden call holds none) and gives it back when the handler returns. The limiter is off in open
local mode, where every caller is the same local user and there is no other tenant to protect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from google.protobuf import duration_pb2
from google.rpc import error_details_pb2

from .config import Settings
from .context import Principal
from .errors import Reason, ResourceExhausted

HEAVY_RPCS: frozenset[str] = frozenset(
    {
        "/strata.ingest.v1.IngestService/UpdateRun",
        "/strata.ingest.v1.IngestService/AddRunFiles",
        "/strata.registry.v1.RegistryService/CreateArtifactVersion",
        "/strata.registry.v1.RegistryService/AppendManifestEntries",
        "/strata.registry.v1.RegistryService/CommitArtifactVersion",
        "/strata.registry.v1.RegistryService/RunGarbageCollection",
    }
)


class TooManyConcurrentCalls(ResourceExhausted):
    """The principal already has its limit of heavy calls in progress."""

    def __init__(self, rpc: str, limit: int, retry_after: float) -> None:
        super().__init__(
            Reason.TOO_MANY_CONCURRENT_CALLS,
            f"at most {limit} heavy calls of one caller may run at once; retry later",
            rpc=rpc,
            limit=str(limit),
        )
        self.retry_after = retry_after

    def extra_details(self) -> list[object]:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(int(self.retry_after * 1000))
        return [error_details_pb2.RetryInfo(retry_delay=delay)]


@dataclass
class _Slots:
    semaphore: asyncio.Semaphore
    users: int = 0  # calls holding or waiting for a slot; the entry is dropped at 0


@dataclass
class HeavyCallLimiter:
    """Slots per principal for the RPCs of `rpcs`; `limit` <= 0 turns the limiter off."""

    limit: int
    wait: float
    rpcs: frozenset[str] = HEAVY_RPCS
    _slots: dict[str, _Slots] = field(default_factory=dict)

    @classmethod
    def for_settings(cls, settings: Settings) -> HeavyCallLimiter:
        enabled = settings.auth_mode == "keys"
        return cls(settings.heavy_calls_per_principal if enabled else 0, settings.heavy_call_wait)

    def applies(self, rpc: str, principal: Principal) -> bool:
        return self.limit > 0 and rpc in self.rpcs and not principal.anonymous

    @contextlib.asynccontextmanager
    async def slot(self, rpc: str, principal: Principal) -> AsyncIterator[None]:
        """Hold one of the principal's slots while the block runs (no-op for other RPCs)."""
        if not self.applies(rpc, principal):
            yield
            return
        slots = self._slots.setdefault(principal.name, _Slots(asyncio.Semaphore(self.limit)))
        slots.users += 1
        try:
            try:
                await asyncio.wait_for(slots.semaphore.acquire(), self.wait)
            except TimeoutError:
                raise TooManyConcurrentCalls(rpc, self.limit, max(self.wait, 0.5)) from None
            try:
                yield
            finally:
                slots.semaphore.release()
        finally:
            slots.users -= 1
            if slots.users == 0:
                self._slots.pop(principal.name, None)
