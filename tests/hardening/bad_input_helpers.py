"""Helpers of the bad-input tests: a fingerprint of every table (to prove a refused call wrote
nothing), the refusal assertion, and raw calls with identity serializers (to send bytes that are not a
valid message)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from strata.errors import StrataError
from strata_server.common import paging

INVALID = grpc.StatusCode.INVALID_ARGUMENT


# Derived state the background rollup task writes on its own schedule, not on a caller's request.
BACKGROUND = {"metric_rollups", "metric_rollup_state", "metric_rollup_progress"}


def snapshot(server: Any) -> dict[str, str]:
    """A digest of every public table's rows (api_keys by count: using a key stamps last_use_time;
    the rollup's tables left out)."""

    async def go() -> dict[str, str]:
        async with server.deps.pool.acquire() as conn:
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
            out = {}
            for (t,) in tables:
                if t in BACKGROUND:
                    continue
                if t == "api_keys":
                    out[t] = str(await conn.fetchval("SELECT count(*) FROM api_keys"))
                else:
                    out[t] = await conn.fetchval(
                        f"SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM \"{t}\" x"
                    )
            return out

    return server.run(go())


def refused(server: Any, call: Callable[[], Any], field: str, reason: str) -> StrataError:
    """`call()` fails with INVALID_ARGUMENT, `reason` and `field`, and no table changed."""
    before = snapshot(server)
    with pytest.raises(StrataError) as e:
        call()
    err = e.value
    assert (err.code, err.reason, err.field) == (INVALID, reason, field), str(err)
    assert snapshot(server) == before, "a refused call wrote something"
    return err


def raw_call(addr: str, method: str, body: bytes, key: str, *, stream: bool = False) -> grpc.RpcError:
    """Send `body` as the request of `method` without serializing; return the error it answers."""
    with grpc.insecure_channel(addr) as channel:
        metadata = [("authorization", f"Bearer {key}")]
        if stream:
            call = channel.stream_stream(method, request_serializer=None, response_deserializer=None)
            responses = call(iter([body]), metadata=metadata, timeout=10)
            with pytest.raises(grpc.RpcError) as e:
                list(responses)
        else:
            call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
            with pytest.raises(grpc.RpcError) as e:
                call(body, metadata=metadata, timeout=10)
    return e.value


def error_info(err: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo detail of a raw call's error, if it has one."""
    try:
        status = rpc_status.from_call(err)  # type: ignore[arg-type]
    except ValueError:  # the status details do not match the code: not the server's error model
        return None
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def forged_token(position: Any, query: Any) -> str:
    """A page token holding `position` as JSON text, bound to `query` (hand-made, as an attacker would)."""
    raw = '{"p":' + position + ',"q":"' + paging.fingerprint(query) + '"}'
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


__all__ = ["INVALID", "error_info", "forged_token", "nested", "raw_call", "refused", "snapshot"]
