"""Large messages are not parsed before authentication: a call without a valid key is refused from its
headers (UNAUTHENTICATED, its body never buffered), each RPC accepts a request that fits it (a 30 MB
CreateRun is RESOURCE_EXHAUSTED/TOO_LARGE; the data paths still take large messages), and a flood of
large unauthenticated requests leaves the server's memory bounded."""

from __future__ import annotations

from concurrent import futures
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from strata.common.v1 import blob_pb2
from strata.errors import Reason
from strata.ingest.v1 import ingest_service_pb2 as ingest

from tests.fixtures.iam import KeysServer
from tests.fixtures.memory import PeakRss
from tests.fixtures.processes import ServerProcess

MB = 1024 * 1024
CREATE_RUN = "/strata.ingest.v1.IngestService/CreateRun"
BATCH_UPLOAD = "/strata.ingest.v1.IngestService/BatchUploadBlobs"
FLOOD_CALLS, FLOOD_BYTES, RSS_BOUND = 20, 30 * MB, 600 * MB


def big_create_run(size: int = 30 * MB) -> bytes:
    """A CreateRunRequest of about `size` bytes (the notes are far over their own bound: the size
    check must come first)."""
    return ingest.CreateRunRequest(parent="entities/admin/projects/p", notes="n" * size).SerializeToString()


def raw_call(
    addr: str, method: str, body: bytes, key: str | None, timeout: float = 60
) -> grpc.RpcError | bytes:
    options = [("grpc.max_send_message_length", 64 * MB), ("grpc.max_receive_message_length", 64 * MB)]
    metadata = [("authorization", f"Bearer {key}")] if key else []
    with grpc.insecure_channel(addr, options=options) as channel:
        try:
            return channel.unary_unary(method)(body, metadata=metadata, timeout=timeout)
        except grpc.RpcError as e:
            return e


def reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"no status details: {error.code()} {error.details()}"
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info.reason
    raise AssertionError("no ErrorInfo")


@pytest.fixture(scope="module")
def big() -> bytes:
    return big_create_run()


@pytest.mark.parametrize("key", [None, "strata_000000000000_" + "x" * 40, "not a key"])
def test_large_unauthenticated_requests_are_refused_unauthenticated(
    keys_server: KeysServer, big, key
) -> None:  # type: ignore[no-untyped-def]
    error = raw_call(keys_server.addr, CREATE_RUN, big, key)
    assert isinstance(error, grpc.RpcError)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason(error) in (Reason.UNAUTHENTICATED, Reason.INVALID_API_KEY)


def test_a_large_authenticated_metadata_request_gets_the_per_method_limit(
    keys_server: KeysServer, big
) -> None:  # type: ignore[no-untyped-def]
    error = raw_call(keys_server.addr, CREATE_RUN, big, keys_server.admin_key)
    assert isinstance(error, grpc.RpcError)
    assert (error.code(), reason(error)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, Reason.TOO_LARGE)


def test_small_requests_and_large_data_paths_still_pass(keys_server: KeysServer) -> None:
    body = ingest.CreateRunRequest(
        parent="entities/admin/projects/limits", run_id="small"
    ).SerializeToString()
    answer = raw_call(keys_server.addr, CREATE_RUN, body, keys_server.admin_key)
    assert isinstance(answer, bytes) and ingest.CreateRunResponse.FromString(answer).run.name.endswith(
        "small"
    )
    # a 10 MB small-blob batch is over the per-method limit of metadata RPCs but a data path: the
    # size check lets it through, and the handler judges it (its own per-blob bound)
    blob = ingest.BlobContent(digest=blob_pb2.BlobDigest(sha256="0" * 64, size=10 * MB), data=bytes(10 * MB))
    body = ingest.BatchUploadBlobsRequest(parent="entities/admin/projects/limits", blobs=[blob])
    answer = raw_call(keys_server.addr, BATCH_UPLOAD, body.SerializeToString(), keys_server.admin_key)
    assert not (
        isinstance(answer, grpc.RpcError)
        and reason(answer) == Reason.TOO_LARGE
        and "accepts at most" in (answer.details() or "")
    )


def test_a_flood_of_large_unauthenticated_requests_keeps_memory_bounded(
    postgres, tmp_path: Path, big
) -> None:  # type: ignore[no-untyped-def]
    dsn = postgres.create_database()  # a database of its own: the server bootstraps its own pepper
    server = ServerProcess(tmp_path / "flood", dsn, STRATA_AUTH_MODE="keys").start()
    try:
        with PeakRss(server.pid) as rss, futures.ThreadPoolExecutor(FLOOD_CALLS) as pool:
            answers = list(
                pool.map(lambda _: raw_call(server.addr, CREATE_RUN, big, None), range(FLOOD_CALLS))
            )
        codes = {a.code() if isinstance(a, grpc.RpcError) else "OK" for a in answers}
        assert codes == {grpc.StatusCode.UNAUTHENTICATED}
        print(f"flood peak RSS {rss.peak / MB:.0f} MB, idle {rss.idle / MB:.0f} MB")
        assert rss.peak < RSS_BOUND, f"peak RSS {rss.peak / MB:.0f} MB (idle {rss.idle / MB:.0f} MB)"
    finally:
        server.stop()
