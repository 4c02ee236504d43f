"""Table-driven unary handlers: one wrapper for every RPC whose handler only turns the request into
one domain call and that call's result into the response.

A servicer lists such RPCs as class attributes, each a row of (request type, domain call, response):

    GetArtifact = unary(
        pb.GetArtifactRequest,
        lambda deps, r, timeout: versions.get_artifact(deps, r.name, timeout),
        lambda a: pb.GetArtifactResponse(artifact=convert.artifact_to_proto(a)),
    )

The call gets the servicer's `deps`, the request and the caller's remaining deadline (`timeout_from`).
`paged` builds the response of a List RPC from the domain's (items, next_page_token). RPCs that do
more (streams, several domain calls) stay ordinary methods next to the rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar

import grpc
from google.protobuf.message import Message

from .db import DEFAULT_TIMEOUT, timeout_from
from .deps import Deps

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)
R = TypeVar("R")
Item = TypeVar("Item")


class Servicer(Protocol):
    deps: Deps


Handler = Callable[[Servicer, Req, grpc.aio.ServicerContext], Coroutine[Any, Any, Resp]]


def unary(
    request: type[Req],
    call: Callable[[Deps, Req, float], Awaitable[R]],
    respond: Callable[[R], Resp],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Handler[Req, Resp]:
    """The handler method of one unary RPC; `timeout`: the deadline when the caller sets none."""

    async def handler(self: Servicer, req: Req, context: grpc.aio.ServicerContext) -> Resp:
        return respond(await call(self.deps, req, timeout_from(context, default=timeout)))

    handler.__name__ = handler.__qualname__ = request.__name__.removesuffix("Request")
    return handler


def paged(
    response: type[Resp], field: str, to_proto: Callable[[Item], Any]
) -> Callable[[tuple[Sequence[Item], str]], Resp]:
    """The response of a List RPC: `field` holds the items as messages, then the next page's token."""

    def respond(found: tuple[Sequence[Item], str]) -> Resp:
        items, token = found
        values: dict[str, Any] = {field: [to_proto(i) for i in items], "next_page_token": token}
        return response(**values)

    return respond
