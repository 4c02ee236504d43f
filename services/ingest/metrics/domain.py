"""The metric stream: validate columnar batches, and commit them exactly once.

A stream (run, stream_id) has a high-water mark in metric_streams. A batch carries the sequence
numbers first..last (one number, or a range of merged client batches: MetricBatch.last_sequence). With
  last  <= committed   it is a replay: acknowledged, nothing written;
  first == committed+1 it is committed: its points (COPY into metric_chunks, one row per key and up to
                       ROW_POINTS points), the per-key summary (one set-based statement), the run's
                       counters and the new high-water mark `last`, all in ONE transaction;
  otherwise            a SEQUENCE_GAP error (a gap, or a range that partly overlaps the committed ones).
Acks are sent only after the commit. Several queued batches of a stream are committed in one
transaction and acknowledged with the highest sequence; the streams of the process commit together
(metrics/group.py): one transaction holds the queued batches of many streams. The run rows are locked
in that transaction, so concurrent streams of one run cannot corrupt its summary.

Validation happens before anything is written: structure when a batch arrives (check_batch), the
sequence, state and step order under the lock (StreamSession.accept), stream by stream: a bad batch
is rejected whole (the batches before it are committed and acknowledged first) and never fails the
other streams committed with it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg
import numpy as np

from ...common import metrics as prom
from ...common.db import DEFAULT_TIMEOUT, Conn
from ...common.deps import Deps
from ...common.errors import FailedPrecondition, InvalidArgument, NotFound, Reason, ServiceError
from ...common.logging import get_logger
from ...common.names import RunName
from ..runs import store as runs_store
from ..runs.states import TERMINAL
from . import store
from .chunks import Planned, merge
from .limits import (
    GROUP_POINTS,
    MAX_BATCH_KEYS,
    MAX_BATCH_POINTS,
    MAX_KEYS_PER_RUN,
    MAX_RANGE_BATCHES,
    MAX_SEQUENCE,
    MAX_STEP,
    MAX_STREAM_ID,
    QUEUE_BATCHES,
    STREAM_ID_RE,
    key_problem,
)

log = get_logger(__name__)


@dataclass
class Batch:
    """A MetricBatch as arrays: point i is (keys[key_idx[i]], steps[i], values[i], times[i])."""

    sequence: int
    keys: list[str]
    key_idx: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    times: np.ndarray
    received: float = field(default_factory=time.monotonic)  # when it arrived (the ack lag metric)
    last_sequence: int = 0  # the range's last sequence (0: the batch is `sequence` alone)

    @property
    def last(self) -> int:
        """The highest sequence number this batch carries."""
        return self.last_sequence or self.sequence


@dataclass(frozen=True)
class Ack:
    sequence: int
    committed_points: int


# A commit's result for one stream: its ack (None when nothing could be acknowledged) and the error
# that ends the stream (None when every batch was taken).
Outcome = tuple[Ack | None, BaseException | None]


def check_batch(b: Batch, checked_keys: set[str]) -> None:
    """Structural validation (no database): lengths, key grammar, index range, steps, size."""
    if b.sequence < 1:
        raise InvalidArgument("batch.sequence", Reason.OUT_OF_RANGE, "sequence numbers start at 1")
    if b.last < b.sequence or b.last > MAX_SEQUENCE or b.last - b.sequence >= MAX_RANGE_BATCHES:
        raise InvalidArgument(
            "batch.last_sequence",
            Reason.OUT_OF_RANGE,
            f"last_sequence must be 0 or in sequence..{MAX_SEQUENCE}, a range of at most "
            f"{MAX_RANGE_BATCHES} batches",
        )
    n = len(b.key_idx)
    for name, column in (("steps", b.steps), ("values", b.values), ("times", b.times)):
        if len(column) != n:
            raise InvalidArgument(
                f"batch.{name}",
                Reason.COLUMN_LENGTH_MISMATCH,
                f"batch.{name} has {len(column)} entries, batch.key_indices has {n}",
            )
    if n > MAX_BATCH_POINTS:
        raise InvalidArgument("batch", Reason.TOO_LARGE, f"a batch holds at most {MAX_BATCH_POINTS} points")
    if len(b.keys) > MAX_BATCH_KEYS:
        raise InvalidArgument(
            "batch.keys", Reason.TOO_MANY_KEYS, f"a batch names at most {MAX_BATCH_KEYS} keys"
        )
    for i, key in enumerate(b.keys):
        if key not in checked_keys:
            problem = key_problem(key)
            if problem:
                raise InvalidArgument(f"batch.keys[{i}]", Reason.INVALID_NAME, problem)
            checked_keys.add(key)
    if n and int(b.key_idx.max()) >= len(b.keys):
        raise InvalidArgument(
            "batch.key_indices",
            Reason.KEY_INDEX_OUT_OF_RANGE,
            f"a key index is >= {len(b.keys)} (the number of keys)",
        )
    if n:
        check_steps(b.steps)


def check_steps(steps: np.ndarray) -> None:
    """Steps lie in 0..MAX_STEP: the run's next step (the highest step + 1) must fit in int64, or
    the commit would fail on every retry of the batch."""
    if int(steps.min()) < 0 or int(steps.max()) > MAX_STEP:
        raise InvalidArgument("batch.steps", Reason.OUT_OF_RANGE, f"steps must be in 0..{MAX_STEP}")


def check_stream_id(stream_id: str) -> str:
    if not stream_id:
        raise InvalidArgument("open.stream_id", Reason.FIELD_REQUIRED, "open.stream_id is required")
    if len(stream_id) > MAX_STREAM_ID or not STREAM_ID_RE.fullmatch(stream_id):
        raise InvalidArgument(
            "open.stream_id", Reason.INVALID_NAME, f"stream id must match {STREAM_ID_RE.pattern}"
        )
    return stream_id


class StreamSession:
    """One open StreamMetrics call: the stream's state and a cache of the run's key dictionary."""

    def __init__(
        self, pool: asyncpg.Pool, run_pk: int, stream_id: str, committed: int, next_step: int
    ) -> None:
        self.pool, self.run_pk, self.stream_id = pool, run_pk, stream_id
        self.committed, self.next_step = committed, next_step
        self.checked_keys: set[str] = set()
        self.key_ids: dict[str, int] = {}
        self.last_steps = np.full(16, -1, dtype=np.int64)
        self._cache_token: tuple[int, int] | None = None
        self._names: dict[int, str] = {}
        self.timeout = DEFAULT_TIMEOUT

    # --- key dictionary cache, valid while nobody else wrote to the run ---

    def keys_stale(self, token: tuple[int, int]) -> bool:
        """Whether the cached key dictionary may differ from the database's (token: the run's point
        count and highest key id, read under the run lock)."""
        return token != self._cache_token

    def set_keys(self, rows: Sequence[asyncpg.Record], token: tuple[int, int]) -> None:
        self.key_ids = {r["key"]: r["key_id"] for r in rows}
        self._names = {}
        self.last_steps = np.full(max(16, token[1] + 1), -1, dtype=np.int64)
        for r in rows:
            self.last_steps[r["key_id"]] = r["last_step"]
        self._cache_token = token

    def forget_keys(self) -> None:
        """After a rolled-back commit: the in-memory dictionary may be ahead of the database."""
        self._cache_token = None

    def _key_ids_for(self, keys: list[str], used: np.ndarray, new: dict[str, int]) -> np.ndarray:
        """Run key ids of the batch's keys (-1 for listed keys no point uses: they get no id)."""
        out = np.full(len(keys), -1, dtype=np.int64)
        for i in used.tolist():
            key = keys[i]
            kid = self.key_ids.get(key)
            if kid is None:
                kid = new.get(key)
                if kid is None:
                    if len(self.key_ids) + len(new) >= MAX_KEYS_PER_RUN:
                        raise InvalidArgument(
                            f"batch.keys[{i}]",
                            Reason.TOO_MANY_KEYS,
                            f"a run has at most {MAX_KEYS_PER_RUN} distinct keys",
                        )
                    kid = new[key] = len(self.key_ids) + len(new)
            out[i] = kid
        return out

    def batch_key_ids(self, b: Batch, new: dict[str, int]) -> np.ndarray:
        """Run key ids of the batch's points; keys new to the run get the next ids, in `new`."""
        if len(b.key_idx) == 0:
            return np.empty(0, np.int64)
        known = [self.key_ids.get(k, new.get(k, -1)) for k in b.keys]
        if -1 not in known:
            ids: np.ndarray = np.asarray(known, dtype=np.int64)[b.key_idx]
            return ids
        used = np.flatnonzero(np.bincount(b.key_idx, minlength=len(b.keys)))
        ids = self._key_ids_for(b.keys, used, new)[b.key_idx]
        return ids

    def plan(self, b: Batch, allow_out_of_order: bool) -> Planned:
        """One batch: map keys to ids, order points by (key, step), check step order; mutates the
        cache only when the batch is accepted."""
        new: dict[str, int] = {}
        p = merge(
            [Planned(b.last, self.batch_key_ids(b, new), b.steps, b.values, b.times)], allow_out_of_order
        )
        self._grow(len(self.key_ids) + len(new))
        if not allow_out_of_order:
            self._check_order(p)
        self.key_ids.update(new)
        if len(p.key_ids):
            ends = p.ends()
            np.maximum.at(self.last_steps, p.key_ids[ends - 1], p.steps[ends - 1])
        return p

    def _grow(self, size: int) -> None:
        if size > len(self.last_steps):
            self.last_steps = np.concatenate([self.last_steps, np.full(size * 2, -1, dtype=np.int64)])

    def floors(self, key_ids: np.ndarray, new_keys: int) -> np.ndarray:
        """Each point's floor: the highest step committed for its key (-1 for a new key)."""
        self._grow(len(self.key_ids) + new_keys)
        floor: np.ndarray = self.last_steps[key_ids]
        return floor

    def take_keys(self, new: dict[str, int], key_ids: np.ndarray, last_steps: np.ndarray) -> None:
        """Accepted: cache the new key ids and the keys' highest steps (distinct key ids)."""
        self.key_ids.update(new)
        self._grow(len(self.key_ids))
        self.last_steps[key_ids] = np.maximum(self.last_steps[key_ids], last_steps)

    def key_names(self) -> dict[int, str]:
        if len(self._names) != len(self.key_ids):
            self._names = {v: k for k, v in self.key_ids.items()}
        return self._names

    def _check_order(self, p: Planned) -> None:
        if len(p.key_ids) == 0:
            return
        same_key = p.key_ids[1:] == p.key_ids[:-1]
        if bool(np.any(same_key & (p.steps[1:] < p.steps[:-1]))):
            raise InvalidArgument(
                "batch.steps", Reason.STEP_OUT_OF_ORDER, "steps of a key go backwards within the batch"
            )
        starts = p.starts()
        first_kid = p.key_ids[starts]
        if bool(np.any(p.steps[starts] < self.last_steps[first_kid])):
            raise InvalidArgument(
                "batch.steps",
                Reason.STEP_OUT_OF_ORDER,
                "a step is lower than one already committed for the same key (create the run with "
                "allow_out_of_order_steps to accept it)",
            )

    # --- accepting batches under the run lock (before anything is written) ---

    def fresh_keys(self, batches: list[Batch]) -> set[str]:
        """Keys of the batches the run does not have yet (to look up among its rich-value keys)."""
        return set().union(*(b.keys for b in batches)) - self.key_ids.keys()

    def accept(self, lock: asyncpg.Record, batches: list[Batch], media: set[tuple[int, str]]) -> Accepted:
        """Sequence and state checks of queued batches against the locked rows: replays are skipped,
        the acceptable prefix gets key ids (new keys in `new_keys`, not cached yet), the first refused
        batch stops it (its error is returned, not raised: what came before it is still committed).
        Step order is checked for the whole group at once (chunks.plan_group). `media`: the (run, key)
        pairs among the fresh keys that hold rich values. Writes nothing."""
        committed, error, replayed = lock["sequence"], None, 0
        parts: list[Planned] = []
        new: dict[str, int] = {}
        for b in batches:
            if b.last <= committed:
                replayed += 1
                continue  # a replay of an acknowledged batch: exactly-once means do nothing
            error = self._refusal(b, committed, lock)
            if error is None:
                try:
                    self._check_no_media_keys(b, new, media)
                    parts.append(Planned(b.last, self.batch_key_ids(b, new), b.steps, b.values, b.times))
                except InvalidArgument as e:
                    error = e
            if error is not None:
                break
            committed = b.last
        return Accepted(parts, new, len(parts), committed, error, replayed)

    def accept_each(
        self, lock: asyncpg.Record, batches: list[Batch], media: set[tuple[int, str]]
    ) -> Accepted:
        """`accept` with the step order checked batch by batch, to find the batch whose steps go
        backwards (the batches before it are still committed). Caches the keys of accepted batches."""
        allow = lock["allow_out_of_order"]
        committed, error, replayed = lock["sequence"], None, 0
        planned: list[Planned] = []
        for b in batches:
            if b.last <= committed:
                replayed += 1
                continue
            error = self._refusal(b, committed, lock)
            if error is None:
                try:
                    self._check_no_media_keys(b, {}, media)
                    planned.append(self.plan(b, allow))
                except InvalidArgument as e:
                    error = e
            if error is not None:
                break
            committed = b.last
        parts = [merge(planned, allow)] if planned else []
        return Accepted(parts, {}, len(planned), committed, error, replayed)

    @staticmethod
    def _refusal(b: Batch, committed: int, lock: asyncpg.Record) -> ServiceError | None:
        if b.sequence != committed + 1:
            got = f"{b.sequence}..{b.last}" if b.last != b.sequence else str(b.sequence)
            return InvalidArgument(
                "batch.sequence", Reason.SEQUENCE_GAP, f"expected sequence {committed + 1}, got {got}"
            )
        if lock["state"] in TERMINAL:
            return FailedPrecondition(Reason.RUN_FINISHED, "the run is finished and accepts no more points")
        return None

    def _check_no_media_keys(self, b: Batch, new: dict[str, int], media: set[tuple[int, str]]) -> None:
        """A key new to the run may not hold rich values already (a key holds one kind of value)."""
        if not media:  # the usual case: none of the group's fresh keys holds rich values
            return
        clash = sorted(
            k for k in b.keys if k not in self.key_ids and k not in new and (self.run_pk, k) in media
        )
        if clash:
            raise InvalidArgument(
                f"batch.keys[{b.keys.index(clash[0])}]",
                Reason.CONFLICT,
                f"key {clash[0]!r} holds rich values in this run; scalar metrics need a key of their own",
            )

    def committed_to(self, sequence: int, run_points: int, wrote: bool, token: tuple[int, int]) -> Ack:
        """After the commit: the new high-water mark, and a cache token matching the database."""
        self.committed = sequence
        self._cache_token = (run_points, len(self.key_ids) - 1) if wrote else token
        return Ack(sequence, run_points)


@dataclass
class Accepted:
    """What a stream's queued batches give under the lock: the accepted batches' points with key ids
    (`parts`, in sequence order; empty when no batch was accepted), keys new to the run, how many
    batches, the new high-water mark, the error that stopped them (if one did), how many were
    replays; `points` and `next_step` once planned."""

    parts: list[Planned]
    new_keys: dict[str, int]
    batches: int
    sequence: int
    error: ServiceError | None
    replayed: int
    points: int = 0
    next_step: int = 0


async def open_stream(
    deps: Deps, run: RunName, stream_id: str, timeout: float = DEFAULT_TIMEOUT
) -> StreamSession:
    check_stream_id(stream_id)
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        row = await runs_store.find_run(conn, run.project.entity, run.project.project, run.run_id)
        if row is None:
            raise NotFound("run", str(run))
        committed = await store.open_stream(conn, row["id"], stream_id)
    return StreamSession(deps.pool, row["id"], stream_id, committed, row["next_step"])


async def set_summary_overrides(conn: Conn, run_pk: int, overrides: Sequence[tuple[str, str | None]]) -> None:
    """Set (or clear, value None) summary overrides in one statement, creating keys (count 0) that
    are new; when a key appears twice the later value wins. The caller holds the run row lock in its
    transaction, so key ids are allocated without races."""
    latest = dict(overrides)
    if not latest:
        return
    if not await store.set_overrides(conn, run_pk, list(latest), list(latest.values()), MAX_KEYS_PER_RUN):
        raise InvalidArgument(
            "run.summary", Reason.TOO_MANY_KEYS, f"a run has at most {MAX_KEYS_PER_RUN} keys"
        )


_END = object()


class Committer(Protocol):
    """Commits a stream's queued batches (metrics/group.py: together with other streams' batches)."""

    async def commit(self, session: StreamSession, batches: list[Batch]) -> Outcome: ...


async def pump(
    session: StreamSession, batches: AsyncIterator[Batch], committer: Committer
) -> AsyncGenerator[Ack, None]:
    """Read batches into a bounded queue (a full queue stops reading: the client's writes wait) and
    hand what is queued to the committer; yield one ack per commit. Errors surface in stream order."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=QUEUE_BATCHES)

    async def reader() -> None:
        try:
            async for b in batches:
                check_batch(b, session.checked_keys)
                await queue.put(b)
        except asyncio.CancelledError:
            raise
        except BaseException as e:
            await queue.put(e)
            return
        await queue.put(_END)

    task = asyncio.create_task(reader(), name=f"stream-reader-{session.stream_id}")
    log.info("metric_stream_opened", stream_id=session.stream_id, committed=session.committed)
    prom.INGEST_OPEN_STREAMS.inc()
    try:
        while True:
            group, tail = await _take_group(queue)
            if group:
                ack, error = await committer.commit(session, group)
                if ack is not None:
                    prom.INGEST_ACK_LAG.observe(time.monotonic() - group[0].received)
                    yield ack
                if error is not None:
                    raise error
            if tail is _END:
                return
            if isinstance(tail, BaseException):
                raise tail
    finally:
        task.cancel()
        try:
            await asyncio.wait([task])  # the reader's outcome was already delivered through the queue
        finally:  # even when the call is cancelled again while the reader winds down
            prom.INGEST_OPEN_STREAMS.dec()
            log.info("metric_stream_closed", stream_id=session.stream_id, committed=session.committed)


async def _take_group(queue: asyncio.Queue[object]) -> tuple[list[Batch], object]:
    """Wait for one item, then take what is already queued up to GROUP_POINTS. Returns the batches
    and the terminating item (end marker or exception) if one was reached."""
    item = await queue.get()
    group: list[Batch] = []
    points = 0
    while True:
        if not isinstance(item, Batch):
            return group, item
        group.append(item)
        points += len(item.key_idx)
        if points >= GROUP_POINTS or queue.empty():
            return group, None
        item = queue.get_nowait()
