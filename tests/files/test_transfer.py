"""The client transfer engine against a real server (folder and S3 backends): content addressing and
dedupe across projects without granting access, resumable verified downloads, the client cache, run
files, and unsafe paths."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import grpc
import pytest
from strata.client import Client
from strata.common.v1 import blob_pb2
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2
from strata.registry.v1 import registry_service_pb2 as rpb
from strata.sdk import _transfer_batch, _transfer_plan, run_files, transfer
from strata.sdk._transfer_download import RpcBlob, partial_path

from tests.fixtures.errors import refusal
from tests.fixtures.files import MiB, ensure_run, make_version, random_file, sql, stats
from tests.fixtures.servers import ServerThread

pytestmark = pytest.mark.usefixtures("client_dirs")


@pytest.fixture(scope="module", params=["local", "s3"])
def srv(request: pytest.FixtureRequest) -> ServerThread:
    return request.getfixturevalue("server" if request.param == "local" else "s3_server")


def _tree(root: Path, big: int = 24 * MiB) -> dict[str, Path]:
    files = {f"small/{i:02d}.txt": root / "small" / f"{i:02d}.txt" for i in range(20)}
    for i, p in enumerate(files.values()):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(100 + i * 997))
    files["sub/big.bin"] = root / "sub" / "big.bin"
    random_file(files["sub/big.bin"], big)
    files["copy-of-00.txt"] = root / "copy-of-00.txt"
    files["copy-of-00.txt"].write_bytes(files["small/00.txt"].read_bytes())
    files["empty"] = root / "empty"
    files["empty"].write_bytes(b"")
    return files


def _unique_bytes(files: dict[str, Path]) -> int:
    seen: dict[str, int] = {}
    for p in files.values():
        data = p.read_bytes()
        seen[hashlib.sha256(data).hexdigest()] = len(data)
    return sum(seen.values())


def _entries(digests: dict[str, blob_pb2.BlobDigest]) -> list[tuple[str, str, int]]:
    return [(p, d.sha256, d.size) for p, d in digests.items()]


def _parent(project: str) -> str:
    return f"entities/files-test/projects/{project}"


def _one_blob_version(
    server: ServerThread, c: Client, tmp_path: Path, project: str, size: int
) -> tuple[Path, str, int, str]:
    """Upload a random `size`-byte tmp_path/blob.bin into `project` and commit version "one" of it;
    returns (the file, its sha256, its size, the version name)."""
    src = tmp_path / "blob.bin"
    sha, size = random_file(src, size)
    transfer.upload_files(c, _parent(project), [("blob.bin", src)])
    return src, sha, size, make_version(server, "files-test", project, "one", [("blob.bin", sha, size)])


# --- uploads and dedupe ---


def test_upload_sends_each_blob_once_and_an_unchanged_reupload_sends_nothing(
    srv: ServerThread, tmp_path: Path
) -> None:
    files = _tree(tmp_path / "src")
    counter = stats(srv)
    before = counter.upload_bytes_received
    with srv.client() as c:
        digests = transfer.upload_files(c, _parent("dedupe"), list(files.items()))
        first = counter.upload_bytes_received - before
        big = digests["sub/big.bin"].sha256
        touched = sql(srv, "SELECT touch_time FROM blobs WHERE sha256 = $1", big)[0]["touch_time"]
        again = transfer.upload_files(c, _parent("dedupe"), list(files.items()))
    assert first == _unique_bytes(files)
    # "you need not upload this" renews the blob's touch_time, so GC spares it for its grace period
    assert sql(srv, "SELECT touch_time FROM blobs WHERE sha256 = $1", big)[0]["touch_time"] > touched
    assert counter.upload_bytes_received - before == first  # the second upload sent nothing
    assert again == digests
    for path, local in files.items():
        assert digests[path].sha256 == hashlib.sha256(local.read_bytes()).hexdigest()
        assert digests[path].size == local.stat().st_size


def test_a_second_project_uploads_again_and_stores_nothing_new(srv: ServerThread, tmp_path: Path) -> None:
    """Another project sends the bytes again (holding a digest, or part of a file, grants nothing), and
    the server deduplicates them at commit: storage does not grow."""
    big = tmp_path / "big.bin"
    small = tmp_path / "small.txt"
    random_file(big, 8 * MiB)
    small.write_bytes(os.urandom(5000))
    files = [("big.bin", big), ("small.txt", small)]
    counter = stats(srv)
    with srv.client() as c:
        digests = transfer.upload_files(c, _parent("owner-a"), files)
        shas = [d.sha256 for d in digests.values()]
        stored_before = sql(
            srv, "SELECT sha256, storage_key FROM blobs WHERE sha256 = ANY($1) ORDER BY 1", shas
        )
        before = counter.upload_bytes_received
        again = transfer.upload_files(c, _parent("owner-b"), files)
    assert again == digests
    assert counter.upload_bytes_received - before == 8 * MiB + 5000  # both files moved again
    assert (
        sql(srv, "SELECT sha256, storage_key FROM blobs WHERE sha256 = ANY($1) ORDER BY 1", shas)
        == stored_before
    )
    holders = sql(
        srv,
        """SELECT p.name FROM project_blobs pb JOIN projects p ON p.id = pb.project_id
           WHERE pb.sha256 = $1 ORDER BY 1""",
        digests["big.bin"].sha256,
    )
    assert [h["name"] for h in holders] == ["owner-a", "owner-b"]


def test_a_large_file_uploads_while_it_hashes_and_stops_when_the_server_already_holds_it(
    srv: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Speculative upload (large files without an "uploaded before" hint start sending at once while
    another thread hashes them): the first upload stores the blob with the right digest; a machine
    without the hint uploading the same bytes learns from FindMissingBlobs that the project holds it,
    stops and aborts its session: nothing new is stored and no session stays open."""
    monkeypatch.setattr(_transfer_plan, "SPECULATE_MIN", 4 * MiB)
    big = tmp_path / "big.bin"
    sha, size = random_file(big, 24 * MiB)
    parent = _parent("speculate")
    counter = stats(srv)
    before = counter.upload_bytes_received
    with srv.client() as c:
        first = transfer.upload_files(c, parent, [("big.bin", big)])
        assert counter.upload_bytes_received - before == size
        stored = sql(srv, "SELECT sha256, size, storage_key FROM blobs WHERE sha256 = $1", sha)
        hints = tmp_path / "spool" / "uploaded"
        assert any(hints.iterdir())  # the next upload from this machine hashes first
        shutil.rmtree(hints)  # ...but another machine has no hint
        middle = counter.upload_bytes_received
        again = transfer.upload_files(c, parent, [("big.bin", big)])
    assert first["big.bin"].sha256 == again["big.bin"].sha256 == sha
    assert first["big.bin"].size == size
    assert counter.upload_bytes_received - middle <= size
    assert sql(srv, "SELECT sha256, size, storage_key FROM blobs WHERE sha256 = $1", sha) == stored
    states = sql(
        srv,
        """SELECT s.state FROM upload_sessions s JOIN projects p ON p.id = s.project_id
           WHERE p.name = 'speculate' ORDER BY s.create_time""",
    )
    # the commit waits for the digest check, so a held blob always ends in an abort, never a 2nd commit
    assert [r["state"] for r in states] == [
        upload_pb2.UPLOAD_STATE_COMMITTED,
        upload_pb2.UPLOAD_STATE_ABORTED,
    ]


def test_knowing_a_digest_grants_no_access(srv: ServerThread, tmp_path: Path) -> None:
    secret = tmp_path / "secret.bin"
    random_file(secret, 2 * MiB)
    with srv.client() as c:
        d = transfer.upload_files(c, _parent("victim"), [("secret.bin", secret)])["secret.bin"]
        thief = _parent("thief")
        found = c.ingest.FindMissingBlobs(pb.FindMissingBlobsRequest(parent=thief, digests=[d]))
        assert [m.sha256 for m in found.missing] == [d.sha256]
        assert not found.challenges  # no challenge is ever issued
        made_up = upload_pb2.PossessionProof(digest=d, nonce=b"guess", proof_sha256="0" * 64)
        answer = c.ingest.ProveBlobPossession(pb.ProveBlobPossessionRequest(parent=thief, proofs=[made_up]))
        assert [r.sha256 for r in answer.rejected] == [d.sha256] and not answer.accepted
        run = ensure_run(srv, "files-test", "thief", "r1")
        with pytest.raises(StrataError) as e:
            c.ingest.AddRunFiles(pb.AddRunFilesRequest(run=run, files=[upload_pb2.RunFile(path="x", blob=d)]))
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.BLOB_MISSING)
        version = make_version(srv, "files-test", "thief", "stolen", [("x", d.sha256, d.size)])
        with pytest.raises(StrataError) as e:
            list(c.registry.ReadBlob(rpb.ReadBlobRequest(version=version, sha256=d.sha256)))
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)


def test_find_missing_and_batch_upload_reject_bad_input(server: ServerThread) -> None:
    parent = _parent("bad-input")
    good = b"good bytes"
    good_d = blob_pb2.BlobDigest(sha256=hashlib.sha256(good).hexdigest(), size=len(good))
    with server.client() as c:
        for digests, reason in [
            ([blob_pb2.BlobDigest(sha256="ABC", size=1)], Reason.INVALID_DIGEST),
            ([blob_pb2.BlobDigest(sha256="a" * 64, size=-1)], Reason.INVALID_DIGEST),
            ([good_d] * 10_001, Reason.OUT_OF_RANGE),
            ([], Reason.FIELD_REQUIRED),
        ]:
            with pytest.raises(StrataError) as e:
                c.ingest.FindMissingBlobs(pb.FindMissingBlobsRequest(parent=parent, digests=digests))
            assert (e.value.code, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
        lying = blob_pb2.BlobDigest(sha256="b" * 64, size=3)
        batch = [pb.BlobContent(digest=good_d, data=good), pb.BlobContent(digest=lying, data=b"abc")]
        upload = pb.BatchUploadBlobsRequest(parent=parent, blobs=batch)
        assert refusal(lambda: c.ingest.BatchUploadBlobs(upload)) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.DIGEST_MISMATCH,
            "blobs[1].data",
        )
        assert sql(server, "SELECT sha256 FROM blobs WHERE sha256 = $1", good_d.sha256) == []
        huge = os.urandom(4 * MiB + 1)
        huge_d = blob_pb2.BlobDigest(sha256=hashlib.sha256(huge).hexdigest(), size=len(huge))
        with pytest.raises(StrataError) as e:
            c.ingest.BatchUploadBlobs(
                pb.BatchUploadBlobsRequest(parent=parent, blobs=[pb.BlobContent(digest=huge_d, data=huge)])
            )
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.TOO_LARGE)


def test_unsafe_and_duplicate_paths_are_refused_before_anything_moves(
    server: ServerThread, tmp_path: Path
) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    counter = stats(server)
    before = (counter.upload_bytes_received, counter.download_bytes_sent)
    with server.client() as c:
        for bad in ["../escape.txt", "/etc/passwd", "a//b", "a/./b", "a/../../b", "C:/x", "dir\\x", ""]:
            reason = Reason.UNSAFE_PATH if bad else Reason.FIELD_REQUIRED  # as the server answers
            with pytest.raises(StrataError) as e:
                transfer.upload_files(c, _parent("paths"), [(bad, f)])
            assert (e.value.code, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
            with pytest.raises(StrataError) as e:
                transfer.download_files(c, "v", [(bad, "a" * 64, 1)], tmp_path / "out")
            assert (e.value.code, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
        with pytest.raises(StrataError) as e:
            transfer.upload_files(c, _parent("paths"), [("same", f), ("same", f)])
        assert e.value.reason == Reason.DUPLICATE_PATH
    assert (counter.upload_bytes_received, counter.download_bytes_sent) == before
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out").exists()


# --- downloads, resume, cache ---


def test_download_round_trip_and_a_path_prefix_fetches_only_what_was_asked(
    srv: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _tree(tmp_path / "src", big=6 * MiB)
    with srv.client() as c:
        digests = transfer.upload_files(c, _parent("down"), list(files.items()))
        version = make_version(srv, "files-test", "down", "tree", _entries(digests))
        root = transfer.download_files(c, version, _entries(digests), tmp_path / "out")
        for path, local in files.items():
            assert (root / path).read_bytes() == local.read_bytes()
        monkeypatch.setenv("STRATA_CACHE_MAX_BYTES", "0")
        counter = stats(srv)
        before = counter.download_bytes_sent
        wanted = transfer.filter_prefix(_entries(digests), "small/1")
        transfer.download_files(c, version, wanted, tmp_path / "partial")
    assert sorted(
        p.relative_to(tmp_path / "partial").as_posix() for p in (tmp_path / "partial").rglob("*.txt")
    ) == [f"small/{i}.txt" for i in range(10, 20)]
    assert counter.download_bytes_sent - before == sum(size for _, _, size in wanted)


def test_download_resumes_from_a_partial_file_and_fetches_only_the_rest(
    server: ServerThread, tmp_path: Path
) -> None:
    with server.client() as c:
        src, sha, size, version = _one_blob_version(server, c, tmp_path, "resume", 20 * MiB)
        dest = tmp_path / "out" / "blob.bin"
        dest.parent.mkdir()
        partial_path(dest, sha).write_bytes(src.read_bytes()[: size // 2 + 123])  # what a cut leaves
        counter = stats(server)
        before = counter.download_bytes_sent
        transfer.download_blob(c, version, sha, size, dest)
    assert counter.download_bytes_sent - before == size - (size // 2 + 123)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == sha
    assert not partial_path(dest, sha).exists()


def test_a_tampered_partial_file_is_detected_and_fetched_again(server: ServerThread, tmp_path: Path) -> None:
    with server.client() as c:
        src, sha, size, version = _one_blob_version(server, c, tmp_path, "tamper", 8 * MiB)
        dest = tmp_path / "out" / "blob.bin"
        dest.parent.mkdir()
        head = bytearray(src.read_bytes()[: 3 * MiB])
        head[MiB] ^= 0xFF
        partial_path(dest, sha).write_bytes(bytes(head))
        counter = stats(server)
        before = counter.download_bytes_sent
        transfer.download_blob(c, version, sha, size, dest)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == sha
    assert counter.download_bytes_sent - before == (size - 3 * MiB) + size


def test_a_cache_hit_costs_a_hash_check_not_a_transfer(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "model.bin"
    sha, size = random_file(src, 4 * MiB)
    with server.client() as c:
        transfer.upload_files(c, _parent("cache"), [("model.bin", src)])
        version = make_version(server, "files-test", "cache", "m", [("model.bin", sha, size)])
        first = transfer.download_files(c, version, [("model.bin", sha, size)], tmp_path / "a") / "model.bin"
        counter = stats(server)
        before = counter.download_bytes_sent
        second = transfer.download_files(c, version, [("model.bin", sha, size)], tmp_path / "b") / "model.bin"
        assert counter.download_bytes_sent == before
        # same filesystem: hard links to one read-only inode
        assert first.stat().st_ino == second.stat().st_ino and second.stat().st_nlink >= 3
        assert not second.stat().st_mode & stat.S_IWUSR
        monkeypatch.setenv("STRATA_CACHE_LINK", "copy")
        third = transfer.download_files(c, version, [("model.bin", sha, size)], tmp_path / "c") / "model.bin"
        assert third.stat().st_ino != first.stat().st_ino and third.read_bytes() == src.read_bytes()
        cached = Path(os.environ["STRATA_CACHE_DIR"]) / "blobs" / sha[:2] / sha
        for p in (first, second):
            p.unlink()
        cached.chmod(0o644)
        with open(cached, "r+b") as f:
            f.write(b"corrupt")
        transfer.download_files(c, version, [("model.bin", sha, size)], tmp_path / "d")
    assert counter.download_bytes_sent - before == size  # the corrupt entry was dropped and refetched
    assert hashlib.sha256((tmp_path / "d" / "model.bin").read_bytes()).hexdigest() == sha


def test_the_cache_evicts_least_recently_used_entries_over_its_cap(tmp_path: Path) -> None:
    cache = transfer.BlobCache(tmp_path / "cache", max_bytes=int(2.5 * MiB))
    shas = {}
    for name in "abc":
        p = tmp_path / name
        shas[name] = random_file(p, MiB)[0]
    cache.adopt(shas["a"], MiB, tmp_path / "a")
    cache.adopt(shas["b"], MiB, tmp_path / "b")
    assert cache.evict() == 0
    assert cache.lookup(shas["a"], MiB) is not None  # a is now more recent than b
    cache.adopt(shas["c"], MiB, tmp_path / "c")
    assert cache.evict() == MiB
    present = {n for n, s in shas.items() if cache.path(s).exists()}
    assert present == {"a", "c"}


def test_read_blob_serves_any_window_in_bounded_messages(srv: ServerThread, tmp_path: Path) -> None:
    src = tmp_path / "w.bin"
    sha, size = random_file(src, 3 * MiB + 5)
    data = src.read_bytes()
    with srv.client() as c:
        transfer.upload_files(c, _parent("windows"), [("w.bin", src)])
        draft = make_version(srv, "files-test", "windows", "w", [("w.bin", sha, size)], version=None, state=1)
        for offset, length in [(0, 0), (17, 100), (MiB - 1, MiB + 2), (size, 0), (size - 1, 10)]:
            msgs = list(
                c.registry.ReadBlob(
                    rpb.ReadBlobRequest(version=draft, sha256=sha, offset=offset, length=length)
                )
            )
            assert all(len(m.data) <= MiB for m in msgs)
            got = b"".join(m.data for m in msgs)
            assert got == data[offset : offset + length if length else None]
            assert [m.offset for m in msgs] == [
                offset + sum(len(x.data) for x in msgs[:i]) for i in range(len(msgs))
            ]
        with pytest.raises(StrataError) as e:
            list(c.registry.ReadBlob(rpb.ReadBlobRequest(version=draft, sha256=sha, offset=size + 1)))
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.OUT_OF_RANGE)
        deleted = make_version(srv, "files-test", "windows", "gone", [("w.bin", sha, size)], state=3)
        with pytest.raises(StrataError) as e:
            list(c.registry.ReadBlob(rpb.ReadBlobRequest(version=deleted, sha256=sha)))
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)


def test_batch_read_blobs_answers_each_blob_once_in_order_and_refuses_bad_input(
    srv: ServerThread, tmp_path: Path
) -> None:
    blobs = [os.urandom(n) for n in (1, 700, 5000, 0)]
    files = []
    for i, data in enumerate(blobs):
        (tmp_path / f"f{i}").write_bytes(data)
        files.append((f"f{i}", tmp_path / f"f{i}"))
    big = tmp_path / "big.bin"
    big_sha, big_size = random_file(big, MiB + 1)
    shas = [hashlib.sha256(d).hexdigest() for d in blobs]
    entries = [(f"f{i}", sha, len(d)) for i, (sha, d) in enumerate(zip(shas, blobs, strict=True))]
    with srv.client() as c:
        transfer.upload_files(c, _parent("batch"), [*files, ("big.bin", big)])
        version = make_version(srv, "files-test", "batch", "b", [*entries, ("big.bin", big_sha, big_size)])
        counter = stats(srv)
        before = counter.download_bytes_sent
        asked = [shas[2], shas[0], shas[2], shas[3], shas[1]]
        got = c.registry.BatchReadBlobs(rpb.BatchReadBlobsRequest(version=version, sha256s=asked)).blobs
        assert [(b.digest.sha256, b.digest.size, b.data) for b in got] == [
            (shas[i], len(blobs[i]), blobs[i]) for i in (2, 0, 3, 1)
        ]
        assert counter.download_bytes_sent - before == sum(map(len, blobs))

        def refused(sha256s: list[str], version: str = version) -> tuple[grpc.StatusCode, str, str]:
            with pytest.raises(StrataError) as e:
                c.registry.BatchReadBlobs(rpb.BatchReadBlobsRequest(version=version, sha256s=sha256s))
            return e.value.code, e.value.reason, e.value.field or ""

        invalid = grpc.StatusCode.INVALID_ARGUMENT
        assert refused([]) == (invalid, Reason.FIELD_REQUIRED, "sha256s")
        assert refused([shas[0], "ABC"]) == (invalid, Reason.INVALID_DIGEST, "sha256s[1]")
        assert refused([shas[0], big_sha]) == (invalid, Reason.TOO_LARGE, "sha256s[1]")
        assert refused([f"{i:064x}" for i in range(1001)])[:2] == (invalid, Reason.TOO_LARGE)
        assert refused([shas[0], "0" * 64])[:2] == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)
        deleted = make_version(srv, "files-test", "batch", "gone", entries, state=3)
        assert refused([shas[0]], deleted)[:2] == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)


def test_a_folder_of_small_files_downloads_in_batches_and_a_bad_answer_falls_back_to_a_stream(
    srv: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 small files cost one BatchReadBlobs call, the large one a ReadBlob stream; a blob whose
    batched bytes do not verify is fetched again through the streamed, verified path."""
    files = {f"d{i % 7}/f{i:03d}.txt": tmp_path / "src" / f"f{i:03d}.txt" for i in range(300)}
    for i, p in enumerate(files.values()):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(100 + i * 13))
    files["dup.txt"] = tmp_path / "src" / "dup.txt"
    files["dup.txt"].write_bytes(files["d0/f000.txt"].read_bytes())
    files["big.bin"] = tmp_path / "src" / "big.bin"
    random_file(files["big.bin"], 3 * MiB)
    calls = {"batch": 0, "stream": 0}
    real_read, real_stream = _transfer_batch.BatchReader.read, RpcBlob.read

    def counted_read(self, sha256s):  # type: ignore[no-untyped-def]
        calls["batch"] += 1
        got = real_read(self, sha256s)
        target = hashlib.sha256(files["d1/f001.txt"].read_bytes()).hexdigest()
        if target in got:
            got[target] = b"tampered" + got[target][8:]
        return got

    def counted_stream(self, offset, length):  # type: ignore[no-untyped-def]
        calls["stream"] += 1
        return real_stream(self, offset, length)

    monkeypatch.setattr(_transfer_batch.BatchReader, "read", counted_read)
    monkeypatch.setattr(RpcBlob, "read", counted_stream)
    with srv.client() as c:
        digests = transfer.upload_files(c, _parent("batched"), list(files.items()))
        entries = [(p, d.sha256, d.size) for p, d in digests.items()]
        version = make_version(srv, "files-test", "batched", "small", entries)
        out = transfer.download_files(c, version, entries, tmp_path / "out", progress=False)
    assert calls == {"batch": 1, "stream": 2}  # the big file, and the tampered small one again
    for path, src in files.items():
        assert (out / path).read_bytes() == src.read_bytes()
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".strata-partial")]


# --- run files ---


def test_run_files_attach_list_replace_and_download(server: ServerThread, tmp_path: Path) -> None:
    run = ensure_run(server, "files-test", "runs", "r1")
    ckpt = tmp_path / "e1.pt"
    log = tmp_path / "output.log"
    random_file(ckpt, 3 * MiB)
    log.write_text("epoch 1\n")
    with server.client() as c:
        run_files.upload_run_files(c, run, [("checkpoints/e1.pt", ckpt), ("output.log", log)])
        log.write_text("epoch 1\nepoch 2\n")
        run_files.upload_run_files(c, run, [("output.log", log)])  # attached again: replaced
        listed = run_files.list_run_files(c, run)
        assert [(f.path, f.blob.size) for f in listed] == [("checkpoints/e1.pt", 3 * MiB), ("output.log", 16)]
        page = c.ingest.ListRunFiles(pb.ListRunFilesRequest(run=run, page_size=1))
        assert [f.path for f in page.files] == ["checkpoints/e1.pt"] and page.next_page_token
        rest = c.ingest.ListRunFiles(
            pb.ListRunFilesRequest(run=run, page_size=1, page_token=page.next_page_token)
        )
        assert [f.path for f in rest.files] == ["output.log"] and not rest.next_page_token
        out = run_files.download_run_files(c, run, tmp_path / "out", path_prefix="output")
        assert (out / "output.log").read_text() == "epoch 1\nepoch 2\n"
        assert not (out / "checkpoints").exists()
        with pytest.raises(StrataError) as e:
            c.ingest.ListRunFiles(pb.ListRunFilesRequest(run=run, page_token="garbage!"))
        assert e.value.reason == Reason.INVALID_PAGE_TOKEN


def test_add_run_files_rejects_unsafe_duplicate_unknown_and_missing(server: ServerThread) -> None:
    run = ensure_run(server, "files-test", "runs", "r2")
    data = b"run file"
    d = blob_pb2.BlobDigest(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    with server.client() as c:
        c.ingest.BatchUploadBlobs(
            pb.BatchUploadBlobsRequest(parent=_parent("runs"), blobs=[pb.BlobContent(digest=d, data=data)])
        )
        cases = [
            (run, [("../x", d)], grpc.StatusCode.INVALID_ARGUMENT, Reason.UNSAFE_PATH),
            (run, [("/abs", d)], grpc.StatusCode.INVALID_ARGUMENT, Reason.UNSAFE_PATH),
            (run, [("a", d), ("a", d)], grpc.StatusCode.INVALID_ARGUMENT, Reason.DUPLICATE_PATH),
            (
                run,
                [("a", blob_pb2.BlobDigest(sha256="c" * 64, size=1))],
                grpc.StatusCode.FAILED_PRECONDITION,
                Reason.BLOB_MISSING,
            ),
            (
                run,
                [("a", blob_pb2.BlobDigest(sha256=d.sha256, size=99))],
                grpc.StatusCode.FAILED_PRECONDITION,
                Reason.BLOB_MISSING,
            ),
            (run + "-nope", [("a", d)], grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND),
        ]
        for run_name, files, code, reason in cases:
            req = pb.AddRunFilesRequest(
                run=run_name, files=[upload_pb2.RunFile(path=p, blob=b) for p, b in files]
            )
            with pytest.raises(StrataError) as e:
                c.ingest.AddRunFiles(req)
            assert (e.value.code, e.value.reason) == (code, reason), files
        with pytest.raises(StrataError) as e:
            list(c.ingest.ReadRunFile(pb.ReadRunFileRequest(run=run, path="nothing")))
        assert e.value.code == grpc.StatusCode.NOT_FOUND
    assert sql(
        server, "SELECT count(*) AS n FROM run_files rf JOIN runs r ON r.id = rf.run_id WHERE r.run_id = 'r2'"
    ) == [{"n": 0}]


def test_attaching_run_files_is_audited(server: ServerThread, tmp_path: Path) -> None:
    run = ensure_run(server, "files-test", "runs", "r3")
    f = tmp_path / "a.txt"
    f.write_text("a")
    before = sql(
        server, "SELECT count(*) AS n FROM audit_events WHERE action = 'run_files.add' AND target = $1", run
    )
    with server.client() as c:
        run_files.upload_run_files(c, run, [("a.txt", f)])
    after = sql(
        server, "SELECT count(*) AS n FROM audit_events WHERE action = 'run_files.add' AND target = $1", run
    )
    assert after[0]["n"] == before[0]["n"] + 1


# --- progress ---


def test_progress_is_quiet_off_a_terminal_or_when_asked_and_shows_rate_when_forced(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from strata.sdk._transfer_progress import progress_enabled

    assert progress_enabled(None) is False  # pytest's stderr is not a terminal
    assert progress_enabled(False) is False
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert progress_enabled(None) is True
    monkeypatch.setenv("STRATA_QUIET", "1")
    assert progress_enabled(None) is False
    monkeypatch.undo()
    f = tmp_path / "p.bin"
    random_file(f, 2 * MiB)
    with server.client() as c:
        capsys.readouterr()
        transfer.upload_files(c, _parent("progress"), [("p.bin", f)], progress=False)
        assert capsys.readouterr().err == ""
        g = tmp_path / "q.bin"
        random_file(g, 2 * MiB)
        transfer.upload_files(c, _parent("progress"), [("q.bin", g)], progress=True)
    err = capsys.readouterr().err
    assert "upload 1 file(s)" in err and "2.00M/2.00M" in err and "B/s" in err


def test_cli_puts_lists_and_gets_run_files(
    server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from strata.cli.main import main

    ensure_run(server, "files-test", "cli", "r1")
    logs = tmp_path / "logs"
    (logs / "deep").mkdir(parents=True)
    (logs / "train.log").write_text("loss 0.1\n")
    (logs / "deep" / "eval.log").write_text("f1 0.9\n")
    model = tmp_path / "model.pt"
    random_file(model, 2 * MiB)
    run = "files-test/cli/r1"
    assert main(["--addr", server.addr, "files", "put", run, str(model), str(logs), "-q"]) == 0
    assert "attached 3 file(s)" in capsys.readouterr().out
    assert main(["--addr", server.addr, "files", "ls", run]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in listed] == ["logs/deep/eval.log", "logs/train.log", "model.pt"]
    assert (
        main(
            [
                "--addr",
                server.addr,
                "files",
                "get",
                run,
                "--dest",
                str(tmp_path / "got"),
                "--prefix",
                "logs/",
                "-q",
            ]
        )
        == 0
    )
    assert (tmp_path / "got" / "logs" / "deep" / "eval.log").read_text() == "f1 0.9\n"
    assert not (tmp_path / "got" / "model.pt").exists()
