"""Cross-stream group commit: the queued batches of many metric streams in ONE transaction.

A process has a few committers (STRATA_INGEST_COMMITTERS, default COMMITTERS), each owning the streams of the runs whose id falls to it
(run id modulo COMMITTERS), so two committers never lock the same run. A stream hands its queued
batches to its committer and waits; the committer loops: whenever it has work and its previous commit
finished, it takes what is waiting (at most one stream per run, up to GROUP_POINTS points; at least
one stream) and commits it:

1. lock every member's run and stream rows in run id order (no deadlock between transactions that
   lock several runs) and read their high-water marks, states and key-dictionary tokens; a run that
   another transaction holds locked is skipped, its stream waits for a later group (LOCKED_RETRY);
2. per member, in memory: skip replays, refuse a gap, a finished run, a key holding rich values or
   a bad step order (that member's error, returned, not raised), plan the acceptable prefix; the
   step order of the whole group is checked in one numpy pass (stream by stream only when it fails);
3. one COPY of every member's rows, then one statement for every run's summary, every stream's mark
   and every run's counters; COMMIT;
4. each member is acknowledged with its own highest committed sequence.

If the group's transaction fails with anything but an unavailable database (a constraint or
serialization error of one member, say), every member is retried alone, each in its own transaction:
one bad member cannot fail the others. The high-water marks make the retry safe: what the failed
transaction may have committed after all (a lost COMMIT reply) is a replay in the retry. A stream
that then failed alone is a suspect for SUSPECT_SECONDS: when its client reconnects and sends again,
it is committed alone and joins no group, so one poisoned stream does not make every group it would
join fail and retry its members one by one; it leaves the suspects once a commit of it succeeds.

A stream whose call ends while its batches are in a commit loses nothing: the commit completes, the
client reconnects and reads the mark. Batches not yet taken are dropped with their call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import asyncpg

from ...common import metrics as prom
from ...common.db import DEFAULT_TIMEOUT, Conn
from ...common.deps import Deps
from ...common.errors import NotFound, Unavailable, classify
from ...common.logging import get_logger
from . import store
from .chunks import Part, Planned, build_rows, per_run, plan_group, summarize, summary_columns
from .domain import Accepted, Batch, Outcome, StreamSession
from .limits import COMMITTERS, GROUP_POINTS

log = get_logger(__name__)

LOCKED_RETRY = 0.05  # seconds a committer left with only streams of locked runs waits before retrying
SUSPECT_SECONDS = 300.0  # a stream whose commit failed alone is committed alone for this long
MAX_SUSPECTS = 10_000  # suspects remembered per committer (the oldest are forgotten first)


@dataclass
class Member:
    """One stream's queued batches waiting for a commit, and where its outcome goes."""

    session: StreamSession
    batches: list[Batch]
    deferred: bool = False  # its run was locked by another transaction when a group wanted it
    in_flight: bool = False  # taken into a group whose transaction has not ended yet
    done: asyncio.Future[Outcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def points(self) -> int:
        return sum(len(b.key_idx) for b in self.batches)

    def resolve(self, outcome: Outcome) -> None:
        if not self.done.done():  # a stream whose call ended cancelled its future
            self.done.set_result(outcome)


@dataclass
class Stats:
    """What a committer did (read by tests and logs)."""

    groups: int = 0
    members: int = 0
    largest: int = 0
    retried_alone: int = 0
    deferred: int = 0
    suspects: int = 0  # streams marked to commit alone after failing alone


async def commit_group(
    pool: asyncpg.Pool, members: list[Member], timeout: float = DEFAULT_TIMEOUT, wait_for_locks: bool = True
) -> list[Outcome | None]:
    """Commit the members (streams of distinct runs) in one transaction; one outcome per member.
    Without `wait_for_locks`, a member whose run another transaction holds locked is left out (its
    outcome is None: commit it later). Raises when the transaction fails (nothing of it is committed)."""
    try:
        async with pool.acquire(timeout=timeout) as conn, conn.transaction():
            sessions = [m.session for m in members]
            rows = await store.lock_streams(
                conn, [s.run_pk for s in sessions], [s.stream_id for s in sessions], not wait_for_locks
            )
            locks = {r["run_pk"]: r for r in rows}
            live = members
            if not wait_for_locks and len(locks) < len(members):
                gone = {s.run_pk for s in sessions} - await store.existing_runs(
                    conn, [s.run_pk for s in sessions]
                )
                live = [m for m in members if m.session.run_pk in locks or m.session.run_pk in gone]
            outcomes = dict(zip(map(id, live), await _commit_in(conn, live, locks, timeout), strict=True))
            return [outcomes.get(id(m)) for m in members]
    except BaseException:
        for m in members:
            m.session.forget_keys()
        raise


async def _commit_in(
    conn: Conn, members: list[Member], locks: dict[int, asyncpg.Record], timeout: float
) -> list[Outcome]:
    sessions = [m.session for m in members]
    await _refresh_keys(conn, sessions, locks)
    media = await _media_keys(conn, [m for m in members if m.session.run_pk in locks])
    accepted: list[Accepted | None] = []
    for m in members:
        lock = locks.get(m.session.run_pk)
        accepted.append(m.session.accept(lock, m.batches, media) if lock is not None else None)
    group = plan_group(_parts(sessions, accepted, locks, check=True))
    if group is None:  # a step went backwards: find which batch, stream by stream
        accepted = [
            m.session.accept_each(locks[m.session.run_pk], m.batches, media) if a is not None else None
            for m, a in zip(members, accepted, strict=True)
        ]
        group = plan_group(_parts(sessions, accepted, locks, check=False))
        assert group is not None
    counts = await _write(conn, sessions, accepted, group, timeout)
    outcomes: list[Outcome] = []
    for s, a in zip(sessions, accepted, strict=True):
        if a is None:
            outcomes.append((None, NotFound("run", f"run {s.run_pk} (deleted while streaming)")))
            continue
        lock = locks[s.run_pk]
        token = (lock["point_count"], lock["max_key_id"])
        run_points = counts.get(s.run_pk, lock["point_count"])
        outcomes.append((s.committed_to(a.sequence, run_points, bool(a.parts), token), a.error))
    _count(accepted)
    return outcomes


async def _media_keys(conn: Conn, members: list[Member]) -> set[tuple[int, str]]:
    """The (run, key) pairs among the members' keys new to their runs that hold rich values."""
    pairs = [(m.session.run_pk, k) for m in members for k in m.session.fresh_keys(m.batches)]
    if not pairs:
        return set()
    return await store.media_keys(conn, [r for r, _ in pairs], [k for _, k in pairs])


def _parts(
    sessions: list[StreamSession],
    accepted: list[Accepted | None],
    locks: dict[int, asyncpg.Record],
    check: bool,
) -> list[Part]:
    parts: list[Part] = []
    base = 0
    for s, a in zip(sessions, accepted, strict=True):
        if a is None:
            continue
        ooo = bool(locks[s.run_pk]["allow_out_of_order"])
        for p in a.parts:
            floor = s.floors(p.key_ids, len(a.new_keys)) if check and not ooo else None
            parts.append(Part(s.run_pk, p, base, ooo, floor))
        base += len(s.key_ids) + len(a.new_keys)
    return parts


async def _refresh_keys(conn: Conn, sessions: list[StreamSession], locks: dict[int, asyncpg.Record]) -> None:
    """Reload, in one statement, the key dictionaries of the runs another writer changed."""
    tokens = {s.run_pk: (r["point_count"], r["max_key_id"]) for s in sessions if (r := locks.get(s.run_pk))}
    stale = [s for s in sessions if s.run_pk in tokens and s.keys_stale(tokens[s.run_pk])]
    if not stale:
        return
    by_run: dict[int, list[asyncpg.Record]] = {s.run_pk: [] for s in stale}
    for row in await store.load_keys(conn, list(by_run)):
        by_run[row["run_id"]].append(row)
    for s in stale:
        s.set_keys(by_run[s.run_pk], tokens[s.run_pk])


async def _write(
    conn: Conn, sessions: list[StreamSession], accepted: list[Accepted | None], group: Planned, timeout: float
) -> dict[int, int]:
    """One COPY of every member's rows, one statement for summaries, marks and counters; the rows and
    the per-(run, key) summaries of all members are built in one numpy pass."""
    runs = per_run(group)
    names: dict[int, dict[int, str]] = {}
    moves: list[store.StreamMove] = []
    for s, a in zip(sessions, accepted, strict=True):
        if a is None or not a.parts:
            continue
        share = runs.get(s.run_pk)
        if share is not None:
            s.take_keys(a.new_keys, share.key_ids, share.last_steps)
            a.points, a.next_step = share.points, share.next_step
            names[s.run_pk] = s.key_names()
        moves.append(store.StreamMove(s.run_pk, s.stream_id, a.sequence, a.points, a.next_step))
    if not moves:
        return {}
    rows = build_rows(group)
    if rows:
        await store.copy_chunks(conn, rows, timeout)
    return await store.commit_group(conn, summary_columns(summarize(group), names), moves, timeout)


def _count(accepted: list[Accepted | None]) -> None:
    """Metrics of a committed group (after the commit, so retries do not count twice)."""
    done = [a for a in accepted if a is not None]
    prom.INGEST_POINTS.inc(sum(a.points for a in done))
    prom.INGEST_BATCHES.inc(sum(a.batches for a in done))
    prom.INGEST_REPLAYED.inc(sum(a.replayed for a in done))


class GroupCommitter:
    """One committer task: commits whatever its streams have queued, one transaction at a time."""

    def __init__(
        self, pool: asyncpg.Pool, max_points: int = GROUP_POINTS, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.pool, self.max_points, self.timeout = pool, max_points, timeout
        self.stats = Stats()
        self._pending: deque[Member] = deque()
        self._suspects: OrderedDict[tuple[int, str], float] = OrderedDict()  # stream -> until (monotonic)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def commit(self, session: StreamSession, batches: list[Batch]) -> Outcome:
        """Queue a stream's batches for the next group and wait for their outcome.

        A call that ends while it waits (cancelled, or cut when its caller lost access) drops its
        batches if no group has taken them yet; if a group is writing them, the call ends only once
        that transaction has: nothing of an ended call commits after it ended."""
        member = Member(session, batches)
        self._pending.append(member)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="metric-group-committer")
        try:
            return await asyncio.shield(member.done)
        except asyncio.CancelledError:
            if not member.in_flight:
                member.done.cancel()  # _take skips it: nothing of it is written
            else:
                with contextlib.suppress(BaseException):  # a second cancellation stops the wait
                    await asyncio.shield(member.done)
            raise

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for m in self._pending:
            m.resolve((None, Unavailable("the server is stopping")))
        self._pending.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while group := self._take():
                if all(m.deferred for m in group):  # only streams whose runs are locked elsewhere
                    for m in group:
                        m.in_flight = False
                    self._pending.extendleft(reversed(group))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), LOCKED_RETRY)
                    self._wake.clear()
                    for m in group:
                        m.deferred = False
                    continue
                await self.commit_members(group)

    def _take(self) -> list[Member]:
        """The waiting members in arrival order, one per run, up to max_points (at least one)."""
        group: list[Member] = []
        runs: set[int] = set()
        later: list[Member] = []
        points = 0
        while self._pending and points < self.max_points:
            m = self._pending.popleft()
            if m.done.done():
                continue  # the stream's call ended before its turn: nothing of it was written
            if m.session.run_pk in runs:
                later.append(m)  # another stream of the same run: the next group
                continue
            if self._suspect(m):
                if group:
                    later.append(m)  # it goes alone, in a group of its own
                    continue
                m.in_flight = True
                group.append(m)
                break
            m.in_flight = True
            group.append(m)
            runs.add(m.session.run_pk)
            points += m.points
        self._pending.extendleft(reversed(later))
        return group

    async def commit_members(self, group: list[Member]) -> None:
        """Commit the group; if its transaction fails, retry each member alone. A member whose run is
        locked by another transaction waits for a later group, so it does not hold up the others."""
        self.stats.groups += 1
        self.stats.members += len(group)
        self.stats.largest = max(self.stats.largest, len(group))
        prom.INGEST_GROUP_STREAMS.observe(len(group))
        started = time.perf_counter()
        try:
            outcomes = await commit_group(self.pool, group, self.timeout, wait_for_locks=False)
            prom.INGEST_GROUP_SECONDS.observe(time.perf_counter() - started)
        except asyncio.CancelledError:
            for m in group:
                m.resolve((None, Unavailable("the server is stopping")))
            raise
        except Exception as e:
            unavailable = isinstance(classify(e), Unavailable)
            if len(group) == 1 or unavailable:
                for m in group:
                    m.resolve((None, e))
                if len(group) == 1 and not unavailable:
                    self._suspected(group[0])
                return
            log.warning("metric_group_commit_failed", members=len(group), error=type(e).__name__)
            await self._retry_alone(group)
            return
        later = []
        for m, outcome in zip(group, outcomes, strict=True):
            if outcome is None:
                m.deferred, m.in_flight = True, False
                later.append(m)
            else:
                self._suspects.pop(_stream_key(m), None)
                m.resolve(outcome)
        self.stats.deferred += len(later)
        self._pending.extendleft(reversed(later))

    async def _retry_alone(self, group: list[Member]) -> None:
        for m in group:
            self.stats.retried_alone += 1
            prom.INGEST_RETRIED_ALONE.inc()
            try:
                (outcome,) = await commit_group(self.pool, [m], self.timeout)
            except asyncio.CancelledError:
                m.resolve((None, Unavailable("the server is stopping")))
                raise
            except Exception as e:
                outcome = (None, e)
                if not isinstance(classify(e), Unavailable):
                    self._suspected(m)
            else:
                self._suspects.pop(_stream_key(m), None)
            m.resolve(outcome or (None, Unavailable("the run stayed locked")))

    def _suspected(self, m: Member) -> None:
        """`m`'s stream failed a commit alone: commit it alone for SUSPECT_SECONDS."""
        self.stats.suspects += 1
        key = _stream_key(m)
        self._suspects.pop(key, None)
        self._suspects[key] = time.monotonic() + SUSPECT_SECONDS
        while len(self._suspects) > MAX_SUSPECTS:
            self._suspects.popitem(last=False)

    def _suspect(self, m: Member) -> bool:
        until = self._suspects.get(_stream_key(m))
        if until is None:
            return False
        if until < time.monotonic():
            del self._suspects[_stream_key(m)]
            return False
        return True


def _stream_key(m: Member) -> tuple[int, str]:
    return m.session.run_pk, m.session.stream_id


class Committers:
    """The committers of a process; a stream goes to the one its run id falls to."""

    def __init__(self, pool: asyncpg.Pool, count: int = COMMITTERS) -> None:
        self.all = [GroupCommitter(pool) for _ in range(count)]

    async def commit(self, session: StreamSession, batches: list[Batch]) -> Outcome:
        return await self.all[session.run_pk % len(self.all)].commit(session, batches)

    async def close(self) -> None:
        for c in self.all:
            await c.close()


_KEY = "ingest.metric_committers"


def committers_of(deps: Deps) -> Committers:
    """The process's committers (created on first use)."""
    found = deps.extras.get(_KEY)
    if not isinstance(found, Committers):
        found = deps.extras[_KEY] = Committers(deps.pool, deps.settings.ingest_committers)
    return found


async def stop_committers(deps: Deps) -> None:
    """A background task of the ingest service: waits, and stops the committers when the server
    stops (after the in-flight calls ended, before the pool closes)."""
    try:
        await asyncio.Event().wait()
    finally:
        await committers_of(deps).close()
