"""The upload engine behind strata.sdk.transfer.upload_files.

1. Hash every file in a thread pool (hashlib releases the GIL).
2. Ask FindMissingBlobs in batches which blobs the project does not hold yet, and upload those (a
   blob other projects hold is uploaded too: the server verifies it and stores no second copy).
3. Small files (<= SMALL_FILE) go in BatchUploadBlobs calls of up to ~4 MiB; larger ones through
   resumable upload sessions, several at once (bounded).

A session's name is remembered in a small state file in the spool folder, keyed by (server, project,
absolute path, size, mtime, sha256): a later process (a retried job, `strata sync`) resumes it from the
server's committed offset instead of starting over, and a changed file never resumes an old session.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import google_crc32c
import grpc

from strata import _settings
from strata.client import Client
from strata.common.v1 import blob_pb2
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2
from strata.wire.transfer import encode_chunk, encode_session

from ._transfer_common import RESUMABLE, MiB, Retrier, bulk_stream_unary, packed, stream_timeout
from ._transfer_progress import Progress

T = TypeVar("T")

SMALL_FILE = 1 * MiB
BATCH_BYTES = 4 * MiB - 64 * 1024  # leaves room for per-blob framing under the server's 4 MiB limit
FIND_BATCH = 5000
CHUNK = 4 * MiB
STATE_MAX_AGE = 7 * 86400.0
UPLOAD_CHUNKS = "/strata.ingest.v1.IngestService/UploadChunks"


@dataclass(frozen=True)
class LocalBlob:
    path: Path
    sha256: str
    size: int

    @property
    def digest(self) -> blob_pb2.BlobDigest:
        return blob_pb2.BlobDigest(sha256=self.sha256, size=self.size)


def _chunked(items: Sequence[T], n: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


# --- which blobs to send ---


def find_missing(client: Client, parent: str, blobs: Sequence[LocalBlob]) -> list[LocalBlob]:
    """The blobs the project does not hold yet (they must be uploaded)."""
    missing: list[LocalBlob] = []
    by_sha = {b.sha256: b for b in blobs}
    for batch in _chunked(list(by_sha.values()), FIND_BATCH):
        resp = client.ingest.FindMissingBlobs(
            pb.FindMissingBlobsRequest(parent=parent, digests=[b.digest for b in batch])
        )
        missing += [by_sha[d.sha256] for d in resp.missing]
    return missing


# --- small files ---


def pack_batches(small: Sequence[LocalBlob]) -> list[list[LocalBlob]]:
    """BatchUploadBlobs calls of at most BATCH_BYTES (each blob counted with 128 bytes of framing)."""
    return list(packed(small, lambda b: b.size + 128, sys.maxsize, BATCH_BYTES))


def upload_batch(client: Client, parent: str, batch: Sequence[LocalBlob], progress: Progress) -> None:
    contents = []
    for b in batch:
        data = b.path.read_bytes()
        if len(data) != b.size or hashlib.sha256(data).hexdigest() != b.sha256:
            raise _changed(b.path)
        contents.append(pb.BlobContent(digest=b.digest, data=data))
    client.ingest.BatchUploadBlobs(pb.BatchUploadBlobsRequest(parent=parent, blobs=contents), timeout=120)
    progress.update(sum(b.size for b in batch))


def _changed(path: Path) -> StrataError:
    return StrataError(
        grpc.StatusCode.FAILED_PRECONDITION,
        Reason.DIGEST_MISMATCH,
        f"{path} changed while it was being uploaded; nothing was committed for it",
    )


# --- large files: resumable sessions ---


def _file_key(client: Client, path: Path, st: os.stat_result, scope: str) -> str:
    key = f"{client.addr}|{scope}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(key.encode()).hexdigest()[:40] + ".json"


class SessionState:
    """The spool file remembering an upload session for one version (size, mtime) of one local file,
    and the file's sha256 once known (a speculative upload starts before hashing ends)."""

    def __init__(self, client: Client, parent: str, path: Path) -> None:
        self.dir = _settings.spool_dir() / "uploads"
        self.file = self.dir / _file_key(client, path, path.stat(), parent)

    def load(self) -> tuple[str, str] | None:
        """(session name, sha256 of the file or "" when it was not known yet)."""
        try:
            data = json.loads(self.file.read_text())
            return str(data["session"]), str(data.get("sha256") or "")
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, session: str, sha256: str = "") -> None:
        _write_json(self.file, {"session": session, "sha256": sha256, "time": time.time()})

    def clear(self) -> None:
        self.file.unlink(missing_ok=True)


class UploadedHint:
    """ "This version (size, mtime) of this file was stored on this server before": a hint, never a
    digest. With it, upload_files hashes a large file before sending anything (the unchanged
    re-upload costs a hash and FindMissingBlobs); without it, it uploads while hashing (speculation).
    A stale hint only costs that overlap, never correctness: the content is always hashed."""

    def __init__(self, client: Client, path: Path, st: os.stat_result) -> None:
        self.file = _settings.spool_dir() / "uploaded" / _file_key(client, path, st, "")

    def exists(self) -> bool:
        return self.file.exists()

    def save(self) -> None:
        with contextlib.suppress(OSError):
            _write_json(self.file, {"time": time.time()})


def _write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def prune_states(max_age: float = STATE_MAX_AGE) -> None:
    """Forget session files and hints older than any server would keep the session."""
    cutoff = time.time() - max_age
    for sub in ("uploads", "uploaded"):
        try:
            for entry in os.scandir(_settings.spool_dir() / sub):
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
        except OSError:
            pass


class LargeUpload:
    """One file through a resumable session: create or resume, stream the rest, commit.

    Speculative mode (the caller sets `digest` to the future of the hash): the file is still being
    hashed on another thread. The session
    starts without an expected sha256; the commit waits for the digest and sends it, so the server
    still verifies the whole file. When the hashing thread finds that the project already holds the
    blob it sets `present`: the stream stops at the next chunk and the session is aborted.
    """

    def __init__(
        self,
        client: Client,
        parent: str,
        blob: LocalBlob,
        progress: Progress,
    ) -> None:
        self.client, self.parent, self.blob, self.progress = client, parent, blob, progress
        self.state = SessionState(client, parent, blob.path)
        self.retrier = Retrier(client.retry)
        self.counted = 0  # bytes of this file shown in the progress bar
        self.digest: Future[LocalBlob] | None = None
        self.present = threading.Event()
        self.session_name = ""
        self.unverified = False  # resumed a session whose content's sha256 was never compared to ours

    def run(self) -> bool:
        """True once the blob is committed; False when the server turned out to hold it already."""
        session: upload_pb2.UploadSession | None = None
        restarts = 0
        while session is None or session.state != upload_pb2.UPLOAD_STATE_COMMITTED:
            if self.present.is_set():
                self._abandon()
                return False
            try:
                if session is None:
                    session = self._resume() or self._create()
                elif session.state != upload_pb2.UPLOAD_STATE_OPEN:
                    session = self._refresh(session)
                else:
                    session = self._attempt(session)
            except StrataError as e:
                if e.reason == Reason.UPLOAD_SESSION_CLOSED and restarts < 2:
                    restarts += 1  # expired or aborted meanwhile: start a new session
                    self.state.clear()
                    session = None
                    continue
                if e.reason == Reason.DIGEST_MISMATCH and self.unverified and restarts < 2:
                    restarts += 1  # the resumed session held bytes of an older version: start over
                    self.unverified = False
                    self.state.clear()
                    session = None
                    continue
                if e.reason == Reason.CHUNK_OFFSET_MISMATCH and restarts < 4:
                    restarts += 1  # another writer moved the offset since we read it: re-read, go on
                    session = upload_pb2.UploadSession(name=session.name) if session else None
                    continue
                if e.code not in RESUMABLE:
                    self.state.clear()
                    raise
                self.retrier.backoff(e)
                session = upload_pb2.UploadSession(name=session.name) if session else None  # re-read it
        self.state.clear()
        self._count(self.blob.size)
        return True

    def sha256(self) -> str:
        """The file's sha256 (in speculative mode: waits for the hashing thread)."""
        if self.digest is not None and not self.blob.sha256:
            hashed = self.digest.result()
            if hashed.size != self.blob.size:
                self._abandon()
                raise _changed(self.blob.path)
            self.blob = hashed
        return self.blob.sha256

    def note_digest(self, sha256: str) -> None:
        """Called by the hashing thread: remember the sha256 next to the session for later resumes."""
        if self.session_name:
            with contextlib.suppress(OSError):
                self.state.save(self.session_name, sha256)

    def _abandon(self) -> None:
        """The blob is there already: drop our session and its parts (best effort: they expire)."""
        if self.session_name:
            with contextlib.suppress(StrataError):
                self.client.ingest.AbortUpload(pb.AbortUploadRequest(name=self.session_name))
        self.state.clear()
        self._count(self.blob.size)

    def _refresh(self, session: upload_pb2.UploadSession) -> upload_pb2.UploadSession:
        fresh = self._get(session.name)
        if fresh is None or fresh.state not in (
            upload_pb2.UPLOAD_STATE_OPEN,
            upload_pb2.UPLOAD_STATE_COMMITTED,
        ):
            self.state.clear()
            return self._create()
        return fresh

    def _attempt(self, session: upload_pb2.UploadSession) -> upload_pb2.UploadSession:
        start = session.committed_offset
        self._count(start)
        if start < self.blob.size:
            session = self._send(session)
            if session.committed_offset > start:
                self.retrier.made_progress()
            if session.committed_offset < self.blob.size:
                return session  # the stream ended early; go again from the committed offset
        sha256 = self.sha256()
        if self.present.is_set():
            return session  # run() abandons it
        return self.client.ingest.CommitUpload(
            pb.CommitUploadRequest(name=session.name, sha256=sha256),
            timeout=120 + self.blob.size / 50e6,
        ).session

    def _send(self, session: upload_pb2.UploadSession) -> upload_pb2.UploadSession:
        chunk = min(CHUNK, session.max_chunk_size or CHUNK)
        requests = self._requests(session.name, session.committed_offset, chunk)
        remaining = self.blob.size - session.committed_offset
        resp = bulk_stream_unary(
            self.client,
            UPLOAD_CHUNKS,
            requests,
            pb.UploadChunksResponse.FromString,
            stream_timeout(remaining),
        )
        return resp.session

    def _requests(self, name: str, offset: int, chunk: int) -> Iterator[bytes]:
        """Encoded UploadChunksRequest messages: the session, then the file from `offset` (until the
        blob turns out to be present already)."""
        yield encode_session(name)
        with open(self.blob.path, "rb") as f:
            f.seek(offset)
            while offset < self.blob.size and not self.present.is_set():
                data = f.read(min(chunk, self.blob.size - offset))
                if not data:
                    return  # the file shrank: the commit will not match, reported there
                yield encode_chunk(offset, data, google_crc32c.value(data))
                offset += len(data)
                self._count(offset)

    def _count(self, upto: int) -> None:
        delta = upto - self.counted
        self.counted = upto
        self.progress.update(delta)

    def _resume(self) -> upload_pb2.UploadSession | None:
        saved = self.state.load()
        if saved is None:
            return None
        name, saved_sha = saved
        if saved_sha and self.blob.sha256 and saved_sha != self.blob.sha256:
            self.state.clear()  # a session for other content of this file (same size and mtime)
            return None
        session = self._get(name)
        if session is None:
            return None
        if session.state == upload_pb2.UPLOAD_STATE_OPEN:
            self.session_name = name
            self.unverified = not (saved_sha and self.blob.sha256)
            return session
        if session.state == upload_pb2.UPLOAD_STATE_COMMITTED and session.blob.sha256 == self.sha256():
            return session
        self.state.clear()
        return None

    def _get(self, name: str) -> upload_pb2.UploadSession | None:
        try:
            return self.client.ingest.GetUploadSession(pb.GetUploadSessionRequest(name=name)).session
        except StrataError as e:
            if e.code == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def _create(self) -> upload_pb2.UploadSession:
        session = self.client.ingest.CreateUploadSession(
            pb.CreateUploadSessionRequest(
                parent=self.parent, expected_size=self.blob.size, expected_sha256=self.blob.sha256
            )
        ).session
        self.session_name = session.name
        self.unverified = False
        self.state.save(session.name, self.blob.sha256)
        return session
