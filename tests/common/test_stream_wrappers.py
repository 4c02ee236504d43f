"""The server's streaming wrappers (access log and metrics, tolerant decoding) close the handler's
stream when they are closed at a `yield` (gRPC closes a response stream there when its call ends while
a response is being sent): the handler's cleanup runs first, so by the time the call leaves the
in-flight gauge (or its access line is written) nothing of the handler is left running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
from strata_server.common import decoding
from strata_server.common.access import AccessInterceptor
from strata_server.common.metrics import RPC_IN_FLIGHT

METHOD = "/strata.test.v1.TestService/Stream"


class Context:
    """The two things the wrappers ask of a gRPC servicer context: the peer and the status code."""

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"

    def code(self) -> grpc.StatusCode | None:
        return None


def in_flight() -> float:
    return RPC_IN_FLIGHT.labels(METHOD)._value.get()


def handler(events: list[str]) -> Any:
    async def behaviour(request: Any, context: Any) -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            events.append(f"handler cleaned up, in flight {in_flight():g}")

    return behaviour


def closed_after_first(wrapper: Any, events: list[str]) -> list[str]:
    """What the handler recorded by the time closing the wrapper returned (not later, when the loop
    finalizes abandoned generators)."""

    async def go() -> list[str]:
        responses = wrapper(object(), Context())
        assert await anext(responses) == 1
        await responses.aclose()  # the call ended while its first response was being sent
        return list(events)

    return asyncio.run(go())


def test_the_access_wrapper_closes_the_handler_before_the_call_leaves_the_gauge() -> None:
    events: list[str] = []
    before = in_flight()
    seen = closed_after_first(AccessInterceptor("off")._streaming(METHOD, handler(events)), events)
    assert seen == [f"handler cleaned up, in flight {before + 1:g}"]
    assert in_flight() == before


def test_the_decoding_wrappers_close_the_handler() -> None:
    for wrap in (decoding._unary_stream, decoding._stream_stream):
        events: list[str] = []
        assert len(closed_after_first(wrap(handler(events)), events)) == 1, wrap.__name__
