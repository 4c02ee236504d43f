"""The outermost Strata interceptor: per-RPC metrics and one structured access-log line per call.

For every call it counts `strata_rpc_calls_total{method,code}`, observes
`strata_rpc_duration_seconds{method}` and holds `strata_rpc_in_flight{method}`, then logs one `access`
event with `method`, `code`, `duration_ms`, `principal`, `request_id` and `peer` at
STRATA_ACCESS_LOG_LEVEL (debug, info, warning, error; "off": none). It wraps the admission and
authorization interceptors, so refused calls (UNAUTHENTICATED, RESOURCE_EXHAUSTED, ...) are counted
and logged too; the principal and request id are reported by StrataServerInterceptor through
`note_caller` once it has authenticated the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

import grpc

from .logging import get_logger
from .method_handlers import BehaviourInterceptor, closing, wrapped
from .metrics import RPC_CALLS, RPC_IN_FLIGHT, RPC_SECONDS

log = get_logger("strata.access")
LEVELS = ("debug", "info", "warning", "error", "off")


class _Record:
    __slots__ = ("method", "peer", "principal", "request_id", "started")

    def __init__(self, method: str, peer: str) -> None:
        self.method = method
        self.peer = peer
        self.started = time.perf_counter()
        self.principal = ""
        self.request_id = ""


_current: ContextVar[_Record | None] = ContextVar("strata_access", default=None)


def note_caller(principal: str, request_id: str) -> None:
    """Called once the call is authenticated: the access line names who called."""
    record = _current.get()
    if record is not None:
        record.principal, record.request_id = principal, request_id


def _code_name(context: grpc.aio.ServicerContext, default: str) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        return next((c.name for c in grpc.StatusCode if c.value[0] == code), default)
    return default


class _Series:
    """A method's metric children, looked up once (`labels()` costs about as much as the update)."""

    __slots__ = ("calls", "in_flight", "seconds")

    def __init__(self, method: str) -> None:
        self.calls: dict[str, Any] = {}  # code name -> counter child
        self.seconds = RPC_SECONDS.labels(method)
        self.in_flight = RPC_IN_FLIGHT.labels(method)

    def count(self, method: str, code: str) -> None:
        child = self.calls.get(code)
        if child is None:
            child = self.calls[code] = RPC_CALLS.labels(method, code)
        child.inc()


class AccessInterceptor(BehaviourInterceptor):
    def __init__(self, level: str = "info") -> None:
        if level not in LEVELS:
            raise ValueError(f"STRATA_ACCESS_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}")
        self.level = level
        self._series: dict[str, _Series] = {}  # per method: registered RPCs only, so bounded

    def series(self, method: str) -> _Series:
        found = self._series.get(method)
        if found is None:
            found = self._series[method] = _Series(method)
        return found

    def intercept_handler(
        self, handler: grpc.RpcMethodHandler, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        method = details.method

        def wrap(kind: str, behaviour: Callable[..., Any]) -> Callable[..., Any]:
            single = kind.endswith("_unary")  # one response
            return self._single(method, behaviour) if single else self._streaming(method, behaviour)

        return wrapped(handler, wrap)

    def _single(self, method: str, behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with self._observed(method, context):
                return await behavior(request, context)

        return wrapper

    def _streaming(self, method: str, behavior: Callable[..., Any]) -> Callable[..., AsyncIterator[Any]]:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with self._observed(method, context):
                result = behavior(request, context)
                if hasattr(result, "__aiter__"):
                    async with closing(result) as responses:
                        async for response in responses:
                            yield response
                else:  # a handler written with context.write()
                    await result

        return wrapper

    @contextlib.contextmanager
    def _observed(self, method: str, context: grpc.aio.ServicerContext) -> Iterator[None]:
        """Record one call around the block, with the code it ended with: the status the handler set
        (OK when it set none), CANCELLED when the call was cancelled or closed, else UNKNOWN."""
        record, code = self._begin(method, context), "UNKNOWN"
        try:
            yield
            code = _code_name(context, "OK")
        except (asyncio.CancelledError, GeneratorExit):
            code = "CANCELLED"
            raise
        except BaseException:
            code = _code_name(context, "UNKNOWN")
            raise
        finally:
            self._finish(record, code)

    def _begin(self, method: str, context: grpc.aio.ServicerContext) -> _Record:
        # the peer is read now: once a call has ended (a client gone) its context must not be asked
        record = _Record(method, context.peer() or "")
        _current.set(record)  # the handler runs in this task's context: note_caller finds it
        self.series(method).in_flight.inc()
        return record

    def _finish(self, record: _Record, code: str) -> None:
        """Log, count, and leave the in-flight gauge last: once it is back down, the call is recorded."""
        elapsed = time.perf_counter() - record.started
        if self.level != "off":
            with contextlib.suppress(Exception):
                getattr(log, self.level)(
                    "access",
                    method=record.method,
                    code=code,
                    duration_ms=round(elapsed * 1000, 2),
                    principal=record.principal or None,
                    request_id=record.request_id or None,
                    peer=record.peer,
                )
        series = self.series(record.method)
        series.count(record.method, code)
        series.seconds.observe(elapsed)
        series.in_flight.dec()
