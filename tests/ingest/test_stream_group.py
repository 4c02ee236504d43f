"""Cross-stream group commit: many streams in one transaction, exactly once.

Group membership is made certain by driving a committer of the test's own (on the server's pool and
loop) for the per-member rules: a replayed, gapped, out-of-order or finished member is refused alone,
a member whose commit fails makes the group retry its members one by one, a stream whose call ends
mid-commit loses and duplicates nothing. The gRPC tests then run many concurrent streams through the
server's own committers, with replays, reconnects, cancelled calls and one bad stream among them."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import numpy as np
import pytest
from strata.errors import Reason
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import ingest_service_pb2_grpc as pb_grpc
from strata_server.common import metrics as prom
from strata_server.common.errors import ServiceError
from strata_server.common.names import parse_run
from strata_server.ingest import convert
from strata_server.ingest.metrics import domain
from strata_server.ingest.metrics.group import GroupCommitter

from tests.fixtures.ingest import batch, get_run, last_ack, stream
from tests.fixtures.ingest import run_points as points
from tests.fixtures.servers import ServerThread

KEYS = ("loss", "acc", "lr")


def new_run(server: ServerThread, **kwargs: object) -> str:
    req = pb.CreateRunRequest(parent="entities/tester/projects/group", run_id=uuid.uuid4().hex[:12], **kwargs)
    return server.client().ingest.CreateRun(req).run.name


def steps_batch(seq: int, first: int, count: int = 10) -> object:
    """Batch `seq`: steps first..first+count-1 of every key, value = step + key index / 10."""
    return batch(seq, {k: [(s, s + i / 10) for s in range(first, first + count)] for i, k in enumerate(KEYS)})


def domain_batches(*pbs: object) -> list[domain.Batch]:
    return [convert.batch(b) for b in pbs]  # type: ignore[arg-type]


def open_session(server: ServerThread, name: str, stream_id: str = "s1") -> domain.StreamSession:
    return server.run(domain.open_stream(server.deps, parse_run(name, "run"), stream_id))


def assert_steps(server: ServerThread, name: str, steps: range) -> None:
    """Every key holds exactly `steps`, once each, with its values."""
    stored = points(server, name)
    assert sorted(stored) == sorted(KEYS)
    for i, key in enumerate(KEYS):
        s, v = stored[key]
        assert s.tolist() == list(steps), f"{name} {key}: steps stored != sent"
        assert np.allclose(v, np.array(list(steps)) + i / 10)
    assert get_run(server, name).point_count == len(steps) * len(KEYS)


def commit_together(
    server: ServerThread,
    committer: GroupCommitter,
    members: list[tuple[domain.StreamSession, list[domain.Batch]]],
) -> list[domain.Outcome]:
    """Hand every member to the committer at once: they are taken as one group."""

    async def go() -> list[domain.Outcome]:
        return await asyncio.gather(*(committer.commit(s, b) for s, b in members))

    try:
        return server.run(go(), timeout=60)
    finally:
        server.run(committer.close())


def give_rich_values(server: ServerThread, name: str, key: str) -> None:
    """A media entry under `key` in the run (rows written directly: the blob's bytes do not matter)."""
    sha = uuid.uuid4().hex * 2

    async def go() -> None:
        async with server.deps.pool.acquire() as conn:
            await conn.execute("INSERT INTO blobs (sha256, size, storage_key) VALUES ($1, 1, $1)", sha)
            await conn.execute(
                """INSERT INTO media_entries (run_id, key, step, idx, media_type, sha256, size)
                   SELECT id, $2, 0, 0, 1, $3, 1 FROM runs WHERE run_id = $1""",
                name.rsplit("/", 1)[1],
                key,
                sha,
            )

    server.run(go())


def test_one_group_commits_good_members_and_refuses_bad_ones_alone(server: ServerThread) -> None:
    client = server.client()
    good, replaying, gapped, backwards, finished, rich = (new_run(server) for _ in range(6))
    assert stream(client, replaying, [steps_batch(1, 0)])[1] is None
    assert stream(client, backwards, [steps_batch(1, 100)])[1] is None
    client.ingest.FinishRun(pb.FinishRunRequest(name=finished, state=2))
    give_rich_values(server, rich, "acc")
    members = [
        (open_session(server, good), domain_batches(steps_batch(1, 0), steps_batch(2, 10))),
        (open_session(server, replaying), domain_batches(steps_batch(1, 0), steps_batch(2, 10))),
        (open_session(server, gapped), domain_batches(steps_batch(2, 0))),
        (open_session(server, backwards), domain_batches(steps_batch(2, 110), steps_batch(3, 50))),
        (open_session(server, finished), domain_batches(steps_batch(1, 0))),
        (open_session(server, rich), domain_batches(steps_batch(1, 0))),
    ]
    committer = GroupCommitter(server.deps.pool)
    outcomes = commit_together(server, committer, members)
    assert (committer.stats.groups, committer.stats.largest, committer.stats.retried_alone) == (1, 6, 0)
    (
        (ack_good, e_good),
        (ack_replay, e_replay),
        (ack_gap, e_gap),
        (ack_back, e_back),
        (_, e_fin),
        (_, e_rich),
    ) = outcomes
    assert e_good is None and ack_good is not None and ack_good.sequence == 2
    assert e_replay is None and ack_replay is not None and ack_replay.sequence == 2  # 1 replayed, 2 new
    assert isinstance(e_gap, ServiceError) and e_gap.reason == Reason.SEQUENCE_GAP
    assert ack_gap is not None and ack_gap.sequence == 0
    assert isinstance(e_back, ServiceError) and e_back.reason == Reason.STEP_OUT_OF_ORDER
    assert ack_back is not None and ack_back.sequence == 2  # the batch before the refused one commits
    assert isinstance(e_fin, ServiceError) and e_fin.reason == Reason.RUN_FINISHED
    assert isinstance(e_rich, ServiceError) and (e_rich.reason, e_rich.field) == (
        Reason.CONFLICT,
        "batch.keys[1]",
    )
    assert_steps(server, good, range(0, 20))
    assert_steps(server, replaying, range(0, 20))
    assert points(server, gapped) == {} and points(server, finished) == {} and points(server, rich) == {}
    assert_steps(server, backwards, range(100, 120))


@pytest.fixture
def poison(server: ServerThread, pg_dsn: str):  # type: ignore[no-untyped-def]
    """A stream id whose high-water mark cannot move: a trigger fails the statement that moves it."""
    stream_id = f"poison-{uuid.uuid4().hex[:8]}"
    function = f"fail_{stream_id.replace('-', '_')}"

    async def ddl(sql: str) -> None:
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    server.run(
        ddl(
            f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN RAISE EXCEPTION 'poisoned stream'; END $$;
                CREATE TRIGGER {function} BEFORE UPDATE ON metric_streams FOR EACH ROW
                WHEN (NEW.stream_id = '{stream_id}') EXECUTE FUNCTION {function}();"""
        )
    )
    try:
        yield stream_id
    finally:
        server.run(ddl(f"DROP TRIGGER IF EXISTS {function} ON metric_streams; DROP FUNCTION {function}();"))


def test_a_failed_group_transaction_retries_its_members_alone(server: ServerThread, poison: str) -> None:
    runs = [new_run(server) for _ in range(4)]
    bad = new_run(server)
    members = [
        (open_session(server, name), domain_batches(steps_batch(1, 0), steps_batch(2, 10))) for name in runs
    ]
    members.insert(2, (open_session(server, bad, poison), domain_batches(steps_batch(1, 0))))
    committer = GroupCommitter(server.deps.pool)
    retried = prom.INGEST_RETRIED_ALONE._value.get()
    outcomes = commit_together(server, committer, members)
    assert committer.stats.largest == 5 and committer.stats.retried_alone == 5
    assert prom.INGEST_RETRIED_ALONE._value.get() - retried == 5  # operators see it on /metrics
    ack_bad, e_bad = outcomes.pop(2)
    assert ack_bad is None and isinstance(e_bad, asyncpg.RaiseError)
    for (ack, error), name in zip(outcomes, runs, strict=True):
        assert error is None and ack is not None and ack.sequence == 2
        assert_steps(server, name, range(0, 20))
    assert points(server, bad) == {} and get_run(server, bad).point_count == 0


def test_a_stream_that_failed_alone_is_committed_alone_when_it_comes_back(
    server: ServerThread, poison: str
) -> None:
    """Its client reconnects and resends: the poisoned stream joins no group (which would fail and
    retry every member alone again), it is committed alone, and the others go together."""
    runs = [new_run(server) for _ in range(3)]
    bad = new_run(server)
    good = [open_session(server, name) for name in runs]
    bad_session = open_session(server, bad, poison)
    committer = GroupCommitter(server.deps.pool)

    async def together(
        members: list[tuple[domain.StreamSession, list[domain.Batch]]],
    ) -> list[domain.Outcome]:
        return await asyncio.gather(*(committer.commit(s, b) for s, b in members))

    try:
        first = [(s, domain_batches(steps_batch(1, 0))) for s in good]
        first.insert(1, (bad_session, domain_batches(steps_batch(1, 0))))
        outcomes = server.run(together(first), timeout=60)
        assert committer.stats.retried_alone == 4 and committer.stats.suspects == 1
        assert isinstance(outcomes[1][1], asyncpg.RaiseError)
        groups, members = committer.stats.groups, committer.stats.members
        again = [(s, domain_batches(steps_batch(2, 10))) for s in good]
        again.insert(1, (bad_session, domain_batches(steps_batch(1, 0))))
        outcomes = server.run(together(again), timeout=60)
        assert committer.stats.retried_alone == 4, "no group failed: the suspect went alone"
        assert (committer.stats.groups - groups, committer.stats.members - members) == (2, 4)  # 3 + 1
        ack_bad, e_bad = outcomes.pop(1)
        assert ack_bad is None and isinstance(e_bad, asyncpg.RaiseError)
        for (ack, error), name in zip(outcomes, runs, strict=True):
            assert error is None and ack is not None and ack.sequence == 2
            assert_steps(server, name, range(0, 20))
    finally:
        server.run(committer.close())


def test_a_stream_whose_call_ends_mid_commit_loses_and_duplicates_nothing(
    server: ServerThread, pg_dsn: str
) -> None:
    """Commits are held (metric_chunks locked) while a group is in its transaction; one member's call
    ends then. The group still commits it, and the call ends only once that commit has (nothing of an
    ended call commits after it ended); the reconnected stream replays and stores nothing twice. A
    stream queued behind the group whose call ends before its turn writes nothing."""
    names = [new_run(server) for _ in range(3)]
    members = [
        (open_session(server, n), domain_batches(steps_batch(1, 0), steps_batch(2, 10))) for n in names
    ]
    late = new_run(server)
    committer = GroupCommitter(server.deps.pool)
    lock = server.run(asyncpg.connect(pg_dsn))
    server.run(lock.execute("BEGIN; LOCK TABLE metric_chunks IN EXCLUSIVE MODE"))

    async def go() -> tuple[list[object], bool]:
        tasks = [asyncio.ensure_future(committer.commit(s, b)) for s, b in members]
        await asyncio.sleep(0.3)
        assert committer.stats.groups == 1  # the group waits on the lock, inside its transaction
        queued = asyncio.ensure_future(committer.commit(late_session, [*late_batches]))
        await asyncio.sleep(0.05)
        queued.cancel()  # not taken yet: dropped
        tasks[1].cancel()  # the stream's call ends while its group writes it
        await asyncio.sleep(0.3)
        ended_before_commit = tasks[1].done()
        await lock.execute("ROLLBACK")
        return [*await asyncio.gather(*tasks, queued, return_exceptions=True)], ended_before_commit

    late_session = open_session(server, late)
    late_batches = domain_batches(steps_batch(1, 0))
    try:
        results, ended_before_commit = server.run(go(), timeout=60)
    finally:
        server.run(lock.close())
        server.run(committer.close())
    assert not ended_before_commit, "the call ended while its group was still writing it"
    assert isinstance(results[1], asyncio.CancelledError) and committer.stats.largest == 3
    assert isinstance(results[3], asyncio.CancelledError)
    assert points(server, late) == {} and get_run(server, late).point_count == 0
    for name in names:
        assert_steps(server, name, range(0, 20))
    responses, error = stream(
        server.client(), names[1], [steps_batch(1, 0), steps_batch(2, 10), steps_batch(3, 20)]
    )
    assert error is None and responses[0].opened.committed_sequence == 2 and last_ack(responses) == 3
    assert_steps(server, names[1], range(0, 30))


def test_a_stream_whose_run_is_locked_elsewhere_waits_without_holding_up_the_group(
    server: ServerThread, pg_dsn: str
) -> None:
    """Another transaction holds one run's row (a long DeleteRun or FinishRun would): the group's other
    streams commit meanwhile; that stream commits once the lock is gone."""
    names = [new_run(server) for _ in range(4)]
    members = [(open_session(server, n), domain_batches(steps_batch(1, 0))) for n in names]
    committer = GroupCommitter(server.deps.pool)
    lock = server.run(asyncpg.connect(pg_dsn))
    server.run(lock.execute("BEGIN"))
    server.run(lock.execute("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", members[2][0].run_pk))

    async def go() -> tuple[list[object], list[bool]]:
        tasks = [asyncio.ensure_future(committer.commit(s, b)) for s, b in members]
        others = [t for i, t in enumerate(tasks) if i != 2]
        await asyncio.wait_for(asyncio.gather(*others), 30)  # while the lock is held
        held = [t.done() for t in tasks]
        await lock.execute("ROLLBACK")
        return await asyncio.gather(*tasks), held

    try:
        outcomes, held = server.run(go(), timeout=60)
    finally:
        server.run(lock.close())
        server.run(committer.close())
    assert held == [True, True, False, True] and committer.stats.deferred >= 1
    assert all(error is None and ack is not None and ack.sequence == 1 for ack, error in outcomes)  # type: ignore[misc]
    for name in names:
        assert_steps(server, name, range(0, 10))


# --- through the server's committers, over gRPC ---


def reconnecting_writer(
    server: ServerThread, name: str, stream_id: str, batches: int, errors: list[object]
) -> None:
    """Send `batches` batches over several calls: each call cancels itself after its first ack (batches
    in flight are then committed or not), the next call resends from two batches before the server's
    high-water mark (replays), until every batch is acknowledged."""
    offset = 0 if stream_id.endswith("a") else 1_000_000
    with grpc.insecure_channel(server.addr) as channel:
        stub = pb_grpc.IngestServiceStub(channel)
        done, calls = 0, 0
        while done < batches and calls < 50:
            calls += 1
            start = max(1, done - 1)
            requests = [pb.StreamMetricsRequest(open=pb.StreamOpen(run=name, stream_id=stream_id))]
            requests += [
                pb.StreamMetricsRequest(batch=steps_batch(s, offset + (s - 1) * 10))
                for s in range(start, batches + 1)
            ]
            call = stub.StreamMetrics(iter(requests), timeout=60)
            try:
                for r in call:
                    if r.WhichOneof("kind") == "opened":
                        done = max(done, r.opened.committed_sequence)
                    elif r.WhichOneof("kind") == "ack":
                        done = max(done, r.ack.sequence)
                        if calls % 2 == 1:
                            call.cancel()
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.CANCELLED:
                    errors.append(e)
                    return
    if done != batches:
        errors.append(f"{name}/{stream_id}: {done} of {batches} acknowledged")


def test_many_concurrent_streams_with_reconnects_store_every_point_once(server: ServerThread) -> None:
    names = [new_run(server, allow_out_of_order_steps=True) for _ in range(12)]
    errors: list[object] = []
    threads = [
        threading.Thread(target=reconnecting_writer, args=(server, name, sid, 20, errors))
        for name in names
        for sid in ("wa", "wb")  # two streams per run: never in one group, both committed
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and not any(t.is_alive() for t in threads)
    expected = sorted([*range(0, 200), *range(1_000_000, 1_000_200)])
    for name in names:
        stored = points(server, name)
        for i, key in enumerate(KEYS):
            steps, values = stored[key]
            assert steps.tolist() == expected, f"{name} {key}: stored != sent"
            assert np.allclose(values, steps + i / 10)
        run = get_run(server, name)
        assert run.point_count == 400 * len(KEYS)
        assert {s.key: s.count for s in run.summary} == {k: 400 for k in KEYS}


def test_a_bad_stream_among_busy_ones_gets_its_error_and_the_others_commit(server: ServerThread) -> None:
    names = [new_run(server) for _ in range(8)]
    bad = new_run(server)
    results: dict[str, tuple[list[pb.StreamMetricsResponse], object]] = {}

    def write(name: str, batches: list[object]) -> None:
        results[name] = stream(server.client(), name, batches)  # type: ignore[arg-type]

    good_batches = [steps_batch(s, (s - 1) * 10) for s in range(1, 31)]
    gapped = [steps_batch(1, 0), steps_batch(2, 10), steps_batch(4, 30), steps_batch(5, 40)]
    threads = [threading.Thread(target=write, args=(n, good_batches)) for n in names]
    threads.append(threading.Thread(target=write, args=(bad, gapped)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    responses, error = results[bad]
    assert error is not None and error.code == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert error.reason == Reason.SEQUENCE_GAP and last_ack(responses) == 2  # type: ignore[attr-defined]
    assert_steps(server, bad, range(0, 20))
    for name in names:
        responses, error = results[name]
        assert error is None and last_ack(responses) == 30
        assert_steps(server, name, range(0, 300))


async def test_a_stream_cancelled_again_while_it_winds_down_still_leaves_the_open_streams_gauge() -> None:
    """A call can be cancelled a second time while the stream's cleanup waits for its reader to stop
    (the client cancels, then its connection drops). The cleanup finishes anyway: before, the second
    cancellation skipped it, and /metrics counted the stream as open for the life of the process."""
    session = domain.StreamSession(None, 1, "twice", 0, 0)  # type: ignore[arg-type]  # no database reached

    async def no_batches() -> AsyncIterator[domain.Batch]:
        await asyncio.Event().wait()  # the client sends nothing more
        yield  # type: ignore[misc]  # makes this an async generator

    class Unused:
        async def commit(self, session: domain.StreamSession, batches: list[domain.Batch]) -> domain.Outcome:
            raise AssertionError("nothing is committed")

    gauge = prom.INGEST_OPEN_STREAMS._value
    before = gauge.get()
    acks = domain.pump(session, no_batches(), Unused())
    call = asyncio.ensure_future(anext(acks))
    await asyncio.sleep(0)  # one step of the call: the stream opens and waits for batches
    assert gauge.get() == before + 1
    call.cancel()
    await asyncio.sleep(0)  # the cancellation reaches the stream's cleanup, which waits for its reader
    call.cancel()  # and the call is cancelled again meanwhile
    with pytest.raises(asyncio.CancelledError):
        await call
    assert gauge.get() == before
