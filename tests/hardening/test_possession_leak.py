"""Knowing part of another tenant's file (or its digest) grants nothing and reveals nothing: no
challenge is issued, every proof of possession is rejected, a digest stored for another project gets
the same FindMissingBlobs answer as a random one, and a wrong upload claiming that digest is refused.
Uploading the whole identical content does work, and is deduplicated: no second copy is stored."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import grpc
import pytest
from strata.common.v1 import blob_pb2
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2
from strata.registry.v1 import registry_service_pb2 as rpb
from strata.sdk import transfer

from tests.fixtures.files import MiB, chunk_stream, make_version, sql
from tests.fixtures.iam import KeysServer

SIZE = 4 * MiB


@pytest.fixture
def tenants(keys_server: KeysServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Tenant A (alice) stores a private file; tenant B (bob) has a project of his own."""
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    tag = os.urandom(3).hex()
    alice, bob = keys_server.user(f"alice-{tag}"), keys_server.user(f"bob-{tag}")
    secret_project = keys_server.project(f"alice-{tag}", "secret", as_key=alice)
    probe_project = keys_server.project(f"bob-{tag}", "probe", as_key=bob)
    data = os.urandom(SIZE)
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    with keys_server.client(alice) as c:
        digest = transfer.upload_files(c, secret_project, [("model.bin", path)])["model.bin"]
    return {
        "alice": alice,
        "bob": bob,
        "a_project": secret_project,
        "b_project": probe_project,
        "b_entity": f"bob-{tag}",
        "data": data,
        "digest": digest,
    }


def _find(
    keys_server: KeysServer, key: str, parent: str, d: blob_pb2.BlobDigest
) -> pb.FindMissingBlobsResponse:
    with keys_server.client(key) as c:
        return c.ingest.FindMissingBlobs(pb.FindMissingBlobsRequest(parent=parent, digests=[d]))


def _held(keys_server: KeysServer, project: str, sha256: str) -> bool:
    entity, name = project.split("/")[1], project.split("/")[3]
    rows = sql(
        keys_server.thread,
        """SELECT 1 FROM project_blobs pb JOIN projects p ON p.id = pb.project_id
           JOIN entities e ON e.id = p.entity_id WHERE e.name = $1 AND p.name = $2 AND pb.sha256 = $3""",
        entity,
        name,
        sha256,
    )
    return bool(rows)


def _upload(
    keys_server: KeysServer, key: str, parent: str, data: bytes, claimed: str
) -> upload_pb2.UploadSession:
    """One upload session of `data` that claims sha256 `claimed`, committed."""
    with keys_server.client(key) as c:
        req = pb.CreateUploadSessionRequest(parent=parent, expected_size=len(data), expected_sha256=claimed)
        session = c.ingest.CreateUploadSession(req).session
        c.ingest.UploadChunks(chunk_stream(session.name, data, 0, len(data)), timeout=60)
        return c.ingest.CommitUpload(pb.CommitUploadRequest(name=session.name, sha256=claimed)).session


def test_a_foreign_digest_is_answered_like_a_random_one(keys_server: KeysServer, tenants) -> None:  # type: ignore[no-untyped-def]
    d = tenants["digest"]
    random = blob_pb2.BlobDigest(sha256=hashlib.sha256(os.urandom(32)).hexdigest(), size=d.size)
    foreign = _find(keys_server, tenants["bob"], tenants["b_project"], d)
    unknown = _find(keys_server, tenants["bob"], tenants["b_project"], random)
    assert list(foreign.missing) == [d] and list(unknown.missing) == [random]
    assert not foreign.challenges and not unknown.challenges
    # the same message, field for field, once the digest asked about is taken out
    foreign.ClearField("missing")
    unknown.ClearField("missing")
    assert foreign.SerializeToString() == unknown.SerializeToString() == b""
    # the owner's own project still gets "present" (an unchanged re-upload sends nothing)
    assert not _find(keys_server, tenants["alice"], tenants["a_project"], d).missing


def test_knowing_part_of_the_file_proves_nothing(keys_server: KeysServer, tenants) -> None:  # type: ignore[no-untyped-def]
    """The attack on sampled proofs: knowing all but the last byte (or half) of the file, ask again
    until every window a challenge names falls in the known part, then answer it. No challenge is
    issued any more, any proof (even one over the whole file) is rejected, and nothing is readable."""
    d, data = tenants["digest"], tenants["data"]
    known = data[:-1] + b"\0"  # all but the last byte
    proofs = []
    for _ in range(20):
        for ch in _find(keys_server, tenants["bob"], tenants["b_project"], d).challenges:
            if all(r.offset + r.length < SIZE for r in ch.ranges):
                h = hashlib.sha256(ch.nonce)
                for r in ch.ranges:
                    h.update(known[r.offset : r.offset + r.length])
                proofs.append(
                    upload_pb2.PossessionProof(digest=d, nonce=ch.nonce, proof_sha256=h.hexdigest())
                )
    assert not proofs  # no challenge was ever issued
    half = data[: SIZE // 2]
    proofs = [
        upload_pb2.PossessionProof(
            digest=d, nonce=nonce, proof_sha256=hashlib.sha256(nonce + part).hexdigest()
        )
        for nonce, part in [(b"n1", half[:65536]), (b"n2", half), (b"n3", data)]
    ]
    with keys_server.client(tenants["bob"]) as c:
        answer = c.ingest.ProveBlobPossession(
            pb.ProveBlobPossessionRequest(parent=tenants["b_project"], proofs=proofs)
        )
    assert not answer.accepted and list(answer.rejected) == [d, d, d]
    assert not _held(keys_server, tenants["b_project"], d.sha256)
    assert list(_find(keys_server, tenants["bob"], tenants["b_project"], d).missing) == [d]
    _cannot_read(keys_server, tenants)


def test_all_but_one_byte_is_refused_and_grants_nothing(keys_server: KeysServer, tenants) -> None:  # type: ignore[no-untyped-def]
    d, data = tenants["digest"], tenants["data"]
    almost = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(StrataError) as e:
        _upload(keys_server, tenants["bob"], tenants["b_project"], almost, d.sha256)
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.DIGEST_MISMATCH)
    assert not _held(keys_server, tenants["b_project"], d.sha256)
    assert list(_find(keys_server, tenants["bob"], tenants["b_project"], d).missing) == [d]
    _cannot_read(keys_server, tenants)


def _cannot_read(keys_server: KeysServer, tenants) -> None:  # type: ignore[no-untyped-def]
    """Bob reads the digest neither through his own project (a version listing it, a run file) nor
    through alice's."""
    d = tenants["digest"]
    mine = make_version(keys_server.thread, tenants["b_entity"], "probe", "stolen", [("x", d.sha256, d.size)])
    theirs = make_version(
        keys_server.thread, tenants["a_project"].split("/")[1], "secret", "model", [("x", d.sha256, d.size)]
    )
    with keys_server.client(tenants["bob"]) as c:
        for version in (mine, theirs):
            with pytest.raises(StrataError) as e:
                list(c.registry.ReadBlob(rpb.ReadBlobRequest(version=version, sha256=d.sha256)))
            assert e.value.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)
        with pytest.raises(StrataError) as e:
            c.registry.BatchReadBlobs(rpb.BatchReadBlobsRequest(version=mine, sha256s=[d.sha256]))
        assert e.value.code == grpc.StatusCode.NOT_FOUND
        run = c.ingest.CreateRun(
            pb.CreateRunRequest(parent=tenants["b_project"], run_id=os.urandom(4).hex())
        ).run
        with pytest.raises(StrataError) as e:
            c.ingest.AddRunFiles(
                pb.AddRunFilesRequest(run=run.name, files=[upload_pb2.RunFile(path="x", blob=d)])
            )
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.BLOB_MISSING)
        listed = c.ingest.ListRunFiles(pb.ListRunFilesRequest(run=run.name))
        assert not listed.files
        with pytest.raises(StrataError) as e:
            list(c.ingest.ReadRunFile(pb.ReadRunFileRequest(run=run.name, path="x")))
        assert e.value.code == grpc.StatusCode.NOT_FOUND


def _stored_objects(keys_server: KeysServer) -> int:
    root = keys_server.thread.settings.blob_dir
    return sum(1 for p in root.rglob("*") if p.is_file())


def test_uploading_the_whole_file_works_and_stores_no_second_copy(keys_server: KeysServer, tenants) -> None:  # type: ignore[no-untyped-def]
    d, data = tenants["digest"], tenants["data"]
    rows_before = sql(keys_server.thread, "SELECT storage_key FROM blobs WHERE sha256 = $1", d.sha256)
    objects_before = _stored_objects(keys_server)
    session = _upload(keys_server, tenants["bob"], tenants["b_project"], data, d.sha256)
    assert session.state == upload_pb2.UPLOAD_STATE_COMMITTED and session.blob == d
    assert sql(keys_server.thread, "SELECT storage_key FROM blobs WHERE sha256 = $1", d.sha256) == rows_before
    assert _stored_objects(keys_server) == objects_before
    assert _held(keys_server, tenants["b_project"], d.sha256)
    assert not _find(keys_server, tenants["bob"], tenants["b_project"], d).missing
    version = make_version(keys_server.thread, tenants["b_entity"], "probe", "own", [("x", d.sha256, d.size)])
    with keys_server.client(tenants["bob"]) as c:
        got = b"".join(
            bytes(m.data) for m in c.registry.ReadBlob(rpb.ReadBlobRequest(version=version, sha256=d.sha256))
        )
    assert got == data
