"""One tenant cannot exhaust the database pool for the others.

Many concurrent heavy UpdateRuns of one principal (each with the most summary overrides a request may
carry, all on one run so they also queue on its row lock) leave another tenant's GetRun answering; the
excess of one principal's heavy calls is refused with TOO_MANY_CONCURRENT_CALLS and a RetryInfo; an
oversized request is refused whole and writes nothing; and every pool connection carries the
PostgreSQL statement timeout."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2
from strata_server.common.auth.policy import RULES
from strata_server.common.config import Settings
from strata_server.common.db import create_pool
from strata_server.common.limits import HEAVY_RPCS, HeavyCallLimiter
from strata_server.ingest.runs.limits import MAX_SUMMARY_OVERRIDES

from tests.fixtures.iam import KeysServer, serve_keys

HEAVY_LIMIT = 4
SUMMARY = field_mask_pb2.FieldMask(paths=["summary"])


@pytest.fixture(scope="module")
def ks(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeysServer]:
    limits = {"pg_pool_max": 8, "heavy_calls_per_principal": HEAVY_LIMIT, "heavy_call_wait": 1.0}
    yield from serve_keys(tmp_path_factory, pg_dsn, "strata-pool", **limits)


@pytest.fixture(scope="module")
def tenants(ks: KeysServer) -> dict[str, str]:
    """Two users, each admin of a team with one project: the attacker and the victim."""
    keys = {}
    for user, team in (("mallory", "red"), ("victor", "blue")):
        keys[user] = ks.user(user)
        ks.team(team, admin=keys[user])
        ks.project(team, "p", as_key=keys[user])
    return keys


def new_run(ks: KeysServer, key: str, team: str) -> str:
    with ks.client(key) as c:
        return c.ingest.CreateRun(pb.CreateRunRequest(parent=f"entities/{team}/projects/p")).run.name


def overrides_update(run: str, n: int, prefix: str = "k") -> pb.UpdateRunRequest:
    summary = [run_pb2.MetricSummary(key=f"{prefix}/{i}", override_json=str(i)) for i in range(n)]
    return pb.UpdateRunRequest(run=run_pb2.Run(name=run, summary=summary), update_mask=SUMMARY)


def update(ks: KeysServer, key: str, request: pb.UpdateRunRequest, timeout: float = 60) -> object:
    """The UpdateRun's response, or the StrataError it raised."""
    with ks.client(key) as c:
        try:
            return c.ingest.UpdateRun(request, timeout=timeout)
        except StrataError as e:
            return e


def run_updates(conn: asyncpg.Connection, run: str) -> int:
    return conn.fetchval("SELECT count(*) FROM audit_events WHERE action = 'run.update' AND target = $1", run)


def test_heavy_updates_of_one_tenant_leave_another_tenants_reads_answering(ks, tenants) -> None:  # type: ignore[no-untyped-def]
    """The attack: 20 concurrent UpdateRuns of 9,999 overrides each (over the cap) and 20 of the most
    a request may carry, all on one run, while the other tenant reads its own run with a 5 s deadline."""
    attacker, victim = tenants["mallory"], tenants["victor"]
    target = new_run(ks, attacker, "red")
    theirs = new_run(ks, victim, "blue")
    stop, failures, reads = threading.Event(), [], []

    def read_loop() -> None:
        with ks.client(victim) as c:
            while not stop.is_set():
                try:
                    c.ingest.GetRun(pb.GetRunRequest(name=theirs), timeout=5)
                    reads.append(1)
                except StrataError as e:
                    failures.append(e)
                time.sleep(0.02)

    oversized = [overrides_update(target, 9_999, f"o{i % 2}") for i in range(20)]
    capped = [overrides_update(target, MAX_SUMMARY_OVERRIDES, f"a{i % 5}") for i in range(20)]
    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        with ThreadPoolExecutor(40) as pool:
            results = list(pool.map(lambda r: update(ks, attacker, r, timeout=20), oversized + capped))
    finally:
        stop.set()
        reader.join(30)
    assert not failures, [str(f) for f in failures]
    assert len(reads) > 5
    expected = {
        (grpc.StatusCode.INVALID_ARGUMENT, Reason.TOO_LARGE),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, Reason.TOO_MANY_CONCURRENT_CALLS),
    }
    refused = [r for r in results if isinstance(r, StrataError)]
    assert all((e.code, e.reason) in expected for e in refused), [str(e) for e in refused]
    assert len(refused) < len(results)  # the capped calls are slowed or refused, not broken


@pytest.fixture
def locked_run(ks, tenants):  # type: ignore[no-untyped-def]
    """A run of the attacker whose row a separate connection holds locked until the test releases it."""
    run = new_run(ks, tenants["mallory"], "red")
    release = threading.Event()
    locked = threading.Event()

    async def hold() -> None:
        conn = await asyncpg.connect(ks.thread.settings.pg_dsn)
        try:
            async with conn.transaction():
                await conn.execute("SELECT 1 FROM runs WHERE run_id = $1 FOR UPDATE", run.rsplit("/", 1)[1])
                locked.set()
                await asyncio.to_thread(release.wait, 60)
        finally:
            await conn.close()

    holder = threading.Thread(target=lambda: asyncio.run(hold()))
    holder.start()
    assert locked.wait(10)
    yield run, release
    release.set()
    holder.join(10)


def test_the_excess_of_one_principals_heavy_calls_is_refused_with_its_reason(ks, tenants, locked_run) -> None:  # type: ignore[no-untyped-def]
    run, release = locked_run
    with ThreadPoolExecutor(HEAVY_LIMIT + 2) as pool:
        waiting = [
            pool.submit(update, ks, tenants["mallory"], overrides_update(run, 1))
            for _ in range(HEAVY_LIMIT + 2)
        ]
        deadline = time.monotonic() + 20  # the excess waits its 1 s for a slot, then is refused
        while sum(f.done() for f in waiting) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # and only the excess: the others hold their slots, waiting on the row lock
        refused = [f.result() for f in waiting if f.done()]
        other = update(
            ks, tenants["victor"], overrides_update(new_run(ks, tenants["victor"], "blue"), 3), timeout=10
        )
        release.set()
        done = [f.result(timeout=30) for f in waiting]
    assert len(refused) == 2
    for e in refused:
        assert isinstance(e, StrataError)
        assert (e.code, e.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, Reason.TOO_MANY_CONCURRENT_CALLS)
        assert e.retry_delay is not None and e.retry_delay > 0
    assert not isinstance(other, StrataError), str(other)  # another principal is not held back
    assert sum(not isinstance(r, StrataError) for r in done) == HEAVY_LIMIT


def test_an_oversized_summary_update_is_refused_whole_and_writes_nothing(ks, tenants) -> None:  # type: ignore[no-untyped-def]
    run = new_run(ks, tenants["mallory"], "red")
    got = update(ks, tenants["mallory"], overrides_update(run, MAX_SUMMARY_OVERRIDES + 1))
    assert isinstance(got, StrataError)
    assert (got.code, got.reason, got.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.TOO_LARGE,
        "run.summary",
    )
    with ks.client(tenants["mallory"]) as c:
        assert list(c.ingest.GetRun(pb.GetRunRequest(name=run)).run.summary) == []
    assert ks.run(_count_updates(ks, run)) == 0


async def _count_updates(ks: KeysServer, run: str) -> int:
    async with ks.deps.pool.acquire() as conn:
        return await run_updates(conn, run)


def test_summary_overrides_are_written_in_one_statement_up_to_the_key_limit(ks, tenants) -> None:  # type: ignore[no-untyped-def]
    """1,000 overrides per call, ten calls fill the run's 10,000 keys; one key more is refused whole;
    setting again an existing key and clearing one still work at the limit."""
    run = new_run(ks, tenants["mallory"], "red")
    for part in range(10):
        got = update(ks, tenants["mallory"], overrides_update(run, MAX_SUMMARY_OVERRIDES, f"p{part}"))
        assert not isinstance(got, StrataError), str(got)
    summary = {s.key: s.override_json for s in got.run.summary}
    assert len(summary) == 10_000 and summary["p9/999"] == "999"
    mixed = overrides_update(run, 2, "p0")
    mixed.run.summary.append(run_pb2.MetricSummary(key="one/more", override_json="1"))
    got = update(ks, tenants["mallory"], mixed)
    assert isinstance(got, StrataError) and got.reason == Reason.TOO_MANY_KEYS
    again = overrides_update(run, 0)
    again.run.summary.extend(
        [
            run_pb2.MetricSummary(key="p0/1", override_json='"x"'),
            run_pb2.MetricSummary(key="p0/2", override_json="null"),
            run_pb2.MetricSummary(key="p0/1", override_json='"y"'),  # the later value wins
        ]
    )
    got = update(ks, tenants["mallory"], again)
    summary = {s.key: s.override_json for s in got.run.summary}
    assert summary["p0/0"] == "0" and summary["p0/1"] == '"y"' and summary["p0/2"] == ""


def test_every_pool_connection_carries_the_statement_timeout(ks, pg_dsn: str) -> None:  # type: ignore[no-untyped-def]
    async def show() -> str:
        async with ks.deps.pool.acquire() as conn:
            return await conn.fetchval("SHOW statement_timeout")

    assert ks.run(show()) == "30s"

    async def short() -> tuple[str, type]:
        pool = await create_pool(
            pg_dsn, min_size=1, max_size=1, statement_timeout=0.2, apply_migrations=False
        )
        try:
            async with pool.acquire() as conn:
                shown = await conn.fetchval("SHOW statement_timeout")
                try:
                    await conn.execute("SELECT pg_sleep(2)")
                except asyncpg.exceptions.QueryCanceledError as e:
                    return shown, type(e)
                return shown, type(None)
        finally:
            await pool.close()

    assert asyncio.run(short()) == ("200ms", asyncpg.exceptions.QueryCanceledError)


def test_the_heavy_rpcs_are_real_rpcs_and_the_limit_is_off_in_open_local_mode() -> None:
    assert HEAVY_RPCS <= set(RULES)  # a misspelt name would silently limit nothing
    assert HeavyCallLimiter.for_settings(Settings(auth_mode="keys")).limit == 4
    assert HeavyCallLimiter.for_settings(Settings(auth_mode="open-local")).limit == 0
