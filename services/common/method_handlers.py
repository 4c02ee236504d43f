"""Swapping the behaviour of a gRPC method handler, as the server's interceptors do.

At run time grpc's method handlers are namedtuples, rebuilt with `_replace`; the grpcio type stubs
declare them as an abstract class (with synchronous behaviours) that has no `_replace`. This is the
one place that bridges the two.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc


def replaced(handler: grpc.RpcMethodHandler, **fields: Callable[..., Any] | None) -> grpc.RpcMethodHandler:
    """`handler` with the given fields (behaviours, request_deserializer) replaced."""
    new: grpc.RpcMethodHandler = handler._replace(**fields)  # type: ignore[attr-defined]  # reason: grpcio stubs omit the namedtuple's _replace
    return new


KINDS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")
# wraps one behaviour, given its kind (request side _ response side, e.g. "stream_unary")
Wrap = Callable[[str, Callable[..., Any]], Callable[..., Any]]


def wrapped(handler: grpc.RpcMethodHandler, wrap: Wrap) -> grpc.RpcMethodHandler:
    """`handler` with its behaviour (the one of the four kinds it has) replaced by `wrap(kind, behaviour)`."""
    for kind in KINDS:
        behaviour = getattr(handler, kind)
        if behaviour:
            return replaced(handler, **{kind: wrap(kind, behaviour)})
    return handler


@contextlib.asynccontextmanager
async def closing(responses: AsyncIterator[Any]) -> AsyncIterator[AsyncIterator[Any]]:
    """`async with closing(stream) as it: async for r in it: yield r` closes a wrapped handler's
    stream when the wrapper leaves the block for any reason (its end, an error, a cancelled or cut
    call): the handler's cleanup (`finally`, `async with`) runs before the wrapper's own, not whenever
    the collector finalizes the abandoned generator. (`async for` alone never closes what it iterates.)"""
    try:
        yield responses
    finally:
        close = getattr(responses, "aclose", None)
        if close is not None:
            await close()


class BehaviourInterceptor(grpc.aio.ServerInterceptor):
    """A server interceptor that rewrites each method's handler: subclasses give `intercept_handler`."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        return self.intercept_handler(handler, details)

    def intercept_handler(
        self, handler: grpc.RpcMethodHandler, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler:
        raise NotImplementedError
