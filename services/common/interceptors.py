"""The server interceptor: one wrapper around every handler that

1. binds `rpc`, `request_id`, `peer` and `principal` into structlog's contextvars,
2. authenticates the caller and authorizes the call against auth.policy.RULES (for client-streaming
   RPCs, on the first message, before the handler sees it),
3. holds one of the caller's heavy-call slots around the handler for the RPCs of limits.HEAVY_RPCS,
4. keeps every streaming call registered with the authorizer's StreamRegistry (auth/streams.py) while
   it runs, so a revocation or role change that arrives meanwhile re-checks it and cuts it,
5. maps any exception to a google.rpc.Status with an ErrorInfo (errors.to_status) and aborts with it;
   unexpected exceptions are logged with their traceback and reach the caller as a generic INTERNAL.
Cancellation (asyncio.CancelledError) always propagates untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import structlog
from grpc_status import rpc_status

from . import access
from .auth import Authorizer, admitted
from .auth.policy import RULES, Access, Rule
from .auth.streams import OpenCall
from .context import ANONYMOUS, CallInfo, CallToken, Principal, reset_call, set_call
from .errors import PermissionDenied, Reason, Unauthenticated, to_status
from .limits import HeavyCallLimiter
from .logging import get_logger
from .method_handlers import BehaviourInterceptor, closing, wrapped

log = get_logger("strata.rpc")

# authorizes a request (or a stream's first message) and returns what the handler receives
Checker = Callable[[Any, Any], Awaitable[Any]]


class StrataServerInterceptor(BehaviourInterceptor):
    def __init__(
        self,
        authorizer: Authorizer,
        limits: HeavyCallLimiter | None = None,
        rules: dict[str, Rule] | None = None,
    ) -> None:
        self.authorizer = authorizer
        self.limits = HeavyCallLimiter(0, 0.0) if limits is None else limits
        self.rules = RULES if rules is None else rules

    def intercept_handler(
        self, handler: grpc.RpcMethodHandler, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        method = details.method
        metadata = {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}
        call = _Call(self.authorizer, method, metadata, self.rules.get(method), self.limits)

        def wrap(kind: str, behaviour: Callable[..., Any]) -> Callable[..., Any]:
            streamed_in = kind.startswith("stream_")  # client streaming: checked on its first message
            check = call._checked_stream if streamed_in else call._checked_request
            if kind.endswith("_unary"):  # one response
                return call.wrap_single(behaviour, check, long_lived=streamed_in)
            return call.wrap_streaming(behaviour, check)

        return wrapped(handler, wrap)


class _Call:
    def __init__(
        self,
        authorizer: Authorizer,
        method: str,
        metadata: dict[str, str],
        rule: Rule | None,
        limits: HeavyCallLimiter,
    ) -> None:
        self.authorizer = authorizer
        self.limits = limits
        self.method = method
        self.metadata = metadata
        self.rule = rule
        self.request_id = metadata.get("x-request-id") or uuid.uuid4().hex[:16]
        self.peer = ""
        self.checked: object = None  # the request (or first message) the call was authorized with

    # --- the shared steps ---

    async def _begin(self, context: grpc.aio.ServicerContext) -> tuple[CallToken, Principal]:
        peer = self.peer = context.peer() or ""
        structlog.contextvars.bind_contextvars(rpc=self.method, request_id=self.request_id, peer=peer)
        try:
            principal = admitted.take(self.method, self.metadata.get("authorization", ""))
            if principal is None:  # admission did not authenticate this call (PUBLIC RPCs, errors)
                principal = await self.authorizer.authenticate(self.metadata, peer)
        except Unauthenticated:
            if self.rule is None or self.rule.primary.access is not Access.PUBLIC:
                raise
            principal = ANONYMOUS  # health and reflection answer whatever credentials come along
        structlog.contextvars.bind_contextvars(principal=principal.name)
        access.note_caller(principal.name, self.request_id)  # for the access log line
        token = set_call(CallInfo(self.method, self.request_id, peer, principal))
        return token, principal

    async def _authorize(self, principal: Any, request: object) -> None:
        if self.rule is None:
            raise PermissionDenied(Reason.PERMISSION_DENIED, f"{self.method} has no permission rule")
        if self.rule.primary.access is not Access.PUBLIC:
            await self.authorizer.authorize(principal, self.rule, request)

    async def _fail(self, context: grpc.aio.ServicerContext, exc: BaseException, started: float) -> None:
        status, unexpected = to_status(exc)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        if unexpected:
            log.error("rpc_failed", exc_info=exc, code=status.code, elapsed_ms=elapsed_ms)
        else:
            log.info("rpc_error", code=status.code, reason=_reason(status), elapsed_ms=elapsed_ms)
        grpc_status = rpc_status.to_status(status)
        await context.abort(grpc_status.code, grpc_status.details, grpc_status.trailing_metadata)

    @contextlib.asynccontextmanager
    async def _handled(self, context: grpc.aio.ServicerContext) -> AsyncIterator[Principal]:
        """Around a handler: bind and authenticate the call and give its principal; abort with the
        status of whatever the block raises (an abort passes as it is); unbind the call after."""
        started, token = time.perf_counter(), None
        try:
            token, principal = await self._begin(context)
            yield principal
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await self._fail(context, exc, started)
        finally:
            self._end(token)

    def _end(self, token: CallToken | None) -> None:
        if token is not None:
            try:
                reset_call(token)
            except ValueError:  # a stream closed from another task (client gone): nothing to restore
                pass
        structlog.contextvars.clear_contextvars()

    # --- the request side: authorize the request, or a stream's first message ---

    async def _checked_request(self, request: object, principal: Any) -> object:
        await self._authorize(principal, request)
        self.checked = request
        return request

    async def _checked_stream(
        self, request_iterator: AsyncIterator[Any], principal: Any
    ) -> AsyncIterator[Any]:
        first = await anext(request_iterator.__aiter__(), None)
        self.checked = first if first is not None else object()
        await self._authorize(principal, self.checked)

        async def chained() -> AsyncIterator[Any]:
            if first is not None:
                yield first
            async for item in request_iterator:
                yield item

        return chained()

    # --- long-lived calls: re-checked when access may have narrowed, cut when it has ---

    async def recheck(self) -> None:
        """Authenticate the call's credentials and authorize its request again (fresh state)."""
        principal = await self.authorizer.authenticate(self.metadata, self.peer)
        await self._authorize(principal, self.checked)

    def _registered(self) -> contextlib.AbstractAsyncContextManager[OpenCall | None]:
        public = self.rule is None or self.rule.primary.access is Access.PUBLIC
        if public or not self.authorizer.access_can_narrow:
            return contextlib.nullcontext(None)  # health watches, reflection, open-local mode
        return self.authorizer.streams.watch(self.method, self.recheck)

    @staticmethod
    def _cut_error(open_call: OpenCall | None) -> Exception | None:
        """The re-check's error when the registry cut this call (the handler may have turned the
        cancellation into another error); None otherwise: a cancellation because the client went
        away or the server stops, or the handler's own error, propagates as it is."""
        if open_call is None or open_call.error is None:
            return None
        task = asyncio.current_task()
        if task is not None and hasattr(task, "uncancel"):  # Python 3.11+: the cancel was handled
            task.uncancel()
        return open_call.error

    async def _long_lived(self, behavior: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        async with self._registered() as open_call:
            try:
                return await behavior(*args)
            except (asyncio.CancelledError, Exception):
                error = self._cut_error(open_call)
                if error is None:
                    raise
                raise error from None

    # --- the response side: one wrapper for a single response, one for a stream of them ---

    def wrap_single(
        self, behavior: Callable[..., Awaitable[Any]], check: Checker, long_lived: bool = False
    ) -> Callable[..., Awaitable[Any]]:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async with self._handled(context) as principal:
                checked = await check(request, principal)
                async with self.limits.slot(self.method, principal):
                    if long_lived:
                        return await self._long_lived(behavior, checked, context)
                    return await behavior(checked, context)

        return wrapper

    def wrap_streaming(
        self, behavior: Callable[..., Any], check: Checker
    ) -> Callable[..., AsyncIterator[Any]]:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with self._handled(context) as principal:
                result = behavior(await check(request, principal), context)
                async with self.limits.slot(self.method, principal), self._registered() as open_call:
                    try:
                        if inspect.isasyncgen(result):
                            async with closing(result) as responses:
                                async for response in responses:
                                    if open_call is None:
                                        yield response
                                        continue
                                    open_call.interruptible = False  # gRPC sends it outside the handler
                                    yield response
                                    open_call.interruptible = True
                                    open_call.raise_if_cut()
                        else:  # a handler written with context.write()
                            await result
                    except (asyncio.CancelledError, Exception):
                        error = self._cut_error(open_call)  # whatever the handler made of the cut
                        if error is None:
                            raise
                        raise error from None

        return wrapper


def _reason(status: Any) -> str:
    from google.rpc import error_details_pb2

    for d in status.details:
        if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            d.Unpack(info)
            return str(info.reason)
    return ""
