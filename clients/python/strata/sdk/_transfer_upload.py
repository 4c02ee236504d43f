"""The upload engine behind strata.sdk.transfer.upload_files.

1. Hash every file in a thread pool (hashlib releases the GIL).
2. Ask FindMissingBlobs in batches; answer possession challenges for large blobs other projects
   already stored (ProveBlobPossession: no bytes sent), upload the rest.
3. Small files (<= SMALL_FILE) go in BatchUploadBlobs calls of up to ~4 MiB; larger ones through
   resumable upload sessions, several at once (bounded).

A session's name is remembered in a small state file in the spool folder, keyed by (server, project,
absolute path, size, mtime, sha256): a later process (a retried job, `strata sync`) resumes it from the
server's committed offset instead of starting over, and a changed file never resumes an old session.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import google_crc32c
import grpc

from strata import _settings
from strata._transfer_wire import encode_chunk, encode_session
from strata.client import Client
from strata.common.v1 import blob_pb2
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2

from ._transfer_common import RESUMABLE, MiB, Retrier, bulk_stream_unary, stream_timeout
from ._transfer_progress import Progress

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


def _chunked(items: Sequence, n: int) -> Iterator[Sequence]:  # type: ignore[type-arg]
    for i in range(0, len(items), n):
        yield items[i : i + n]


# --- which blobs to send ---


def find_missing(
    client: Client, parent: str, blobs: Sequence[LocalBlob]
) -> tuple[list[LocalBlob], list[upload_pb2.PossessionChallenge]]:
    missing: list[LocalBlob] = []
    challenges: list[upload_pb2.PossessionChallenge] = []
    by_sha = {b.sha256: b for b in blobs}
    for batch in _chunked(list(by_sha.values()), FIND_BATCH):
        resp = client.ingest.FindMissingBlobs(
            pb.FindMissingBlobsRequest(parent=parent, digests=[b.digest for b in batch])
        )
        missing += [by_sha[d.sha256] for d in resp.missing]
        challenges += list(resp.challenges)
    return missing, challenges


def _proof(blob: LocalBlob, challenge: upload_pb2.PossessionChallenge) -> upload_pb2.PossessionProof:
    h = hashlib.sha256(challenge.nonce)
    with open(blob.path, "rb") as f:
        for r in challenge.ranges:
            f.seek(r.offset)
            h.update(f.read(r.length))
    return upload_pb2.PossessionProof(digest=blob.digest, nonce=challenge.nonce, proof_sha256=h.hexdigest())


def prove_possession(
    client: Client,
    parent: str,
    missing: list[LocalBlob],
    challenges: Sequence[upload_pb2.PossessionChallenge],
    pool: ThreadPoolExecutor,
) -> list[LocalBlob]:
    """Answer challenges; returns the blobs that still must be uploaded."""
    by_sha = {b.sha256: b for b in missing}
    answerable = [c for c in challenges if c.digest.sha256 in by_sha]
    if not answerable:
        return missing
    proofs = list(pool.map(lambda c: _proof(by_sha[c.digest.sha256], c), answerable))
    accepted: set[str] = set()
    for batch in _chunked(proofs, FIND_BATCH):
        resp = client.ingest.ProveBlobPossession(pb.ProveBlobPossessionRequest(parent=parent, proofs=batch))
        accepted |= {d.sha256 for d in resp.accepted}
    return [b for b in missing if b.sha256 not in accepted]


# --- small files ---


def pack_batches(small: Sequence[LocalBlob]) -> list[list[LocalBlob]]:
    batches: list[list[LocalBlob]] = [[]]
    used = 0
    for b in small:
        cost = b.size + 128
        if batches[-1] and used + cost > BATCH_BYTES:
            batches.append([])
            used = 0
        batches[-1].append(b)
        used += cost
    return [b for b in batches if b]


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


class SessionState:
    """The spool file remembering an upload session for one version of one local file."""

    def __init__(self, client: Client, parent: str, blob: LocalBlob) -> None:
        st = blob.path.stat()
        key = f"{client.addr}|{parent}|{blob.path.resolve()}|{blob.size}|{st.st_mtime_ns}|{blob.sha256}"
        self.dir = _settings.spool_dir() / "uploads"
        self.file = self.dir / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".json")

    def load(self) -> str | None:
        try:
            return str(json.loads(self.file.read_text())["session"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, session: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(f".{self.file.name}.{uuid.uuid4().hex[:8]}")
        tmp.write_text(json.dumps({"session": session, "time": time.time()}))
        os.replace(tmp, self.file)

    def clear(self) -> None:
        self.file.unlink(missing_ok=True)


def prune_states(max_age: float = STATE_MAX_AGE) -> None:
    """Forget session files older than any server would keep the session."""
    folder = _settings.spool_dir() / "uploads"
    cutoff = time.time() - max_age
    try:
        for entry in os.scandir(folder):
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
    except OSError:
        pass


class LargeUpload:
    """One file through a resumable session: create or resume, stream the rest, commit."""

    def __init__(self, client: Client, parent: str, blob: LocalBlob, progress: Progress) -> None:
        self.client, self.parent, self.blob, self.progress = client, parent, blob, progress
        self.state = SessionState(client, parent, blob)
        self.retrier = Retrier(client.retry)
        self.counted = 0  # bytes of this file shown in the progress bar

    def run(self) -> None:
        session: upload_pb2.UploadSession | None = None
        restarts = 0
        while session is None or session.state != upload_pb2.UPLOAD_STATE_COMMITTED:
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
        return self.client.ingest.CommitUpload(
            pb.CommitUploadRequest(name=session.name, sha256=self.blob.sha256),
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
        """Encoded UploadChunksRequest messages: the session, then the file from `offset`."""
        yield encode_session(name)
        with open(self.blob.path, "rb") as f:
            f.seek(offset)
            while offset < self.blob.size:
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
        name = self.state.load()
        session = self._get(name) if name else None
        if session is None:
            return None
        if session.state == upload_pb2.UPLOAD_STATE_OPEN or (
            session.state == upload_pb2.UPLOAD_STATE_COMMITTED and session.blob.sha256 == self.blob.sha256
        ):
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
        self.state.save(session.name)
        return session
