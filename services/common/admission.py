"""Admission before the body: refuse a call from its headers alone when that is enough, and keep each
RPC's request within a size that fits it.

grpc.aio runs a server interceptor's `intercept_service` when a call's headers arrive, before its
request message is received or deserialized. `AdmissionInterceptor` (the outermost interceptor) uses
that moment to authenticate the call's metadata: a call that needs credentials and has none, or has an
unknown, revoked or expired key, gets a handler that answers UNAUTHENTICATED without ever reading the
request, so its body is never buffered beyond the HTTP/2 receive window (STRATA_GRPC_STREAM_WINDOW).
A flood of large unauthenticated requests therefore costs one window per call at most, whatever the
message size.

Size: STRATA_MAX_MESSAGE_BYTES (the server-wide gRPC limit) is sized for the data paths only
(`DATA_METHODS`: upload chunks, small-blob batches, metric streams). Manifest writes may carry up to
10,000 entries and get 4 x STRATA_MAX_REQUEST_BYTES; every other RPC gets STRATA_MAX_REQUEST_BYTES.
A unary request of those RPCs is received as raw bytes, its length checked before it is parsed, and
an oversized one answers RESOURCE_EXHAUSTED (reason TOO_LARGE, field "request"); bytes that do not
parse as the request message answer INVALID_ARGUMENT (reason INVALID_ARGUMENT... see `_parse`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import grpc
from grpc_status import rpc_status

from .auth import Authorizer, admitted
from .auth.policy import INGEST, REGISTRY, RULES, Access, Rule
from .errors import InvalidArgument, Reason, ResourceExhausted, ServiceError, Unauthenticated, to_status
from .logging import get_logger

log = get_logger(__name__)

# RPCs whose requests carry bulk data: only the server-wide STRATA_MAX_MESSAGE_BYTES applies
DATA_METHODS = frozenset({INGEST + "UploadChunks", INGEST + "BatchUploadBlobs", INGEST + "StreamMetrics"})
# RPCs that write manifests or file lists (up to 10,000 entries of up to 1 KiB paths each)
MANIFEST_METHODS = frozenset(
    {
        REGISTRY + "CreateArtifactVersion",
        REGISTRY + "AppendManifestEntries",
        INGEST + "AddRunFiles",
        INGEST + "AddMediaEntries",
        INGEST + "FindMissingBlobs",
        INGEST + "ProveBlobPossession",
    }
)
MANIFEST_FACTOR = 4


def request_limit(method: str, small: int, largest: int) -> int:
    """The largest request message `method` accepts."""
    if method in DATA_METHODS:
        return largest
    if method in MANIFEST_METHODS:
        return min(largest, small * MANIFEST_FACTOR)
    return min(largest, small)


class AdmissionInterceptor(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        authorizer: Authorizer,
        small_limit: int,
        largest: int,
        rules: dict[str, Rule] | None = None,
    ) -> None:
        self.authorizer = authorizer
        self.small_limit = small_limit
        self.largest = largest
        self.rules = RULES if rules is None else rules

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        method = details.method
        rule = self.rules.get(method)
        if rule is not None and rule.primary.access is Access.PUBLIC:
            return await continuation(details)
        refusal = await self._refusal(method, details)
        handler = await continuation(details)
        if handler is None:
            return None
        if refusal is not None:
            log.debug("rpc_refused_before_body", rpc=method, reason=refusal.reason)
            return _refusing(handler, refusal)
        limit = request_limit(method, self.small_limit, self.largest)
        if limit >= self.largest or handler.request_streaming:
            return handler
        return _size_checked(handler, limit)

    async def _refusal(self, method: str, details: grpc.HandlerCallDetails) -> ServiceError | None:
        """Why the call is refused from its headers, else None; an authenticated principal is
        handed on to the authorizing interceptor (admitted.py), so the key is checked once a call."""
        metadata = {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}
        try:
            principal = await self.authorizer.authenticate(metadata, "")
        except Unauthenticated as exc:
            return exc
        except Exception:  # the database is down, say: let the call proceed and fail in its own way
            return None
        if principal.anonymous:
            return Unauthenticated(
                Reason.UNAUTHENTICATED,
                "send 'authorization: Bearer <api key>' (strata login, or STRATA_API_KEY)",
            )
        admitted.remember(method, metadata.get("authorization", ""), principal)
        return None


async def _abort(context: grpc.aio.ServicerContext, exc: ServiceError) -> None:
    status = rpc_status.to_status(to_status(exc)[0])
    await context.abort(status.code, status.details, status.trailing_metadata)


def _refusing(handler: grpc.RpcMethodHandler, refusal: ServiceError) -> grpc.RpcMethodHandler:
    """A handler of the same response kind that never reads the request: declared as request-
    streaming, so gRPC does not receive (let alone parse) a unary request before calling it."""

    async def refuse(_requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> None:
        await _abort(context, refusal)

    if handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(refuse, response_serializer=handler.response_serializer)
    return grpc.stream_unary_rpc_method_handler(refuse, response_serializer=handler.response_serializer)


async def _receive(requests: AsyncIterator[bytes], limit: int, parse: Callable[[bytes], Any] | None) -> Any:
    raw = await anext(aiter(requests), None)
    if raw is None:
        raise InvalidArgument("request", Reason.FIELD_REQUIRED, "the call carried no request message")
    if len(raw) > limit:
        raise ResourceExhausted(
            Reason.TOO_LARGE,
            f"the request is {len(raw)} bytes; this RPC accepts at most {limit}",
            field="request",
            limit=str(limit),
        )
    return raw if parse is None else parse(raw)  # bytes that do not parse: the deserializer's rule


def _size_checked(handler: grpc.RpcMethodHandler, limit: int) -> grpc.RpcMethodHandler:
    """The unary-request handler re-declared as request-streaming: the raw request arrives here as
    bytes, is measured, then parsed and handed to the real behaviour."""
    parse = handler.request_deserializer
    if handler.unary_unary is not None:
        inner: Callable[..., Awaitable[Any]] = handler.unary_unary

        async def unary(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> Any:
            try:
                request = await _receive(requests, limit, parse)
            except ServiceError as exc:
                await _abort(context, exc)
            return await inner(request, context)

        return grpc.stream_unary_rpc_method_handler(unary, response_serializer=handler.response_serializer)
    inner_stream = cast("Callable[..., Any]", handler.unary_stream)  # set: the request is unary

    async def streaming(
        requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        try:
            request = await _receive(requests, limit, parse)
        except ServiceError as exc:
            await _abort(context, exc)
        result = inner_stream(request, context)
        if hasattr(result, "__aiter__"):
            async for response in result:
                yield response
        else:  # a handler written with context.write()
            await result

    return grpc.stream_stream_rpc_method_handler(streaming, response_serializer=handler.response_serializer)
