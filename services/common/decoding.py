"""Malformed request bytes answer INVALID_ARGUMENT in the error model, not UNKNOWN.

grpc aio turns an exception raised by a method's request deserializer into a bare UNKNOWN/INTERNAL
status without details. `DecodingInterceptor` (the outermost interceptor, see server.py) swaps each
method's deserializer for one that never raises: bytes that do not parse as the request type
(a truncated field, invalid UTF-8 in a string field, a wrong wire type, nesting past the parser's
limit) become a `Malformed` marker. A unary request that is Malformed is refused right there with
INVALID_ARGUMENT, reason MALFORMED_REQUEST, field "request" (before authentication: there is nothing
to authorize in bytes that mean nothing, and nothing is read or written); a Malformed message in a
client stream raises the same error inside the handler, which the main interceptor maps as usual.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from .errors import InvalidArgument, Reason, to_status
from .method_handlers import BehaviourInterceptor, closing, replaced, wrapped

FIELD = "request"


class Malformed:
    """What a request deserializer returns for bytes that are not a valid message."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def error(self) -> InvalidArgument:
        return InvalidArgument(
            FIELD, Reason.MALFORMED_REQUEST, f"the request is not a valid message: {self.why}"
        )


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """`deserializer`, returning a Malformed marker instead of raising."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as e:  # DecodeError, RecursionError, ...: whatever the parser says
            return Malformed(type(e).__name__)

    return deserialize


async def _refuse(context: grpc.aio.ServicerContext, malformed: Malformed) -> None:
    status = rpc_status.to_status(to_status(malformed.error())[0])
    await context.abort(status.code, status.details, status.trailing_metadata)


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        if isinstance(request, Malformed):
            raise request.error()
        yield request


def _unary(behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(request, Malformed):
            await _refuse(context, request)
        return await behavior(request, context)

    return wrapper


def _unary_stream(behavior: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        if isinstance(request, Malformed):
            await _refuse(context, request)
        async with closing(behavior(request, context)) as responses:
            async for response in responses:
                yield response

    return wrapper


def _stream_unary(behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapper(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
        return await behavior(_checked(requests), context)

    return wrapper


def _stream_stream(behavior: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
    async def wrapper(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async with closing(behavior(_checked(requests), context)) as responses:
            async for response in responses:
                yield response

    return wrapper


class DecodingInterceptor(BehaviourInterceptor):
    """Installs the tolerant deserializer and the Malformed checks on every method."""

    def intercept_handler(
        self, handler: grpc.RpcMethodHandler, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        handler = replaced(handler, request_deserializer=tolerant(handler.request_deserializer))
        return wrapped(handler, lambda kind, behaviour: _CHECKED[kind](behaviour))


# the Malformed checks for each kind of method
_CHECKED: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "unary_unary": _unary,
    "unary_stream": _unary_stream,
    "stream_unary": _stream_unary,
    "stream_stream": _stream_stream,
}
