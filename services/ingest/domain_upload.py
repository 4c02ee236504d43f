"""Resumable upload sessions (no gRPC, no SQL): create, resume a stream, commit, abort, expire.

A session is a row in upload_sessions plus a multipart upload in the blob store (S3 multipart, or a
temp file in the local folder renamed on commit). Its storage_key is unique per session, so garbage
collection can never delete bytes a concurrent re-upload of the same digest just wrote.

Commit verifies the whole-file sha256 before anything becomes visible. The hash is resumable: each
durable part saves the hash state next to committed_offset (resumable_hash.py), so a session resumed
on a restarted server, or on another replica, still commits without reading anything back. Only when
that state is unavailable (libcrypto missing) does the commit re-read the stored object to hash it; a
mismatch then deletes the object before any blob row exists.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ..common.blobstore import BlobNotFound
from ..common.blobstore.base import Part
from ..common.blobstore.streaming import transfer_stats
from ..common.context import Principal
from ..common.db import DEFAULT_TIMEOUT
from ..common.errors import FailedPrecondition, InvalidArgument, NotFound, Reason
from ..common.logging import get_logger
from ..common.names import ChildName, ProjectName, check_sha256
from ..common.projects import ensure_project
from . import resumable_hash
from . import store_blobs as blob_store
from . import store_upload as store
from .upload_stream import (
    PART_NUMBER_BLOCK,
    ActiveStreams,
    ByteBudget,
    Chunk,
    StreamLimits,
    UploadStream,
    until_stopped,
)

log = get_logger(__name__)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CLOSED_RETENTION = 7 * 86400.0  # closed session rows are kept this long for late GetUploadSession calls


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


class Uploads:
    """Process-wide upload state: the memory budget and the registry of running streams."""

    def __init__(self, deps) -> None:  # type: ignore[no-untyped-def]
        s = deps.settings
        self.deps = deps
        self.pool: asyncpg.Pool = deps.pool
        self.blobs = deps.blobs
        self.budget = ByteBudget(s.upload_buffer)
        self.active = ActiveStreams()
        self.stats = transfer_stats(deps.extras)
        self.limits = StreamLimits(
            part_size=s.upload_part_size,
            max_chunk=s.upload_max_chunk,
            min_part_size=self.blobs.min_part_size,
            max_part_number=self.blobs.max_part_number,
            expiry=s.upload_expiry,
        )

    # --- create / get ---

    async def create(
        self, principal: Principal, parent: ProjectName, expected_size: int, expected_sha256: str
    ) -> SessionView:
        if expected_size < 0:
            raise InvalidArgument("expected_size", Reason.OUT_OF_RANGE, "expected_size must be >= 0")
        if expected_sha256:
            check_sha256(expected_sha256, "expected_sha256")
        session_id = uuid.uuid4().hex
        storage_key = f"blobs/{session_id[:2]}/{session_id}"
        multipart_id = await self.blobs.start_multipart(storage_key)
        hasher = resumable_hash.new()
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn, conn.transaction():
            project = await ensure_project(
                conn, parent, create_entity=self.deps.authorizer.mode == "open-local"
            )
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
        return self._view(parent, row)

    async def get(self, principal: Principal, name: ChildName) -> SessionView:
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            return self._view(name.project, await self._load(conn, principal, name))

    async def _load(self, conn: asyncpg.Connection, principal: Principal, name: ChildName) -> asyncpg.Record:
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
            row = await self._load(conn, principal, name)
        _require_open(row)
        entry = await self.active.enter(name.id)
        try:
            async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
                row = await store.begin_stream(conn, name.id, PART_NUMBER_BLOCK, self.limits.expiry)
            if row is None:
                raise _closed()
            await self._receive(self._open_stream(row), until_stopped(chunks, entry[0]))
        finally:
            self.active.leave(name.id, entry)
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:  # access was checked above
            row = await store.get_session(conn, name.id)
        if row is None:
            raise NotFound("upload session", str(name))
        return self._view(name.project, row)

    def _open_stream(self, row: asyncpg.Record) -> UploadStream:
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
        )

    async def _receive(self, up: UploadStream, chunks: AsyncIterator[Chunk]) -> None:
        start = up.durable
        try:
            async for chunk in chunks:
                await up.feed(chunk)
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
        if row["state"] == store.COMMITTED:
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
            return await blob_store.exists(conn, sha256)

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
            if locked is None or locked["state"] == store.COMMITTED:
                return locked or row  # a concurrent commit of the same session won
            if locked["state"] != store.OPEN:
                raise _closed()
            if stored:
                holder = await blob_store.insert_blob(conn, sha256, row["expected_size"], row["storage_key"])
            else:
                holder = (await blob_store.touch(conn, [sha256])).get(sha256)
                if holder is None:  # collected since we looked: store ours after all
                    await self._complete(row)
                    holder = await blob_store.insert_blob(
                        conn, sha256, row["expected_size"], row["storage_key"]
                    )
                    stored = True
            await blob_store.grant(conn, row["project_id"], [sha256])
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
            await store.close_session(conn, row["id"], store.ABORTED)
        await self._cleanup_parts(row["id"], row["storage_key"], row["multipart_id"], delete_object=True)
        raise InvalidArgument(
            "sha256", Reason.DIGEST_MISMATCH, "the uploaded bytes do not match the expected sha256"
        )

    # --- abort / expiry ---

    async def abort(self, principal: Principal, name: ChildName) -> None:
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            row = await self._load(conn, principal, name)
        if row["state"] == store.COMMITTED:
            raise FailedPrecondition(Reason.UPLOAD_SESSION_CLOSED, "the upload is already committed")
        if row["state"] != store.OPEN:
            return
        await self.active.supersede(name.id)
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn, conn.transaction():
            await store.fence(conn, name.id)
            await store.close_session(conn, name.id, store.ABORTED)
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
        """Expire idle sessions, delete the parts of closed ones, purge stale challenges and rows."""
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            expired = await store.expire_open_sessions(conn, 500)
            leftovers = await store.closed_with_parts(conn, 500)
            purged = await blob_store.purge_challenges(conn)
            deleted = await store.delete_old_closed(conn, max(CLOSED_RETENTION, 2 * self.limits.expiry))
        for r in leftovers:
            await self._cleanup_parts(
                r["id"], r["storage_key"], r["multipart_id"], delete_object=r["state"] != store.COMMITTED
            )
        result = {"expired": expired, "cleaned": len(leftovers), "challenges": purged, "deleted": deleted}
        return {k: v for k, v in result.items() if v}


def _final_digest(row: asyncpg.Record) -> str | None:
    if row["expected_size"] == 0:
        return EMPTY_SHA256
    hasher = resumable_hash.resume(row["hash_state"])
    return hasher.hexdigest() if hasher is not None else None


def _require_open(row: asyncpg.Record) -> None:
    if row["state"] != store.OPEN:
        raise _closed(row["state"])


def _closed(state: int | None = None) -> FailedPrecondition:
    what = {store.COMMITTED: "committed", store.ABORTED: "aborted", store.EXPIRED: "expired"}.get(
        state or 0, "closed"
    )
    return FailedPrecondition(Reason.UPLOAD_SESSION_CLOSED, f"the upload session is {what}")


def uploads_of(deps) -> Uploads:  # type: ignore[no-untyped-def]
    """The process-wide Uploads object (handlers and the expiry task share it)."""
    uploads = deps.extras.get("uploads")
    if uploads is None:
        uploads = deps.extras["uploads"] = Uploads(deps)
    return uploads
