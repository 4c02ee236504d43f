"""One caller cannot stall the uploads of others: idle upload streams hold (almost) none of the shared
buffer and are ended after STRATA_UPLOAD_IDLE_SECONDS, a caller's upload streams and open sessions
are bounded, and a declared size above STRATA_MAX_BLOB_BYTES is refused.

The server here runs with a long idle timeout (so an idle stream stays open for the whole test unless
a test shortens it), two streams and six open sessions per caller."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from strata.client import Client
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata_server.ingest.uploads.budget import ByteBudget
from strata_server.ingest.uploads.domain import uploads_of

from tests.fixtures.errors import refusal
from tests.fixtures.files import MiB, chunk, chunk_stream
from tests.fixtures.iam import KeysServer, serve_keys

UPLOAD_CHUNKS = "/strata.ingest.v1.IngestService/UploadChunks"
STREAMS, SESSIONS = 2, 6


@pytest.fixture(scope="module")
def srv(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeysServer]:
    limits = {
        "upload_idle_seconds": 300.0,
        "upload_streams_per_principal": STREAMS,
        "upload_sessions_per_principal": SESSIONS,
    }
    yield from serve_keys(tmp_path_factory, pg_dsn, "strata-starve", **limits)


def _uploads(srv: KeysServer):  # type: ignore[no-untyped-def]
    return uploads_of(srv.deps)


class IdleStream:
    """An UploadChunks stream that sends its session and `first` bytes, then nothing until closed."""

    def __init__(self, client: Client, parent: str, size: int = 64 * MiB, first: int = 1) -> None:
        req = pb.CreateUploadSessionRequest(parent=parent, expected_size=size)
        self.session = client.ingest.CreateUploadSession(req).session.name
        self.release = threading.Event()
        call = client.channel.stream_unary(
            UPLOAD_CHUNKS,
            request_serializer=pb.UploadChunksRequest.SerializeToString,
            response_deserializer=pb.UploadChunksResponse.FromString,
        )
        self.future = call.future(self._requests(first), timeout=120, metadata=client.call_metadata())

    def _requests(self, first: int) -> Iterator[pb.UploadChunksRequest]:
        yield pb.UploadChunksRequest(session=self.session)
        yield chunk(0, os.urandom(first))
        self.release.wait(120)

    def close(self) -> None:
        self.release.set()

    def error(self, timeout: float) -> StrataError:
        try:
            self.future.result(timeout=timeout)
        except grpc.RpcError as e:
            return StrataError.from_rpc_error(e)
        raise AssertionError("the stream ended without an error")


def _running(srv: KeysServer, principal: str) -> int:
    async def go() -> int:
        return _uploads(srv).slots.running(principal)

    return srv.run(go())


def _wait_until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the server"
        time.sleep(0.05)


def _tenant(srv: KeysServer) -> tuple[str, str, str]:
    """(principal name, api key, project) of a fresh user."""
    name = f"u-{os.urandom(3).hex()}"
    key = srv.user(name)
    return name, key, srv.project(name, "p", as_key=key)


def test_idle_streams_do_not_delay_another_tenants_upload(srv: KeysServer) -> None:
    attacker, a_key, a_project = _tenant(srv)
    _, v_key, v_project = _tenant(srv)
    data = os.urandom(20 * 1000 * 1000)
    with srv.client(a_key) as a, srv.client(v_key) as v:
        idle = [IdleStream(a, a_project) for _ in range(STREAMS)]
        try:
            _wait_until(lambda: _running(srv, attacker) == STREAMS)
            req = pb.CreateUploadSessionRequest(parent=v_project, expected_size=len(data))
            session = v.ingest.CreateUploadSession(req).session.name
            started = time.monotonic()
            # generous bound, far below the 300 s idle timeout that would otherwise free the buffer
            v.ingest.UploadChunks(chunk_stream(session, data, 0, len(data), 4 * MiB), timeout=60)
            done = v.ingest.CommitUpload(pb.CommitUploadRequest(name=session)).blob
            elapsed = time.monotonic() - started
            assert done.sha256 == hashlib.sha256(data).hexdigest()
            assert not any(s.future.done() for s in idle)  # the idle streams are still open
            assert _running(srv, attacker) == STREAMS
            print(f"20 MB upload beside {STREAMS} idle streams: {elapsed:.2f} s")
        finally:
            for s in idle:
                s.close()


def test_an_idle_stream_is_ended_after_the_idle_time(srv: KeysServer) -> None:
    _, key, project = _tenant(srv)

    async def set_idle(seconds: float) -> None:
        uploads = _uploads(srv)
        uploads.limits = dataclasses.replace(uploads.limits, idle=seconds, lull=1.0)

    srv.run(set_idle(1.0))
    try:
        with srv.client(key) as c:
            started = time.monotonic()  # before the call starts: the server's idle clock cannot lead
            stream = IdleStream(c, project)
            try:
                e = stream.error(timeout=30)
                elapsed = time.monotonic() - started
            finally:
                stream.close()
            assert (e.code, e.reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, Reason.UPLOAD_IDLE_TIMEOUT)
            assert 0.9 <= elapsed < 20
            # what arrived before the pause is durable: the upload resumes from there
            got = c.ingest.GetUploadSession(pb.GetUploadSessionRequest(name=stream.session)).session
            assert got.committed_offset == 1
    finally:
        srv.run(set_idle(300.0))


def test_a_callers_streams_beyond_the_limit_are_refused(srv: KeysServer) -> None:
    principal, key, project = _tenant(srv)
    _, other_key, other_project = _tenant(srv)
    with srv.client(key) as c, srv.client(other_key) as other:
        streams = [IdleStream(c, project) for _ in range(STREAMS)]
        try:
            _wait_until(lambda: _running(srv, principal) == STREAMS)
            extra = IdleStream(c, project)
            e = extra.error(timeout=30)
            extra.close()
            assert (e.code, e.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, Reason.TOO_MANY_UPLOAD_STREAMS)
            elsewhere = IdleStream(other, other_project)  # another caller is not affected
            _wait_until(lambda: elsewhere.future.running() and not elsewhere.future.done())
            elsewhere.close()
            assert elsewhere.future.result(timeout=30).session.committed_offset == 1
        finally:
            for s in streams:
                s.close()
        _wait_until(lambda: _running(srv, principal) == 0)
        again = IdleStream(c, project)  # slots come back when streams end
        again.close()
        assert again.future.result(timeout=30).session.committed_offset == 1


def test_a_callers_open_sessions_beyond_the_limit_are_refused(srv: KeysServer) -> None:
    _, key, project = _tenant(srv)
    with srv.client(key) as c:
        names = [
            c.ingest.CreateUploadSession(
                pb.CreateUploadSessionRequest(parent=project, expected_size=10)
            ).session.name
            for _ in range(SESSIONS)
        ]
        with pytest.raises(StrataError) as e:
            c.ingest.CreateUploadSession(pb.CreateUploadSessionRequest(parent=project, expected_size=10))
        assert (e.value.code, e.value.reason) == (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            Reason.TOO_MANY_UPLOAD_SESSIONS,
        )
        c.ingest.AbortUpload(pb.AbortUploadRequest(name=names[0]))
        c.ingest.CreateUploadSession(pb.CreateUploadSessionRequest(parent=project, expected_size=10))


@pytest.mark.parametrize("size", [2**62, (1 << 40) + 1])
def test_a_declared_size_above_the_maximum_is_refused(srv: KeysServer, size: int) -> None:
    _, key, project = _tenant(srv)
    with srv.client(key) as c:
        too_large = pb.CreateUploadSessionRequest(parent=project, expected_size=size)
        assert refusal(lambda: c.ingest.CreateUploadSession(too_large)) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.TOO_LARGE,
            "expected_size",
        )
        at_limit = pb.CreateUploadSessionRequest(parent=project, expected_size=1 << 40)
        assert c.ingest.CreateUploadSession(at_limit).session.expected_size == 1 << 40


def test_one_caller_holds_at_most_its_share_of_the_buffer() -> None:
    """The budget alone: a caller whose share is spent waits, and callers behind it are served."""

    async def go() -> None:
        budget = ByteBudget(32, share=16)
        assert await budget.acquire(16, "attacker") == 16
        assert not budget.try_acquire(1, "attacker")
        blocked = asyncio.ensure_future(budget.acquire(8, "attacker"))
        await asyncio.sleep(0)
        assert not blocked.done()
        victim = await asyncio.wait_for(budget.acquire(16, "victim"), 1)  # not stuck behind the attacker
        assert victim == 16 and budget.used == 32
        budget.release(8, "attacker")
        await asyncio.wait_for(blocked, 1)
        assert budget.held("attacker") == 16 and budget.held("victim") == 16
        budget.release(16, "attacker")
        budget.release(16, "victim")
        assert budget.used == 0 and not budget.held("attacker")

    asyncio.run(go())
