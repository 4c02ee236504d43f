"""What authorization costs: per call on a hot unary RPC with a cached API key, and per message on a
stream (checked once, at stream start), each next to open local mode measured in the same run.

Two real servers (one keys mode, one open-local) on one real PostgreSQL, each with a tiny bench
service whose handlers do nothing, guarded by a PROJECT_READ rule like GetRun's, so the difference
between the modes is the authorization itself:

  in-process  Authorizer.authenticate + authorize as the interceptor calls them, on the server loop
  unary       sequential calls through a real channel, p50 per call
  stream      one client stream of many messages, per-message time
  access log  one access-log line plus the RPC metrics, as each call ends (in-process)

The servers log as deployed ones do: JSON lines at info, one access line per call (to /dev/null).

    make bench BENCH_ARGS="auth"          (add --quick for a short smoke run)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
from strata.ingest.v1 import ingest_service_pb2
from strata.query.v1 import query_service_pb2
from strata_server.__main__ import all_specs
from strata_server.common import access
from strata_server.common import logging as slog
from strata_server.common.auth import policy as permissions
from strata_server.common.auth.policy import Access, Check, Rule
from strata_server.common.deps import Deps
from strata_server.common.server import ServiceSpec

from tests.fixtures.iam import KeysServer
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread, make_settings

PING = "/strata.bench.v1.Bench/Ping"
STREAM = "/strata.bench.v1.Bench/Stream"
RUN = "entities/bench/projects/p/runs/r1"
RULE = Rule((Check(Access.PROJECT_READ, "name"),))


async def _ping(request: Any, context: Any) -> empty_pb2.Empty:
    return empty_pb2.Empty()


async def _stream(requests: AsyncIterator[Any], context: Any) -> query_service_pb2.CountRunsResponse:
    n = 0
    async for _ in requests:
        n += 1
    return query_service_pb2.CountRunsResponse(count=n)


def _register(server: grpc.aio.Server, deps: Deps) -> None:
    req = ingest_service_pb2.GetRunRequest
    handlers = {
        "Ping": grpc.unary_unary_rpc_method_handler(
            _ping, request_deserializer=req.FromString, response_serializer=empty_pb2.Empty.SerializeToString
        ),
        "Stream": grpc.stream_unary_rpc_method_handler(
            _stream,
            request_deserializer=req.FromString,
            response_serializer=query_service_pb2.CountRunsResponse.SerializeToString,
        ),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("strata.bench.v1.Bench", handlers),)
    )


BENCH_SPEC = ServiceSpec(name="bench", full_name="strata.bench.v1.Bench", register=_register)


def _start(data_dir: Path, dsn: str, mode: str) -> ServerThread:
    settings = make_settings(data_dir, dsn, auth_mode=mode, log_level="error")
    return ServerThread(settings, specs=[*all_specs(), BENCH_SPEC]).start()


def in_process(thread: ServerThread, metadata: dict[str, str], n: int) -> float:
    """µs per authenticate + authorize, as the interceptor calls them on a hot RPC."""
    authz = thread.deps.authorizer
    request = ingest_service_pb2.GetRunRequest(name=RUN)

    async def loop() -> float:
        principal = await authz.authenticate(metadata, "ipv4:127.0.0.1:1")
        await authz.authorize(principal, RULE, request)  # warm the caches
        t0 = time.perf_counter()
        for _ in range(n):
            principal = await authz.authenticate(metadata, "ipv4:127.0.0.1:1")
            await authz.authorize(principal, RULE, request)
        return (time.perf_counter() - t0) / n * 1e6

    return thread.run(loop(), timeout=600)


def cold_lookup(thread: ServerThread, metadata: dict[str, str], n: int) -> float:
    """µs per authenticate + authorize when the caches were just emptied (key and project from SQL)."""
    authz = thread.deps.authorizer
    request = ingest_service_pb2.GetRunRequest(name=RUN)

    async def loop() -> float:
        total = 0.0
        for _ in range(n):
            authz.invalidate()
            t0 = time.perf_counter()
            principal = await authz.authenticate(metadata, "ipv4:127.0.0.1:1")
            await authz.authorize(principal, RULE, request)
            total += time.perf_counter() - t0
        return total / n * 1e6

    return thread.run(loop(), timeout=600)


def access_line(n: int) -> float:
    """µs per access-log line and RPC metrics update, as the access interceptor ends a call (JSON
    logging at info, written to /dev/null: the cost of making the line, not of the disk)."""
    interceptor = access.AccessInterceptor("info")
    record = access._Record(PING, "ipv4:127.0.0.1:40000")
    record.principal, record.request_id = "bench", "0123456789abcdef"
    t0 = time.perf_counter()
    for _ in range(n):
        interceptor._finish(record, "OK")
    return (time.perf_counter() - t0) / n * 1e6


def unary(targets: list[tuple[str, list[tuple[str, str]]]], n: int) -> list[float]:
    """p50 µs of one unary call through a real channel, for each (address, metadata); the targets
    take turns call by call, so a busy moment of the shared machine hits them alike."""
    channels = [grpc.insecure_channel(addr) for addr, _ in targets]
    try:
        calls = [
            ch.unary_unary(
                PING,
                request_serializer=ingest_service_pb2.GetRunRequest.SerializeToString,
                response_deserializer=empty_pb2.Empty.FromString,
            )
            for ch in channels
        ]
        request = ingest_service_pb2.GetRunRequest(name=RUN)
        samples: list[list[float]] = [[] for _ in targets]
        wire = [[tuple(pair) for pair in metadata] for _, metadata in targets]  # JSON gave lists
        for i in range(n + 200):
            for call, metadata, out in zip(calls, wire, samples, strict=True):
                t0 = time.perf_counter()
                call(request, metadata=metadata)
                if i >= 200:  # warm-up first
                    out.append(time.perf_counter() - t0)
        return [statistics.median(out) * 1e6 for out in samples]
    finally:
        for ch in channels:
            ch.close()


def stream(addr: str, metadata: list[tuple[str, str]], n: int) -> float:
    """µs per message of one client stream of n messages (authorized once, on the first); asyncio
    client, so the figure is the server's cost rather than a client thread hand-off."""

    async def go() -> float:
        async with grpc.aio.insecure_channel(addr) as channel:
            call = channel.stream_unary(
                STREAM,
                request_serializer=ingest_service_pb2.GetRunRequest.SerializeToString,
                response_deserializer=query_service_pb2.CountRunsResponse.FromString,
            )
            first, rest = ingest_service_pb2.GetRunRequest(name=RUN), ingest_service_pb2.GetRunRequest()

            async def messages(count: int) -> AsyncIterator[Any]:
                yield first
                for _ in range(count - 1):
                    yield rest

            wire = [tuple(pair) for pair in metadata]
            await call(messages(1000), metadata=wire)
            t0 = time.perf_counter()
            reply = await call(messages(n), metadata=wire)
            elapsed = time.perf_counter() - t0
        assert reply.count == n
        return elapsed / n * 1e6

    return asyncio.run(go())


def in_child(function: str, *args: Any) -> Any:
    """Run a client function of this module in a separate process (a client sharing the server's
    process would compete with it for the GIL and distort the server's figures)."""
    code = f"import json, sys; from bench.bench_auth import {function} as f; print(json.dumps(f(*json.load(sys.stdin))))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(args),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(done.stdout)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench auth")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_proc, n_unary, n_stream, n_cold = (2000, 500, 5000, 50) if args.quick else (50000, 5000, 30000, 300)
    # the servers log as a deployed one does (JSON lines, info, one access line per call), to /dev/null
    slog.configure("info", "json", file=open(os.devnull, "w"))  # open for the whole run
    permissions.RULES[PING] = RULE
    permissions.RULES[STREAM] = RULE
    pg = PostgresServer()
    tmp = Path(tempfile.mkdtemp(prefix="strata-bench-auth-"))
    keys_thread = _start(tmp / "keys", pg.create_database(), "keys")
    open_thread = _start(tmp / "open", pg.create_database(), "open-local")
    try:
        ks = KeysServer(keys_thread)
        member = ks.user("bench")
        ks.project("bench", "p")
        md = {"authorization": f"Bearer {member}"}
        print("auth mode      in-process auth (µs/call)   unary p50 (µs/call)   stream (µs/message)")
        modes = (("open-local", open_thread, {}), ("keys", keys_thread, md))
        best: dict[str, list[float]] = {}
        for _ in range(2):  # alternate the modes and keep each one's best: the machine is shared
            p50 = in_child("unary", [(thread.addr, list(meta.items())) for _, thread, meta in modes], n_unary)
            for (label, thread, meta), unary_us in zip(modes, p50, strict=True):
                got = [
                    in_process(thread, meta, n_proc),
                    unary_us,
                    in_child("stream", thread.addr, list(meta.items()), n_stream),
                ]
                best[label] = [min(a, b) for a, b in zip(best.get(label, got), got, strict=True)]
        for label, (a, b, c) in best.items():
            print(f"{label:<14} {a:>26.2f} {b:>21.1f} {c:>20.2f}")
        (oa, ob, oc), (ka, kb, kc) = best["open-local"], best["keys"]
        print(
            f"overhead of keys mode: {ka - oa:.2f} µs/call in-process, {kb - ob:+.1f} µs per unary call "
            f"({kb / ob:.2f}x), {kc - oc:+.3f} µs per stream message ({kc / oc:.2f}x)"
        )
        print(f"access-log line + RPC metrics (in-process): {access_line(n_proc):.2f} µs/call")
        cold = cold_lookup(keys_thread, md, n_cold)
        print(f"uncached key + project (after invalidation, 2 SQL lookups): {cold:.0f} µs/call")
    finally:
        keys_thread.stop()
        open_thread.stop()
        pg.stop()
        permissions.RULES.pop(PING, None)
        permissions.RULES.pop(STREAM, None)
