"""The low-level client retries a call the server refused before doing any work: UNAVAILABLE, and
RESOURCE_EXHAUSTED with reason TOO_MANY_CONCURRENT_CALLS (the per-caller heavy-call limit); any other
refusal surfaces at once as a StrataError."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from strata import _rpc
from strata.client import RetryPolicy
from strata.errors import StrataError

METHOD = "/test.Echo/Say"
FAST = RetryPolicy(max_attempts=4, initial_backoff=0.001, max_backoff=0.002)


def _refusal(code: int, reason: str) -> status_pb2.Status:
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="strata"))
    return status_pb2.Status(code=code, message=reason.lower(), details=[info])


@pytest.fixture
def refusing_server() -> Iterator[tuple[grpc.Channel, list[status_pb2.Status]]]:
    """A real gRPC server whose one method answers each queued refusal in turn, then echoes."""
    queued: list[status_pb2.Status] = []

    def say(request: bytes, context: grpc.ServicerContext) -> bytes:
        if queued:
            context.abort_with_status(rpc_status.to_status(queued.pop(0)))
        return request

    handler = grpc.method_handlers_generic_handler(
        "test.Echo", {"Say": grpc.unary_unary_rpc_method_handler(say)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel, queued
    finally:
        channel.close()
        server.stop(None)


class _Defaults:
    def __init__(self, channel: grpc.Channel) -> None:
        self.channel, self.timeout, self.retry = channel, 5.0, FAST

    def call_metadata(self, extra: object = None) -> tuple[tuple[str, str], ...]:
        return ()


def _call(channel: grpc.Channel) -> bytes:
    fn = channel.unary_unary(METHOD)
    return _rpc.unary_unary(_Defaults(channel), fn, b"hello", None, None, None)


def test_a_call_refused_by_the_concurrency_limit_is_retried(
    refusing_server: tuple[grpc.Channel, list[status_pb2.Status]],
) -> None:
    channel, queued = refusing_server
    queued += [_refusal(code_pb2.RESOURCE_EXHAUSTED, "TOO_MANY_CONCURRENT_CALLS")] * 2
    assert _call(channel) == b"hello"
    assert queued == []


def test_other_resource_exhausted_refusals_are_not_retried(
    refusing_server: tuple[grpc.Channel, list[status_pb2.Status]],
) -> None:
    channel, queued = refusing_server
    queued += [_refusal(code_pb2.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED"), _refusal(code_pb2.UNAVAILABLE, "X")]
    with pytest.raises(StrataError) as e:
        _call(channel)
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED")
    assert len(queued) == 1  # exactly one attempt was made
