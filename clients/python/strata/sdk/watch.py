"""Follow an alias forever: WatchAlias with automatic, lossless reconnects.

    from strata.sdk.watch import watch_alias
    for msg in watch_alias(client, "entities/e/projects/p/artifacts/model", "production"):
        print(msg.event.revision, msg.version.name)     # the current holder first, then every move

The server streams the current holder, then every move, each with a per-artifact revision. When the
stream breaks (server restart, network blip, the periodic deadline), this reconnects with
`after_revision` = the last revision seen, and the server replays every move made in between, in
order; nothing is missed and nothing is delivered twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc

from strata.client import Client
from strata.errors import StrataError
from strata.registry.v1 import registry_service_pb2 as pb

# called on the channel directly: cancelling a watch needs the call object, not just its iterator
WATCH_ALIAS = "/strata.registry.v1.RegistryService/WatchAlias"

RECONNECT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
    }
)


def pause(stop: threading.Event | None, seconds: float) -> bool:
    """Sleep `seconds`, or less when `stop` is set meanwhile; True when stopped."""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)


def watch_alias(
    client: Client,
    artifact: str,
    alias: str,
    *,
    after_revision: int = 0,
    stream_timeout: float = 300.0,
    max_backoff: float = 5.0,
    stop: threading.Event | None = None,
) -> Iterator[pb.WatchAliasResponse]:
    """Yield WatchAliasResponse messages for `alias` of `artifact` (a resource name), reconnecting forever.

    `stream_timeout` bounds one stream (it is then reopened from the last revision: a cheap guard
    against half-open connections). Errors other than transient ones (NOT_FOUND, PERMISSION_DENIED,
    INVALID_ARGUMENT) are raised. Set `stop` to end the iteration at the next reconnect point.
    """
    last = after_revision
    backoff = 0.1
    while stop is None or not stop.is_set():
        try:
            request = pb.WatchAliasRequest(artifact=artifact, alias=alias, after_revision=last)
            for msg in _stream(client, request, stream_timeout, stop):
                if last and msg.event.revision <= last:
                    continue  # already delivered before a reconnect
                last = msg.event.revision
                backoff = 0.1
                yield msg
                if stop is not None and stop.is_set():
                    return
        except StrataError as e:
            if e.code not in RECONNECT_CODES:
                raise
        if pause(stop, backoff):
            return
        backoff = min(backoff * 2, max_backoff)


def _stream(
    client: Client, request: pb.WatchAliasRequest, timeout: float, stop: threading.Event | None
) -> Iterator[pb.WatchAliasResponse]:
    """One WatchAlias call; setting `stop` cancels it at once (from a small helper thread)."""
    watch = client.channel_for(WATCH_ALIAS).unary_stream(
        WATCH_ALIAS,
        request_serializer=pb.WatchAliasRequest.SerializeToString,
        response_deserializer=pb.WatchAliasResponse.FromString,
    )
    call = watch(request, timeout=timeout, metadata=client.call_metadata())
    done = threading.Event()
    if stop is not None:

        def cancel_on_stop() -> None:
            while not done.is_set():
                if stop.wait(0.2):
                    call.cancel()
                    return

        threading.Thread(target=cancel_on_stop, name="strata-watch-stop", daemon=True).start()
    try:
        yield from call
    except grpc.RpcError as e:
        if stop is not None and stop.is_set():
            return
        raise StrataError.from_rpc_error(e) from None
    finally:
        done.set()
        call.cancel()
