"""BatchGetHistory reads set-wise: for every layout a series can have (dense with or without a
rollup, a stale rollup over compacted chunks, sparse, out of order with a step logged twice, a key
the run lacks, a run without points) it answers exactly what GetHistory answers per run, in request
order, and it never resolves the runs one at a time."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from strata.query.v1 import query_service_pb2 as q
from strata_server.query.history import batch_sampling, rollup, sampling
from strata_server.query.history import store as history_store

from tests.fixtures import query as fx
from tests.query.test_search import expect

PROJECT = "entities/batch/projects/p"


def name(run_id: str) -> str:
    return f"{PROJECT}/runs/{run_id}"


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    pool = server.deps.pool

    async def load() -> None:
        pid = await fx.create_project(pool, "batch", "p")
        rng = np.random.default_rng(5)
        for i in range(12):
            pk = await fx.add_run(pool, pid, f"r{i}")
            n = [60_000, 40_000, 300, 5][i % 4]
            await fx.add_series(pool, pk, "loss", np.arange(n), rng.standard_normal(n), chunk_points=500)
            if i % 3 == 0:
                await fx.add_series(pool, pk, "acc", np.arange(0, 2 * n, 2), rng.random(n))
            if i % 4 == 0:
                async with pool.acquire() as conn:
                    await rollup.roll_key(conn, pk, 0)
        ooo = await fx.add_run(pool, pid, "ooo")
        await fx.add_series(
            pool, ooo, "loss", [5, 1, 3, 3, 9, 0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], chunk_points=2
        )
        await fx.add_run(pool, pid, "empty")
        stale = await fx.add_run(pool, pid, "stale")
        await fx.add_series(pool, stale, "loss", np.arange(50_000), np.sin(np.arange(50_000) / 99.0))
        async with pool.acquire() as conn:
            await rollup.roll_key(conn, stale, 0)
            first = await conn.fetchval(
                "SELECT id FROM metric_chunks WHERE run_id = $1 ORDER BY first_step LIMIT 1", stale
            )
            await conn.execute(  # a compaction: the chunk is rewritten under a new id
                """INSERT INTO metric_chunks (run_id, key_id, first_step, last_step, n, steps, vals, times)
                   SELECT run_id, key_id, first_step, last_step, n, steps, vals, times FROM metric_chunks
                   WHERE id = $1""",
                first,
            )
            await conn.execute("DELETE FROM metric_chunks WHERE id = $1", first)

    server.run(load(), timeout=120)
    return server.client()


def as_tuple(s):  # type: ignore[no-untyped-def]
    return (s.run, s.key, list(s.steps), list(s.values), list(s.times), s.total_points)


RUNS = [name(f"r{i}") for i in range(12)] + [name("ooo"), name("empty"), name("stale")]


@pytest.mark.parametrize("samples", [0, 50, 1000])
def test_batch_equals_one_get_history_per_run(client, samples) -> None:  # type: ignore[no-untyped-def]
    runs = [*RUNS, RUNS[0]]  # a repeated run is answered once
    resp = client.query.BatchGetHistory(
        q.BatchGetHistoryRequest(runs=runs, keys=["loss", "acc", "nope"], samples=samples), timeout=60
    )
    assert [(s.run, s.key) for s in resp.series] == [(r, k) for r in RUNS for k in ("loss", "acc", "nope")]
    for s in resp.series:
        single = client.query.GetHistory(
            q.GetHistoryRequest(run=s.run, keys=[s.key], samples=samples), timeout=60
        ).series[0]
        assert as_tuple(s) == as_tuple(single)
    assert sum(len(s.steps) for s in resp.series) > 0


def test_batch_does_not_resolve_runs_one_at_a_time(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def one_at_a_time(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("BatchGetHistory resolved a run on its own")

    monkeypatch.setattr(history_store, "run_pk", one_at_a_time)
    resp = client.query.BatchGetHistory(q.BatchGetHistoryRequest(runs=RUNS, keys=["loss"]), timeout=60)
    assert len(resp.series) == len(RUNS)


def test_batch_names_the_first_missing_run(client) -> None:  # type: ignore[no-untyped-def]
    req = q.BatchGetHistoryRequest(runs=[RUNS[0], name("gone"), name("gone2")], keys=["loss"])
    err = expect(
        lambda: client.query.BatchGetHistory(req, timeout=30), grpc.StatusCode.NOT_FOUND, "NOT_FOUND"
    )
    assert "gone'" in str(err) and "gone2" not in str(err)


@pytest.mark.parametrize("samples", [1, 2, 3, 10, 501])
def test_sampling_many_series_at_once_equals_one_at_a_time(samples) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(samples)
    series = []
    for n in (0, 1, 5, 600, 2000, 7):
        steps = np.sort(rng.choice(10 * n + 1, size=n, replace=False)).astype(np.int64)
        values = rng.standard_normal(n)
        values[rng.random(n) < 0.05] = np.nan
        values[rng.random(n) < 0.01] = np.inf
        series.append(sampling.Points(steps, values, steps * 0.5))
    points = sampling.Points.concat(series)
    counts = np.array([len(s) for s in series], dtype=np.int64)
    got = batch_sampling.bucket_extremes_many(points, counts, samples)
    for s, picked in zip(series, got, strict=True):
        assert picked.tolist() == sampling.bucket_extremes(s.steps, s.values, samples).tolist()


def test_sampling_skips_empty_buckets() -> None:
    """Steps with a wide gap leave buckets empty: each non-empty bucket still keeps its own extremes."""
    steps = np.r_[np.arange(100), np.arange(10_000, 10_100)]
    values = np.r_[np.zeros(100), np.ones(100)]
    values[50], values[150] = 7.0, -7.0
    picked = sampling.bucket_extremes(steps, values, 10).tolist()
    assert 50 in picked and 150 in picked and picked[0] == 0 and picked[-1] == 199
