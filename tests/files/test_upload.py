"""Upload sessions over the wire, on the local folder backend and on S3 (SeaweedFS): chunks become
durable only as blob-store parts, the whole-file sha256 is verified before anything is visible, and
every bad input gets its code and reason with nothing corrupt left behind."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2
from strata_server.common.config import S3Settings
from strata_server.ingest.uploads import resumable_hash

from tests.fixtures.files import MiB, chunk, chunk_stream, create_session, send, sql, stats
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread, make_settings
from tests.fixtures.wait import poll_until

PARENT = "entities/alice/projects/uploads"


def _start(tmp: Path, postgres: PostgresServer, s3: S3Settings | None, **overrides: object) -> ServerThread:
    part = 5 * MiB if s3 else MiB
    settings = make_settings(
        tmp, postgres.create_database(), s3=s3, upload_part_size=part, upload_max_chunk=2 * MiB, **overrides
    )
    return ServerThread(settings).start()


@pytest.fixture(scope="module", params=["local", "s3"])
def srv(request: pytest.FixtureRequest, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory):
    s3 = request.getfixturevalue("s3_settings") if request.param == "s3" else None
    server = _start(tmp_path_factory.mktemp(request.param), postgres, s3)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory):
    server = _start(tmp_path_factory.mktemp("local-only"), postgres, None)
    yield server
    server.stop()


def _code(e: pytest.ExceptionInfo[StrataError]) -> tuple[grpc.StatusCode, str]:
    return e.value.code, e.value.reason


def _blob_rows(server: ServerThread, sha: str) -> list[dict]:
    return sql(server, "SELECT sha256, size, storage_key FROM blobs WHERE sha256 = $1", sha)


def _session_row(server: ServerThread, name: str) -> dict:
    return sql(server, "SELECT * FROM upload_sessions WHERE id = $1", name.rsplit("/", 1)[1])[0]


# --- the happy path, on both backends ---


def test_chunks_in_several_streams_commit_to_a_verified_visible_blob(srv: ServerThread) -> None:
    data = os.urandom(12 * MiB + 12345)
    sha = hashlib.sha256(data).hexdigest()
    with srv.client() as c:
        s = create_session(c, PARENT, data, sha)
        assert (s.state, s.committed_offset) == (upload_pb2.UPLOAD_STATE_OPEN, 0)
        first = send(c, s.name, chunk_stream(s.name, data, 0, 10 * MiB))  # whole parts on both backends
        assert first.committed_offset == 10 * MiB
        rest = send(c, s.name, chunk_stream(s.name, data, first.committed_offset, len(data)))
        assert rest.committed_offset == len(data)
        assert _blob_rows(srv, sha) == []  # nothing visible before the commit
        done = c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name, sha256=sha))
    assert (done.blob.sha256, done.blob.size) == (sha, len(data))
    assert done.session.state == upload_pb2.UPLOAD_STATE_COMMITTED
    [row] = _blob_rows(srv, sha)
    assert srv.run(srv.deps.blobs.read_all(row["storage_key"])) == data


def test_commit_is_idempotent_and_an_empty_file_commits(srv: ServerThread) -> None:
    with srv.client() as c:
        s = create_session(c, PARENT, b"")
        a = c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name))
        b = c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name))
    assert a.blob == b.blob and a.blob.sha256 == hashlib.sha256(b"").hexdigest()
    [row] = _blob_rows(srv, a.blob.sha256)
    assert srv.run(srv.deps.blobs.size(row["storage_key"])) == 0


def test_a_stream_that_ends_early_keeps_only_whole_durable_parts(srv: ServerThread) -> None:
    """committed_offset advances only past parts stored in the blob store: on S3 a tail shorter than
    the 5 MiB part minimum is not kept (the client resends it); on the folder it is."""
    data = os.urandom(16 * MiB)
    part = srv.settings.upload_part_size
    sent = part + part // 2
    with srv.client() as c:
        s = create_session(c, PARENT, data)
        got = send(c, s.name, chunk_stream(s.name, data, 0, sent))
    min_part = srv.deps.blobs.min_part_size
    assert got.committed_offset == (part if part // 2 < min_part else sent)
    assert _session_row(srv, s.name)["committed_offset"] == got.committed_offset


def test_resumed_session_continues_on_a_restarted_server(
    postgres: PostgresServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The sha256 state is saved with every durable part, so a new server process commits without
    re-reading anything; the second server received only the rest."""
    s3 = request.getfixturevalue("s3_settings")
    settings = make_settings(tmp_path, postgres.create_database(), s3=s3, upload_part_size=5 * MiB)
    data = os.urandom(11 * MiB)
    sha = hashlib.sha256(data).hexdigest()
    first = ServerThread(settings).start()
    with first.client() as c:
        s = create_session(c, PARENT, data, sha)
        half = send(c, s.name, chunk_stream(s.name, data, 0, 5 * MiB)).committed_offset
    first.stop()
    second = ServerThread(settings).start()
    try:
        with second.client() as c:
            assert (
                c.ingest.GetUploadSession(pb.GetUploadSessionRequest(name=s.name)).session.committed_offset
                == half
            )
            send(c, s.name, chunk_stream(s.name, data, half, len(data)))
            done = c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name, sha256=sha))
        assert done.blob.sha256 == sha
        assert stats(second).upload_bytes_received == len(data) - half
    finally:
        second.stop()


def test_without_a_resumable_hash_the_commit_rehashes_the_stored_bytes(
    local: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fallback when libcrypto's SHA256 state is unavailable: verify by reading the object back."""
    monkeypatch.setattr(resumable_hash, "_lib", lambda: None)
    good = os.urandom(3 * MiB)
    with local.client() as c:
        s = create_session(c, PARENT, good)
        assert _session_row(local, s.name)["hash_state"] is None
        send(c, s.name, chunk_stream(s.name, good, 0, len(good)))
        done = c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name))
        assert done.blob.sha256 == hashlib.sha256(good).hexdigest()
        bad = create_session(c, PARENT, good, "0" * 64)
        send(c, bad.name, chunk_stream(bad.name, good, 0, len(good)))
        with pytest.raises(StrataError) as e:
            c.ingest.CommitUpload(pb.CommitUploadRequest(name=bad.name))
    assert _code(e) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.DIGEST_MISMATCH)
    key = _session_row(local, bad.name)["storage_key"]
    assert local.run(local.deps.blobs.size(key)) is None


def test_a_newer_stream_supersedes_an_older_one_on_the_same_session(local: ServerThread) -> None:
    data = os.urandom(4 * MiB)
    gate = threading.Event()
    with local.client() as c:
        s = create_session(c, PARENT, data)

        def stalled() -> Iterator[pb.UploadChunksRequest]:
            yield pb.UploadChunksRequest(session=s.name)
            yield chunk(0, data[: MiB // 2])  # less than a part: nothing becomes durable
            gate.wait(30)

        errors: list[StrataError] = []

        def old() -> None:
            try:
                send(c, s.name, stalled())
            except StrataError as err:
                errors.append(err)

        t = threading.Thread(target=old)
        t.start()
        time.sleep(0.5)
        fresh = send(c, s.name, chunk_stream(s.name, data, 0, len(data)))
        gate.set()
        t.join(30)
        assert fresh.committed_offset == len(data)
        assert errors and errors[0].code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.ABORTED)
        done = c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name))
    assert done.blob.sha256 == hashlib.sha256(data).hexdigest()


# --- bad input: code, reason, nothing corrupt visible ---


@pytest.mark.parametrize(
    ("make", "field", "reason"),
    [
        (
            lambda d: [chunk(MiB, d[MiB : 2 * MiB])],
            "chunk.offset",
            Reason.CHUNK_OFFSET_MISMATCH,
        ),  # skips ahead
        (
            lambda d: [chunk(0, d[:MiB]), chunk(MiB // 2, d[MiB // 2 : MiB])],
            "chunk.offset",
            Reason.CHUNK_OFFSET_MISMATCH,
        ),
        (lambda d: [chunk(0, d[:MiB], crc=12345)], "chunk.crc32c", Reason.CHUNK_CHECKSUM_MISMATCH),
        (lambda d: [chunk(0, d + d[:MiB])], "chunk.data", Reason.CHUNK_TOO_LARGE),  # max chunk is 2 MiB
        (lambda d: [chunk(0, d[:MiB]), chunk(MiB, d[MiB:] + b"extra")], "chunk.data", Reason.SIZE_EXCEEDED),
    ],
    ids=["out-of-order", "overlapping", "checksum", "oversized", "beyond-declared-size"],
)
def test_bad_chunks_are_rejected_with_a_stable_reason(
    local: ServerThread, make, field: str, reason: str
) -> None:
    data = os.urandom(2 * MiB)
    with local.client() as c:
        s = create_session(c, PARENT, data)
        with pytest.raises(StrataError) as e:
            send(c, s.name, [pb.UploadChunksRequest(session=s.name), *make(data)])
        assert _code(e) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
        assert e.value.field == field
        session = c.ingest.GetUploadSession(pb.GetUploadSessionRequest(name=s.name)).session
        with pytest.raises(StrataError) as commit:
            c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name))
    assert session.committed_offset < len(data)
    assert _code(commit) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.UPLOAD_INCOMPLETE)
    assert _blob_rows(local, hashlib.sha256(data).hexdigest()) == []


def test_commit_with_the_wrong_sha256_aborts_and_leaves_nothing(local: ServerThread) -> None:
    data = os.urandom(MiB + 1)
    with local.client() as c:
        s = create_session(c, PARENT, data)
        send(c, s.name, chunk_stream(s.name, data, 0, len(data)))
        with pytest.raises(StrataError) as e:
            c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name, sha256="ab" * 32))
        assert _code(e) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.DIGEST_MISMATCH)
        with pytest.raises(StrataError) as again:
            c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name))
        assert _code(again) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.UPLOAD_SESSION_CLOSED)
        with pytest.raises(StrataError) as more:
            send(c, s.name, chunk_stream(s.name, data, 0, MiB))
        assert _code(more) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.UPLOAD_SESSION_CLOSED)
    assert _blob_rows(local, hashlib.sha256(data).hexdigest()) == []
    assert sql(local, "SELECT count(*) AS n FROM blobs WHERE sha256 = $1", "ab" * 32)[0]["n"] == 0
    row = _session_row(local, s.name)
    assert local.run(local.deps.blobs.size(row["storage_key"])) is None


def test_unknown_foreign_and_malformed_session_names(local: ServerThread) -> None:
    data = os.urandom(10)
    with local.client() as c:
        s = create_session(c, PARENT, data)
        sid = s.name.rsplit("/", 1)[1]
        other_project = f"entities/alice/projects/elsewhere/uploads/{sid}"
        for name in [f"{PARENT}/uploads/{'f' * 32}", other_project]:
            with pytest.raises(StrataError) as e:
                c.ingest.GetUploadSession(pb.GetUploadSessionRequest(name=name))
            assert _code(e) == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)
            with pytest.raises(StrataError) as e:
                send(c, name, chunk_stream(name, data, 0, len(data)))
            assert _code(e) == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)
        sql(local, "UPDATE upload_sessions SET owner_name = 'mallory' WHERE id = $1", sid)
        with pytest.raises(StrataError) as e:
            c.ingest.CommitUpload(pb.CommitUploadRequest(name=s.name))
        assert _code(e) == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)
        with pytest.raises(StrataError) as e:
            c.ingest.GetUploadSession(pb.GetUploadSessionRequest(name="uploads/x"))
        assert _code(e) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.INVALID_NAME)
        with pytest.raises(StrataError) as e:
            send(c, "", [chunk(0, data)])
        assert _code(e) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.FIELD_REQUIRED)


def test_create_rejects_negative_sizes_and_malformed_digests(local: ServerThread) -> None:
    with local.client() as c:
        for req, reason in [
            (pb.CreateUploadSessionRequest(parent=PARENT, expected_size=-1), Reason.OUT_OF_RANGE),
            (
                pb.CreateUploadSessionRequest(parent=PARENT, expected_size=1, expected_sha256="XYZ"),
                Reason.INVALID_DIGEST,
            ),
        ]:
            with pytest.raises(StrataError) as e:
                c.ingest.CreateUploadSession(req)
            assert _code(e) == (grpc.StatusCode.INVALID_ARGUMENT, reason)


def test_abort_deletes_parts_and_a_committed_session_cannot_be_aborted(local: ServerThread) -> None:
    data = os.urandom(2 * MiB)
    with local.client() as c:
        s = create_session(c, PARENT, data)
        send(c, s.name, chunk_stream(s.name, data, 0, MiB))
        multipart = local.deps.blobs.multipart / _session_row(local, s.name)["multipart_id"]
        assert multipart.exists()
        c.ingest.AbortUpload(pb.AbortUploadRequest(name=s.name))
        c.ingest.AbortUpload(pb.AbortUploadRequest(name=s.name))  # idempotent
        assert not multipart.exists()
        assert c.ingest.GetUploadSession(pb.GetUploadSessionRequest(name=s.name)).session.state == (
            upload_pb2.UPLOAD_STATE_ABORTED
        )
        done = create_session(c, PARENT, b"")
        c.ingest.CommitUpload(pb.CommitUploadRequest(name=done.name))
        with pytest.raises(StrataError) as e:
            c.ingest.AbortUpload(pb.AbortUploadRequest(name=done.name))
    assert _code(e) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.UPLOAD_SESSION_CLOSED)


def test_abandoned_sessions_expire_and_their_parts_are_deleted(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    server = _start(tmp_path, postgres, None, upload_expiry=1.0)
    try:
        data = os.urandom(2 * MiB)
        with server.client() as c:
            s = create_session(c, PARENT, data)
            send(c, s.name, chunk_stream(s.name, data, 0, MiB))
            multipart = server.deps.blobs.multipart / _session_row(server, s.name)["multipart_id"]
            poll_until(
                lambda: not _session_row(server, s.name)["multipart_id"],
                interval=0.2,
                what="the expiry pass to delete the parts",
            )
            session = c.ingest.GetUploadSession(pb.GetUploadSessionRequest(name=s.name)).session
            with pytest.raises(StrataError) as e:
                send(c, s.name, chunk_stream(s.name, data, MiB, len(data)))
        assert session.state == upload_pb2.UPLOAD_STATE_EXPIRED
        assert not multipart.exists()
        assert _code(e) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.UPLOAD_SESSION_CLOSED)
    finally:
        server.stop()


def test_concurrent_uploads_share_a_small_memory_budget_without_deadlock(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Parts give their budget back as soon as they are stored, whatever their stream is doing, so
    streams waiting for memory always make progress (here: 2 MiB for 4 streams of 1 MiB parts)."""
    server = _start(tmp_path, postgres, None, upload_buffer=2 * MiB)
    try:
        blobs = [os.urandom(6 * MiB + i) for i in range(4)]
        results: list[object] = []

        def upload(data: bytes) -> None:
            with server.client() as c:
                s = create_session(c, PARENT, data)
                try:
                    results.append(send(c, s.name, chunk_stream(s.name, data, 0, len(data))).committed_offset)
                except StrataError as e:
                    results.append(e)

        threads = [threading.Thread(target=upload, args=(b,)) for b in blobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(results) == sorted(len(b) for b in blobs)  # type: ignore[type-var]
        assert server.deps.extras["uploads"].budget.used == 0
    finally:
        server.stop()


async def test_byte_budget_is_fifo_bounded_and_survives_cancelled_waiters() -> None:
    from strata_server.ingest.uploads.stream import ByteBudget

    budget = ByteBudget(10)
    assert await budget.acquire(6) == 6
    big = asyncio.ensure_future(budget.acquire(50))  # clamped to the limit; waits for the 6
    small = asyncio.ensure_future(budget.acquire(1))  # FIFO: queued behind `big` although 1 would fit
    gone = asyncio.ensure_future(budget.acquire(2))
    await asyncio.sleep(0)
    assert not big.done() and not small.done()
    gone.cancel()
    await asyncio.sleep(0)
    budget.release(6)
    assert await big == 10 and budget.used == 10
    budget.release(10)
    assert await small == 1 and budget.used == 1 and gone.cancelled()
    budget.release(1)
    assert budget.used == 0
