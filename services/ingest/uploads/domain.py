"""Uploads (no gRPC, no SQL): resumable upload sessions, content addressing and blob access.

Upload sessions: create, resume a stream, commit, abort, expire. A session is a row in upload_sessions
plus a multipart upload in the blob store (S3 multipart, or a temp file in the local folder renamed on
commit). Its storage_key is unique per session, so garbage collection can never delete bytes a
concurrent re-upload of the same digest just wrote.

Commit verifies the whole-file sha256 before anything becomes visible. The hash is resumable: each
durable part saves the hash state next to committed_offset (uploads/resumable_hash.py), so a session
resumed on a restarted server, or on another replica, still commits without reading anything back.
Only when that state is unavailable (libcrypto missing) does the commit re-read the stored object to
hash it; a mismatch then deletes the object before any blob row exists.

Dedupe vs. access. Bytes are stored once per sha256 across every project. A project may reference a
blob (in a manifest or as a run file) only once it uploaded the whole content itself (project_blobs),
so neither a digest seen in a log nor part of the content grants anything. FindMissingBlobs looks only
at the caller's project: a blob stored for other projects and a blob stored nowhere take the same
path and get the same answer ("missing"), so it tells nobody what other projects hold. The client then
uploads; the commit (or BatchUploadBlobs) verifies the sha256 of what arrived and deduplicates storage
silently, so nothing new is stored either way. ProveBlobPossession is kept for old clients and rejects
every proof (sampled windows prove possession of the windows, not of the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ...common.blobstore import BlobNotFound
from ...common.blobstore.base import Part
from ...common.blobstore.streaming import transfer_stats
from ...common.context import Principal
from ...common.db import DEFAULT_TIMEOUT, Conn
from ...common.deps import Deps
from ...common.errors import FailedPrecondition, InvalidArgument, NotFound, Reason
from ...common.logging import get_logger
from ...common.names import ChildName, ProjectName, check_sha256
from ...common.projects import ensure_project, get_project
from . import resumable_hash, store
from .budget import ByteBudget
from .limits import StreamSlots, check_declared_size, check_open_sessions
from .states import ABORTED, COMMITTED, EXPIRED, OPEN
from .stream import (
    PART_NUMBER_BLOCK,
    ActiveStreams,
    Chunk,
    StreamLimits,
    UploadStream,
    until_stopped,
)

log = get_logger(__name__)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CLOSED_RETENTION = 7 * 86400.0  # closed session rows are kept this long for late GetUploadSession calls
MAX_DIGESTS = 10_000
BATCH_MAX_BYTES = 4 * 1024 * 1024
PUT_CONCURRENCY = 16


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int


@dataclass(frozen=True)
class SessionView:
    name: str
    expected_size: int
    expected_sha256: str
    committed_offset: int
    max_chunk_size: int
    state: int
    create_time: datetime
    expire_time: datetime
    blob: Digest | None


def check_digest(sha256: str, size: int, field: str) -> Digest:
    check_sha256(sha256, f"{field}.sha256")
    if size < 0:
        raise InvalidArgument(f"{field}.size", Reason.INVALID_DIGEST, f"{field}.size must be >= 0")
    return Digest(sha256, size)


@dataclass(frozen=True)
class Proof:
    digest: Digest
    nonce: bytes
    proof_sha256: str


def check_digests(digests: Sequence[Digest], field: str) -> list[Digest]:
    if len(digests) > MAX_DIGESTS:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, f"at most {MAX_DIGESTS} digests per call")
    return [check_digest(d.sha256, d.size, f"{field}[{i}]") for i, d in enumerate(digests)]


async def require_held(conn: Conn, project_id: int, blobs: Sequence[Digest], field: str) -> None:
    """Lock `blobs` against GC (until the transaction ends); BLOB_MISSING for the first one the
    project did not upload, named as `field[i]`."""
    held = await store.lock_for_reference(conn, project_id, [b.sha256 for b in blobs])
    usable = {(r["sha256"], r["size"]) for r in held if r["mine"]}
    for i, b in enumerate(blobs):
        if (b.sha256, b.size) not in usable:
            raise FailedPrecondition(
                Reason.BLOB_MISSING,
                f"{field}[{i}]: blob {b.sha256} was not uploaded to this project",
                sha256=b.sha256,
            )


class Uploads:
    """Process-wide upload state: the memory budget and the registry of running streams."""

    def __init__(self, deps: Deps) -> None:
        s = deps.settings
        self.deps = deps
        self.pool: asyncpg.Pool = deps.pool
        self.blobs = deps.blobs
        self.budget = ByteBudget(s.upload_buffer, s.upload_buffer_per_principal or s.upload_buffer // 2)
        self.active = ActiveStreams()
        self.stats = transfer_stats(deps.extras)
        self.limits = StreamLimits(
            part_size=s.upload_part_size,
            max_chunk=s.upload_max_chunk,
            min_part_size=self.blobs.min_part_size,
            max_part_number=self.blobs.max_part_number,
            expiry=s.upload_expiry,
            idle=s.upload_idle_seconds,
        )
        self.slots = StreamSlots(s.upload_streams_per_principal)
        self.max_blob_bytes = s.max_blob_bytes
        self.sessions_per_principal = s.upload_sessions_per_principal

    # --- create / get ---

    async def create(
        self, principal: Principal, parent: ProjectName, expected_size: int, expected_sha256: str
    ) -> SessionView:
        check_declared_size(expected_size, self.max_blob_bytes)
        if expected_sha256:
            check_sha256(expected_sha256, "expected_sha256")
        session_id = uuid.uuid4().hex
        storage_key = f"blobs/{session_id[:2]}/{session_id}"
        multipart_id = await self.blobs.start_multipart(storage_key)
        hasher = resumable_hash.new()
        try:
            async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn, conn.transaction():
                project = await ensure_project(
                    conn, parent, create_entity=self.deps.authorizer.mode == "open-local"
                )
                await check_open_sessions(conn, principal.name, self.sessions_per_principal)
                row = await store.insert_session(
                    conn,
                    session_id=session_id,
                    project_id=project.id,
                    owner=principal.name,
                    expected_size=expected_size,
                    expected_sha256=expected_sha256,
                    storage_key=storage_key,
                    multipart_id=multipart_id,
                    hash_state=hasher.state() if hasher else None,
                    expiry=self.limits.expiry,
                )
        except BaseException:
            with contextlib.suppress(Exception):  # refused: leave no multipart upload behind
                await self.blobs.abort_multipart(storage_key, multipart_id)
            raise
        return self._view(parent, row)

    async def get(self, principal: Principal, name: ChildName) -> SessionView:
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            return self._view(name.project, await self._load(conn, principal, name))

    async def _load(self, conn: Conn, principal: Principal, name: ChildName) -> asyncpg.Record:
        """The session, if it exists in that project and belongs to the caller (else NOT_FOUND)."""
        row = await store.get_session(conn, name.id, in_project=(name.project.entity, name.project.project))
        if row is None or row["owner_name"] != principal.name:
            raise NotFound("upload session", str(name))
        return row

    def _view(self, project: ProjectName, row: asyncpg.Record) -> SessionView:
        blob = Digest(row["blob_sha256"], row["expected_size"]) if row["blob_sha256"] else None
        return SessionView(
            name=f"{project}/uploads/{row['id']}",
            expected_size=row["expected_size"],
            expected_sha256=row["expected_sha256"],
            committed_offset=row["committed_offset"],
            max_chunk_size=self.limits.max_chunk,
            state=row["state"],
            create_time=row["create_time"],
            expire_time=row["expire_time"],
            blob=blob,
        )

    # --- streaming ---

    async def stream(
        self, principal: Principal, name: ChildName, chunks: AsyncIterator[Chunk]
    ) -> SessionView:
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            loaded = await self._load(conn, principal, name)
        _require_open(loaded)
        entry = await self.active.enter(name.id)  # an older stream of this session ends (and frees its slot)
        try:
            with self.slots.hold(principal.name):
                async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
                    row = await store.begin_stream(conn, name.id, PART_NUMBER_BLOCK, self.limits.expiry)
                if row is None:
                    raise _closed()
                stream = until_stopped(chunks, entry[0], idle=self.limits.idle, lull=self.limits.lull)
                await self._receive(self._open_stream(row, principal.name), stream)
        finally:
            self.active.leave(name.id, entry)
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:  # access was checked above
            row = await store.get_session(conn, name.id)
        if row is None:
            raise NotFound("upload session", str(name))
        return self._view(name.project, row)

    def _open_stream(self, row: asyncpg.Record, principal: str) -> UploadStream:
        offset = row["committed_offset"]
        hasher = resumable_hash.resume(row["hash_state"])
        if hasher is None and offset == 0:
            hasher = resumable_hash.new()
        return UploadStream(
            pool=self.pool,
            blobs=self.blobs,
            budget=self.budget,
            limits=self.limits,
            session_id=row["id"],
            storage_key=row["storage_key"],
            multipart_id=row["multipart_id"],
            expected_size=row["expected_size"],
            epoch=row["writer_epoch"],
            durable=offset,
            next_number=row["first_part"],
            numbers_left=PART_NUMBER_BLOCK,
            hasher=hasher,
            principal=principal,
        )

    async def _receive(self, up: UploadStream, chunks: AsyncIterator[Chunk | None]) -> None:
        start = up.durable
        try:
            async for chunk in chunks:
                await (up.lull() if chunk is None else up.feed(chunk))
            await up.finish()
        except BaseException:
            await up.salvage()
            raise
        finally:
            self.stats.upload_bytes_received += up.received - start
            log.info(
                "upload_stream_end",
                session=up.session_id,
                start_offset=start,
                received=up.received - start,
                committed_offset=up.durable,
            )

    # --- commit ---

    async def commit(
        self, principal: Principal, name: ChildName, client_sha256: str
    ) -> tuple[SessionView, Digest]:
        if client_sha256:
            check_sha256(client_sha256, "sha256")
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            row = await self._load(conn, principal, name)
        if row["state"] == COMMITTED:
            return self._view(name.project, row), Digest(row["blob_sha256"], row["expected_size"])
        _require_open(row)
        if row["committed_offset"] < row["expected_size"]:
            raise FailedPrecondition(
                Reason.UPLOAD_INCOMPLETE,
                f"only {row['committed_offset']} of {row['expected_size']} bytes arrived",
                committed_offset=str(row["committed_offset"]),
            )
        expected = {row["expected_sha256"], client_sha256} - {""}
        digest = _final_digest(row)
        if digest is not None and expected - {digest}:
            await self._reject(row)
        existing = await self._existing(digest) if digest else False
        if not existing:
            await self._complete(row)
            if digest is None:
                digest = await self._rehash(row["storage_key"])
                if expected - {digest}:
                    await self._reject(row)
        assert digest is not None
        final = await self._make_visible(row, digest, stored=not existing)
        return self._view(name.project, final), Digest(digest, row["expected_size"])

    async def _existing(self, sha256: str) -> bool:
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            return await store.exists(conn, sha256)

    async def _complete(self, row: asyncpg.Record) -> None:
        key, upload_id = row["storage_key"], row["multipart_id"]
        if row["expected_size"] == 0:
            await self.blobs.put(key, b"")
            await self.blobs.abort_multipart(key, upload_id)
            return
        parts = [Part(**p) for p in json.loads(row["parts"])]
        try:
            await self.blobs.complete_multipart(key, upload_id, parts)
        except BlobNotFound:
            # completed by an earlier commit attempt whose answer was lost
            if await self.blobs.size(key) != row["expected_size"]:
                raise

    async def _rehash(self, key: str) -> str:
        h = hashlib.sha256()
        async for chunk in self.blobs.read(key, chunk_size=8 << 20):
            await asyncio.to_thread(h.update, chunk)
        return h.hexdigest()

    async def _make_visible(self, row: asyncpg.Record, sha256: str, *, stored: bool) -> asyncpg.Record:
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn, conn.transaction():
            locked = await store.get_session(conn, row["id"], lock=True)
            if locked is None or locked["state"] == COMMITTED:
                return locked or row  # a concurrent commit of the same session won
            if locked["state"] != OPEN:
                raise _closed()
            if stored:
                holder: str | None = await store.insert_blob(
                    conn, sha256, row["expected_size"], row["storage_key"]
                )
            else:
                holder = (await store.touch(conn, [sha256])).get(sha256)
                if holder is None:  # collected since we looked: store ours after all
                    await self._complete(row)
                    holder = await store.insert_blob(conn, sha256, row["expected_size"], row["storage_key"])
                    stored = True
            await store.grant(conn, row["project_id"], [sha256])
            final = await store.mark_committed(conn, row["id"], sha256, keep_multipart=not stored)
        if stored and holder != row["storage_key"]:
            await self.blobs.delete(row["storage_key"])  # deduplicated at commit: keep one copy
        if not stored:
            await self._cleanup_parts(row["id"], row["storage_key"], row["multipart_id"], delete_object=False)
        return final

    async def _reject(self, row: asyncpg.Record) -> None:
        """Digest mismatch: abort the session, delete whatever was stored, make nothing visible."""
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn, conn.transaction():
            await store.fence(conn, row["id"])
            await store.close_session(conn, row["id"], ABORTED)
        await self._cleanup_parts(row["id"], row["storage_key"], row["multipart_id"], delete_object=True)
        raise InvalidArgument(
            "sha256", Reason.DIGEST_MISMATCH, "the uploaded bytes do not match the expected sha256"
        )

    # --- abort / expiry ---

    async def abort(self, principal: Principal, name: ChildName) -> None:
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            row = await self._load(conn, principal, name)
        if row["state"] == COMMITTED:
            raise FailedPrecondition(Reason.UPLOAD_SESSION_CLOSED, "the upload is already committed")
        if row["state"] != OPEN:
            return
        await self.active.supersede(name.id)
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn, conn.transaction():
            await store.fence(conn, name.id)
            await store.close_session(conn, name.id, ABORTED)
        await self._cleanup_parts(name.id, row["storage_key"], row["multipart_id"], delete_object=True)

    async def _cleanup_parts(self, session_id: str, key: str, upload_id: str, *, delete_object: bool) -> None:
        """Delete a closed session's parts (best effort: the expiry pass retries what fails)."""
        try:
            if upload_id:
                await self.blobs.abort_multipart(key, upload_id)
            if delete_object:
                await self.blobs.delete(key)
            async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
                await store.clear_multipart(conn, session_id)
        except Exception as e:
            log.warning("upload_cleanup_deferred", session=session_id, error=type(e).__name__)

    async def expire_pass(self) -> dict[str, int]:
        """Expire idle sessions, delete the parts of closed ones, purge old closed rows."""
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            expired = await store.expire_open_sessions(conn, 500)
            leftovers = await store.closed_with_parts(conn, 500)
            deleted = await store.delete_old_closed(conn, max(CLOSED_RETENTION, 2 * self.limits.expiry))
        for r in leftovers:
            await self._cleanup_parts(
                r["id"], r["storage_key"], r["multipart_id"], delete_object=r["state"] != COMMITTED
            )
        result = {"expired": expired, "cleaned": len(leftovers), "deleted": deleted}
        return {k: v for k, v in result.items() if v}


def _final_digest(row: asyncpg.Record) -> str | None:
    if row["expected_size"] == 0:
        return EMPTY_SHA256
    hasher = resumable_hash.resume(row["hash_state"])
    return hasher.hexdigest() if hasher is not None else None


def _require_open(row: asyncpg.Record) -> None:
    if row["state"] != OPEN:
        raise _closed(row["state"])


def _closed(state: int | None = None) -> FailedPrecondition:
    names: dict[int, str] = {COMMITTED: "committed", ABORTED: "aborted", EXPIRED: "expired"}
    what = names.get(state or 0, "closed")
    return FailedPrecondition(Reason.UPLOAD_SESSION_CLOSED, f"the upload session is {what}")


def uploads_of(deps: Deps) -> Uploads:
    """The process-wide Uploads object (handlers and the expiry task share it)."""
    uploads = deps.extras.get("uploads")
    if not isinstance(uploads, Uploads):
        uploads = deps.extras["uploads"] = Uploads(deps)
    return uploads


class BlobAccess:
    """Content addressing for one call: which blobs a project must upload (FindMissingBlobs), the
    retired proof of possession (ProveBlobPossession), and small-blob batches (BatchUploadBlobs)."""

    def __init__(self, deps: Deps, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.deps = deps
        self.timeout = timeout  # the caller's remaining deadline (db.timeout_from)
        self.pool: asyncpg.Pool = deps.pool
        self.blobs = deps.blobs

    def _create_entity(self) -> bool:
        return self.deps.authorizer.mode == "open-local"

    # --- FindMissingBlobs ---

    async def find_missing(
        self, principal: Principal, parent: ProjectName, digests: Sequence[Digest]
    ) -> list[Digest]:
        """The digests this project does not hold. Only the project's own blobs are consulted: a
        digest other projects hold is answered exactly like one nobody holds."""
        if not digests:
            raise InvalidArgument("digests", Reason.FIELD_REQUIRED, "at least one digest is required")
        wanted = list(dict.fromkeys(check_digests(digests, "digests")))
        async with self.pool.acquire(timeout=self.timeout) as conn, conn.transaction():
            project = await ensure_project(conn, parent, create_entity=self._create_entity())
            held = await store.held_by(conn, project.id, [d.sha256 for d in wanted])
            present = {d for d in wanted if held.get(d.sha256) == d.size}
            await store.touch(conn, [d.sha256 for d in present])
        return [d for d in wanted if d not in present]

    # --- ProveBlobPossession ---

    async def prove(
        self, principal: Principal, parent: ProjectName, proofs: Sequence[Proof]
    ) -> tuple[list[Digest], list[Digest]]:
        """(accepted, rejected): every well-formed proof is rejected, whatever it says, and nothing is
        read or granted; the client uploads those blobs instead (the commit deduplicates them)."""
        if not proofs:
            raise InvalidArgument("proofs", Reason.FIELD_REQUIRED, "at least one proof is required")
        if len(proofs) > MAX_DIGESTS:
            raise InvalidArgument("proofs", Reason.OUT_OF_RANGE, f"at most {MAX_DIGESTS} proofs per call")
        for i, p in enumerate(proofs):
            check_digest(p.digest.sha256, p.digest.size, f"proofs[{i}].digest")
        async with self.pool.acquire(timeout=self.timeout) as conn:
            await get_project(conn, parent)  # NOT_FOUND for a project that does not exist, as before
        return [], [p.digest for p in proofs]

    # --- BatchUploadBlobs ---

    async def batch_upload(
        self,
        principal: Principal,
        parent: ProjectName,
        blobs: Sequence[tuple[Digest, bytes]],
        request_size: int,
    ) -> list[Digest]:
        if request_size > BATCH_MAX_BYTES:
            raise InvalidArgument(
                "blobs", Reason.TOO_LARGE, f"a batch may carry at most {BATCH_MAX_BYTES} bytes"
            )
        transfer_stats(self.deps.extras).upload_bytes_received += sum(len(data) for _, data in blobs)
        await asyncio.to_thread(_verify_contents, blobs)
        unique = {d.sha256: (d, data) for d, data in blobs}
        async with self.pool.acquire(timeout=self.timeout) as conn:
            project = await ensure_project(conn, parent, create_entity=self._create_entity())
            existing = {r["sha256"] for r in await store.lookup(conn, project.id, list(unique))}
        fresh = [unique[sha] for sha in unique if sha not in existing]
        for _ in range(2):  # a second round only if GC removed an "existing" blob meanwhile
            vanished = await self._store_batch(project.id, fresh, sorted(existing))
            if not vanished:
                break
            fresh, existing = [unique[sha] for sha in vanished], set()
        return [d for d, _ in blobs]

    async def _store_batch(
        self, project_id: int, fresh: list[tuple[Digest, bytes]], existing: list[str]
    ) -> list[str]:
        """Put the new blobs, then make everything visible in one transaction; returns vanished shas."""
        keys = {d.sha256: f"blobs/{d.sha256[:2]}/{d.sha256}.{uuid.uuid4().hex[:12]}" for d, _ in fresh}
        sem = asyncio.Semaphore(PUT_CONCURRENCY)

        async def put(d: Digest, data: bytes) -> None:
            async with sem:
                await self.blobs.put(keys[d.sha256], data)

        await asyncio.gather(*(put(d, data) for d, data in fresh))
        redundant: list[str] = []
        try:
            async with self.pool.acquire(timeout=self.timeout) as conn, conn.transaction():
                holders = await store.insert_blobs(
                    conn, [(d.sha256, d.size, keys[d.sha256]) for d, _ in fresh]
                )
                redundant += [key for sha, key in keys.items() if holders.get(sha) != key]
                kept = set(await store.touch(conn, existing))
                await store.grant(conn, project_id, [d.sha256 for d, _ in fresh] + sorted(kept))
        except BaseException:
            redundant = list(keys.values())
            raise
        finally:
            await asyncio.gather(*(self.blobs.delete(k) for k in redundant), return_exceptions=True)
        return [sha for sha in existing if sha not in kept]


def _verify_contents(blobs: Sequence[tuple[Digest, bytes]]) -> None:
    for i, (d, data) in enumerate(blobs):
        check_digest(d.sha256, d.size, f"blobs[{i}].digest")
        if len(data) != d.size or hashlib.sha256(data).hexdigest() != d.sha256:
            raise InvalidArgument(
                f"blobs[{i}].data",
                Reason.DIGEST_MISMATCH,
                f"blob {i} does not match its digest; nothing was stored",
            )
