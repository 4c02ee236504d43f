"""Peak server memory under a flood of large unauthenticated requests, against the idle server
measured in the same run.

A keys-mode all-in-one server runs as a subprocess on a real PostgreSQL; N clients at once each send
one CreateRun request of M MB with no key. The server refuses each from its headers
(UNAUTHENTICATED) without receiving the body, so the peak RSS stays near idle whatever M is. Printed:
idle and peak RSS (psutil, sampled every 20 ms), the ratio peak / idle, the bytes sent per byte of
growth, and the time until every call was refused.

    python -m bench flood            (40 calls x 63 MB: the reported attack)
    python -m bench flood --quick    (10 calls x 16 MB)
"""

from __future__ import annotations

import tempfile
import time
from concurrent import futures
from pathlib import Path

import grpc
from strata.ingest.v1 import ingest_service_pb2 as ingest

from bench.quick import quick
from tests.fixtures.memory import PeakRss
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.processes import ServerProcess

MB = 1024 * 1024
CREATE_RUN = "/strata.ingest.v1.IngestService/CreateRun"


def _call(addr: str, body: bytes) -> grpc.StatusCode:
    options = [("grpc.max_send_message_length", 64 * MB)]
    with grpc.insecure_channel(addr, options=options) as channel:
        try:
            channel.unary_unary(CREATE_RUN)(body, timeout=120)
        except grpc.RpcError as e:
            return e.code()
    return grpc.StatusCode.OK


def flood(server: ServerProcess, calls: int, size: int) -> dict[str, float]:
    body = ingest.CreateRunRequest(
        parent="entities/x/projects/y", notes="n" * (size - 64)
    ).SerializeToString()
    with PeakRss(server.pid) as rss:
        started = time.perf_counter()
        with futures.ThreadPoolExecutor(calls) as pool:
            codes = list(pool.map(lambda _: _call(server.addr, body), range(calls)))
        elapsed = time.perf_counter() - started
    refused = sum(c == grpc.StatusCode.UNAUTHENTICATED for c in codes)
    return {
        "idle": rss.idle,
        "peak": rss.peak,
        "elapsed": elapsed,
        "refused": refused,
        "sent": calls * len(body),
    }


def main(argv: list[str]) -> None:
    is_quick = quick(argv, "flood")
    calls, size = (10, 16 * MB) if is_quick else (40, 63 * MB)
    pg = PostgresServer()
    try:
        with tempfile.TemporaryDirectory(prefix="strata-bench-flood-") as tmp:
            server = ServerProcess(Path(tmp) / "data", pg.create_database("flood"), STRATA_AUTH_MODE="keys")
            server.start()
            try:
                r = flood(server, calls, size)
            finally:
                server.stop()
    finally:
        pg.stop()
    growth = max(r["peak"] - r["idle"], 1)
    print(
        f"flood: {calls} concurrent unauthenticated CreateRun of {size / MB:.0f} MB ({r['sent'] / MB:.0f} MB offered)"
    )
    print(f"  refused UNAUTHENTICATED: {r['refused']:.0f}/{calls} in {r['elapsed']:.2f} s")
    print(f"  server RSS idle {r['idle'] / MB:.0f} MB, peak {r['peak'] / MB:.0f} MB")
    print(
        f"  ratio peak/idle: {r['peak'] / r['idle']:.2f}x; bytes offered per byte of RSS growth: {r['sent'] / growth:.0f}"
    )
