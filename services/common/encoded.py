"""Server-streaming RPCs whose handler yields response messages already encoded (bytes from the
hand-rolled codecs of strata.wire.transfer: the same wire format as the generated classes, with fewer
copies of the payload). gRPC is told not to serialize them again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf.message import Message


def serve_encoded_stream(
    server: grpc.aio.Server,
    full_name: str,
    method: str,
    behavior: Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[bytes]],
    request: type[Message],
) -> None:
    """Serve `method` of service `full_name` with `behavior`, whose responses are encoded bytes.
    Call it after the generated handlers are added: a later registration replaces theirs."""
    server.add_registered_method_handlers(
        full_name,
        {
            method: grpc.unary_stream_rpc_method_handler(
                behavior, request_deserializer=request.FromString, response_serializer=None
            )
        },
    )
