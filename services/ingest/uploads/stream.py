"""One UploadChunks stream: validate chunks, gather them into blob-store parts, upload parts
concurrently (bounded) while receiving the next chunks, and record durable parts in order.

Pipeline per stream:
  chunks --validate--> part buffer --(full)--> hash (thread) --> part upload task (blob store thread)
  finished parts, in offset order --> one UPDATE (committed_offset, parts, hash_state), epoch-fenced
committed_offset therefore only moves past bytes that are durable in the blob store, and the saved
hash state always matches exactly those bytes. At most `max_parallel` parts are in flight per stream,
and all streams of the process share a ByteBudget (STRATA_UPLOAD_BUFFER): when it is spent a stream
stops reading, and gRPC flow control pushes back on the client. No whole file is ever in memory.

Fairness (uploads/budget.py holds the budget). Memory is reserved as chunks arrive, never for a whole
part ahead of its bytes: a part starts by reserving its first chunk, or the blob store's minimum part
size when that is larger (S3: 5 MiB; local folder: 1 byte), waiting in line while it holds nothing;
each later chunk adds its own bytes. A stream that needs more while the budget is contended first
sends what it holds (when the blob store takes a part that small) and starts a new part; below the
minimum part size it takes the few bytes it needs beyond the limit (`force`), since it could release
nothing otherwise: the overdraft is at most one chunk per stream still below its first minimum part.
A stream whose client pauses for `lull` sends its partial part too, so a paused stream holds less than
one minimum part. Every caller's streams may gather at most its share of the budget (parts being
written to the blob store do not count: they are released whatever the client does).
A stream whose client sends nothing for `idle` seconds ends with DEADLINE_EXCEEDED
UPLOAD_IDLE_TIMEOUT, and one that waits `idle` seconds for budget ends with UNAVAILABLE
UPLOAD_BUFFER_BUSY (both resumable from committed_offset). Streams per caller: uploads/limits.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg

from ...common.blobstore import BlobStore
from ...common.blobstore.base import Part
from ...common.blobstore.buffers import crc32c
from ...common.db import DEFAULT_TIMEOUT
from ...common.errors import (
    Aborted,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    Reason,
    Unavailable,
)
from . import resumable_hash, store
from .budget import ByteBudget

PART_NUMBER_BLOCK = 16  # part numbers reserved per DB round trip


@dataclass(frozen=True)
class Chunk:
    offset: int
    data: bytes | memoryview  # a view of the received message (never copied)
    crc32c: int


@dataclass(frozen=True)
class StreamLimits:
    part_size: int
    max_chunk: int
    min_part_size: int
    max_part_number: int | None
    max_parallel: int = 3
    expiry: float = 86400.0
    idle: float = 60.0  # seconds without a chunk before the stream is ended
    lull: float = 1.0  # seconds without a chunk before a partial part is flushed

    def __post_init__(self) -> None:
        object.__setattr__(self, "lull", min(self.lull, self.idle / 2))


def part_size_for(expected_size: int, configured: int, min_part: int, max_part_number: int | None) -> int:
    """Parts big enough that the file needs at most half the backend's part numbers (room for resumes)."""
    size = max(configured, min_part)
    if max_part_number:
        size = max(size, math.ceil(expected_size / (max_part_number // 2)))
    return size


class ActiveStreams:
    """At most one running stream per session in this process. A newer stream tells the older one to
    stop (it fails with ABORTED CONFLICT) and waits until the older one's in-flight part writes have
    finished, so they cannot land after the newer stream's writes at the same offsets (local folder)."""

    def __init__(self) -> None:
        self._active: dict[str, tuple[asyncio.Event, asyncio.Event]] = {}

    async def supersede(self, session_id: str, timeout: float = 60.0) -> None:
        entry = self._active.get(session_id)
        if entry is None:
            return
        stop, done = entry
        stop.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)

    async def enter(self, session_id: str) -> tuple[asyncio.Event, asyncio.Event]:
        """Register a new stream; returns (stop, done): the stream watches `stop` and sets `done`."""
        await self.supersede(session_id)
        entry = (asyncio.Event(), asyncio.Event())
        self._active[session_id] = entry
        return entry

    def leave(self, session_id: str, entry: tuple[asyncio.Event, asyncio.Event]) -> None:
        if self._active.get(session_id) is entry:
            del self._active[session_id]
        entry[1].set()


async def until_stopped(
    chunks: AsyncIterator[Chunk], stop: asyncio.Event, *, idle: float, lull: float
) -> AsyncIterator[Chunk | None]:
    """The chunks, until `stop` is set (then ABORTED CONFLICT, even while waiting for the client).
    Yields None after each `lull` seconds without a chunk, and ends the stream with DEADLINE_EXCEEDED
    UPLOAD_IDLE_TIMEOUT after `idle` seconds without one."""
    it = chunks.__aiter__()
    stopper = asyncio.ensure_future(stop.wait())
    try:
        while True:
            nxt = asyncio.ensure_future(it.__anext__())
            waited = 0.0
            while not nxt.done() and not stop.is_set():
                step = max(0.0, min(lull, idle - waited))
                await asyncio.wait({nxt, stopper}, timeout=step, return_when=asyncio.FIRST_COMPLETED)
                waited += step
                if nxt.done() or stop.is_set():
                    break
                if waited >= idle:
                    await _cancel(nxt)
                    raise idle_timeout(idle)
                yield None
            if not nxt.done():
                await _cancel(nxt)
                raise superseded()
            try:
                yield nxt.result()
            except StopAsyncIteration:
                return
            if stop.is_set():
                raise superseded()
    finally:
        stopper.cancel()


async def _cancel(task: asyncio.Future[Chunk]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
        await task


@dataclass
class _Pending:
    number: int
    offset: int
    size: int
    hash_state: bytes | None
    task: asyncio.Task[Part]


@dataclass
class UploadStream:
    """The receiving side of one stream on one session (built by Uploads._open_stream in uploads/domain.py)."""

    pool: asyncpg.Pool
    blobs: BlobStore
    budget: ByteBudget
    limits: StreamLimits
    session_id: str
    storage_key: str
    multipart_id: str
    expected_size: int
    epoch: int
    durable: int  # committed_offset: everything before is recorded
    next_number: int
    numbers_left: int
    hasher: resumable_hash.ResumableSha256 | None
    principal: str = ""  # whose share of the budget the stream's bytes count against
    received: int = 0  # offset of the next expected byte (starts at durable)
    _buffer: list[bytes | memoryview] = field(default_factory=list)
    _buffered: int = 0
    _reserved: int = 0
    _pending: deque[_Pending] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.received = self.durable
        self.part_size = part_size_for(
            self.expected_size, self.limits.part_size, self.limits.min_part_size, self.limits.max_part_number
        )

    # --- receiving ---

    async def feed(self, chunk: Chunk) -> None:
        self._check(chunk)
        if not chunk.data:
            return
        await self._reserve(len(chunk.data))
        self._buffer.append(chunk.data)
        self._buffered += len(chunk.data)
        self.received += len(chunk.data)
        if self._buffered >= self.part_size or self.received == self.expected_size:
            await self._flush()

    async def _reserve(self, n: int) -> None:
        """Budget for a chunk of n bytes about to be held (see the module docstring)."""
        if not self._buffered and not self._reserved:  # a new part: wait in line, holding nothing
            want = max(n, min(self.limits.min_part_size, self.expected_size - self.received))
            self._reserved = await self._wait_for_budget(want)
            return
        extra = self._buffered + n - self._reserved
        if extra <= 0:
            return
        if self.budget.try_acquire(extra, self.principal):
            self._reserved += extra
        elif self._buffered >= self.limits.min_part_size:
            await self._flush()
            await self._reserve(n)
        else:
            self.budget.force(extra, self.principal)
            self._reserved += extra

    async def _wait_for_budget(self, n: int) -> int:
        try:
            return await asyncio.wait_for(self.budget.acquire(n, self.principal), self.limits.idle)
        except asyncio.TimeoutError:
            raise Unavailable(
                f"the server's upload buffer stayed full for {self.limits.idle:g} s; resume later",
                reason=Reason.UPLOAD_BUFFER_BUSY,
            ) from None

    async def lull(self) -> None:
        """The client paused: send a partial part the blob store accepts, so a paused stream holds
        less than one minimum part of the shared budget."""
        if self._buffered and self._buffered >= self.limits.min_part_size:
            await self._flush()

    def _check(self, chunk: Chunk) -> None:
        n = len(chunk.data)
        if n > self.limits.max_chunk:
            raise InvalidArgument(
                "chunk.data",
                Reason.CHUNK_TOO_LARGE,
                f"chunk of {n} bytes exceeds the maximum of {self.limits.max_chunk}",
                max_chunk_size=str(self.limits.max_chunk),
            )
        if chunk.offset != self.received:
            raise InvalidArgument(
                "chunk.offset",
                Reason.CHUNK_OFFSET_MISMATCH,
                f"chunk offset {chunk.offset} is not the expected offset {self.received}",
                expected_offset=str(self.received),
            )
        if chunk.offset + n > self.expected_size:
            raise InvalidArgument(
                "chunk.data",
                Reason.SIZE_EXCEEDED,
                f"chunk ends at {chunk.offset + n}, past the declared size {self.expected_size}",
            )
        if crc32c(chunk.data) != chunk.crc32c:
            raise InvalidArgument(
                "chunk.crc32c", Reason.CHUNK_CHECKSUM_MISMATCH, f"crc32c mismatch at offset {chunk.offset}"
            )

    # --- parts ---

    async def _flush(self) -> None:
        chunks, size = self._buffer, self._buffered
        offset, reserved = self.received - size, self._reserved
        self._buffer, self._buffered, self._reserved = [], 0, 0
        try:
            number = await self._part_number()
            # hashing 16 MiB runs on a worker thread: the event loop keeps receiving
            state = await asyncio.to_thread(_hash, chunks, self.hasher)
        except BaseException:
            self.budget.release(reserved, self.principal)
            raise
        # the part is its chunks (views of the received messages), sent one after the other: no join
        task = asyncio.create_task(
            self.blobs.upload_part(self.storage_key, self.multipart_id, number, offset, chunks)
        )
        self.budget.detach(reserved, self.principal)  # being sent: no longer in the client's hands
        task.add_done_callback(lambda _t: self.budget.release(reserved, None))  # gone once sent
        self._pending.append(_Pending(number, offset, size, state, task))
        await self._collect(wait=len(self._pending) >= self.limits.max_parallel)

    async def _part_number(self) -> int:
        if self.numbers_left == 0:
            async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
                first = await store.reserve_parts(conn, self.session_id, self.epoch, PART_NUMBER_BLOCK)
            if first is None:
                raise superseded()
            self.next_number, self.numbers_left = first, PART_NUMBER_BLOCK
        limit = self.limits.max_part_number
        if limit is not None and self.next_number > limit:
            raise FailedPrecondition(
                Reason.UPLOAD_SESSION_CLOSED, "the session ran out of part numbers; start a new upload"
            )
        number = self.next_number
        self.next_number += 1
        self.numbers_left -= 1
        return number

    async def _collect(self, *, wait: bool) -> None:
        """Record the finished parts at the head of the queue (waiting for the oldest when asked)."""
        if wait and self._pending:
            await asyncio.wait({self._pending[0].task})
        done: list[_Pending] = []
        while self._pending and self._pending[0].task.done():
            head = self._pending[0]
            if head.task.exception() is not None:
                break
            done.append(self._pending.popleft())
        if done:
            await self._record(done)
        if self._pending and self._pending[0].task.done() and (error := self._pending[0].task.exception()):
            raise error

    async def _record(self, done: list[_Pending]) -> None:
        new_offset = done[-1].offset + done[-1].size
        parts = [
            {"number": p.number, "offset": p.offset, "size": p.size, "etag": p.task.result().etag}
            for p in done
        ]
        async with self.pool.acquire(timeout=DEFAULT_TIMEOUT) as conn:
            ok = await store.record_parts(
                conn,
                self.session_id,
                epoch=self.epoch,
                old_offset=self.durable,
                new_offset=new_offset,
                parts=parts,
                hash_state=done[-1].hash_state,
                expiry=self.limits.expiry,
            )
        if not ok:
            raise superseded()
        self.durable = new_offset

    # --- ending ---

    async def finish(self) -> int:
        """Clean end of the client's stream: make what can be durable durable; returns committed_offset."""
        if self._buffered and (
            self._buffered >= self.limits.min_part_size or self.received == self.expected_size
        ):
            await self._flush()
        await self._drop_buffer()
        while self._pending:
            await self._collect(wait=True)
        return self.durable

    async def salvage(self) -> None:
        """After an error or cancellation: wait for in-flight part writes (they must not land after a
        newer stream's), record those that finished in order (best effort), release everything."""
        await self._drop_buffer()
        cancelled = await _wait_all([p.task for p in self._pending])
        with contextlib.suppress(Exception):
            await self._collect(wait=False)
        for p in self._pending:
            p.task.exception()  # retrieved: the error was reported (or superseded) already
        self._pending.clear()
        if cancelled:
            raise asyncio.CancelledError

    async def _drop_buffer(self) -> None:
        self._buffer, self._buffered = [], 0
        reserved, self._reserved = self._reserved, 0
        self.budget.release(reserved, self.principal)


def _hash(chunks: list[bytes | memoryview], hasher: resumable_hash.ResumableSha256 | None) -> bytes | None:
    """Hash a part's chunks in place; returns the hash state after them."""
    if hasher is None:
        return None
    for data in chunks:
        hasher.update(data)
    return hasher.state()


async def _wait_all(tasks: list[asyncio.Task[Part]]) -> bool:
    """Wait until every task is done even if we are cancelled meanwhile; returns whether we were."""
    cancelled = False
    while not all(t.done() for t in tasks):
        try:
            await asyncio.wait(tasks)
        except asyncio.CancelledError:
            cancelled = True
    return cancelled


def idle_timeout(idle: float) -> Exception:
    return DeadlineExceeded(
        Reason.UPLOAD_IDLE_TIMEOUT,
        f"the upload stream sent nothing for {idle:g} s and was ended; resume from committed_offset",
    )


def superseded() -> Exception:
    return Aborted(
        Reason.CONFLICT, "another stream (or a commit, abort or expiry) took over this upload session"
    )
