"""gRPC calls on behalf of the signed-in caller, and the gRPC status -> HTTP status mapping.

One channel (`strata.client.Client` without a key of its own) serves every caller: each call carries
the caller's key as `authorization` metadata, so the services decide what the caller may do. The client
is synchronous; calls run in Starlette's thread pool so the event loop never blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from starlette.concurrency import run_in_threadpool
from strata.client import Client, RetryPolicy
from strata.errors import StrataError

# Google's HTTP mapping of canonical codes (google/rpc/code.proto).
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: an API key (None in open-local mode) and how it was presented."""

    api_key: str | None
    session_id: str | None = None  # None for `Authorization: Bearer` callers and open-local mode

    def metadata(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.api_key}")] if self.api_key else []


class ApiError(Exception):
    """An error answered as JSON: HTTP status, the stable reason, the message and the offending field."""

    def __init__(self, status: int, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.field = status, reason, message, field

    @classmethod
    def from_strata(cls, err: StrataError, *, reading: bool) -> ApiError:
        status = HTTP_STATUS.get(err.code, 500)
        reason = err.reason or err.code.name
        if reading and err.code == grpc.StatusCode.PERMISSION_DENIED and reason == "PERMISSION_DENIED":
            # The services refuse outsiders alike for private and missing projects; a page says 404.
            return cls(404, "NOT_FOUND", "not found (or not visible to you)")
        return cls(status, reason, err.message, err.field)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "reason": self.reason, "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


class Bridge:
    """The console's only way to the services."""

    def __init__(self, grpc_addr: str, timeout: float = 30.0) -> None:
        self.client = Client(grpc_addr, api_key="", timeout=timeout, retry=RetryPolicy(max_attempts=3))

    def close(self) -> None:
        self.client.close()

    async def call(
        self, caller: Caller, service: str, rpc: str, request: Any, *, reading: bool = True
    ) -> Any:
        """`client.<service>.<rpc>(request)` with the caller's key; StrataError -> ApiError."""
        method = getattr(getattr(self.client, service), rpc)
        try:
            return await run_in_threadpool(method, request, metadata=caller.metadata())
        except StrataError as e:
            raise ApiError.from_strata(e, reading=reading) from None

    def stream(self, caller: Caller, service: str, rpc: str, request: Any) -> Iterator[Any]:
        """A server-streaming call as a blocking iterator (iterate it in a thread)."""
        method = getattr(getattr(self.client, service), rpc)
        chunks: Iterator[Any] = method(request, metadata=caller.metadata())
        return chunks
