"""Swapping the behaviour of a gRPC method handler, as the server's interceptors do.

At run time grpc's method handlers are namedtuples, rebuilt with `_replace`; the grpcio type stubs
declare them as an abstract class (with synchronous behaviours) that has no `_replace`. This is the
one place that bridges the two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc


def replaced(handler: grpc.RpcMethodHandler, **fields: Callable[..., Any] | None) -> grpc.RpcMethodHandler:
    """`handler` with the given fields (behaviours, request_deserializer) replaced."""
    new: grpc.RpcMethodHandler = handler._replace(**fields)  # type: ignore[attr-defined]  # reason: grpcio stubs omit the namedtuple's _replace
    return new
