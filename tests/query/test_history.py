"""GetHistory / ScanHistory / BatchGetHistory / AggregateHistory / ListMetricKeys over metric_chunks
written in the documented layout: deterministic sampling that keeps spikes, rollups that never change
an answer, out-of-order and duplicate steps, bounded scans, read-your-writes."""

from __future__ import annotations

import json

import grpc
import numpy as np
import pytest
from strata.errors import Reason
from strata.query.v1 import query_service_pb2 as q
from strata_server.query.history import rollup, scan

from tests.fixtures import query as fx
from tests.query.test_search import expect

PROJECT = "entities/hist/projects/p"
N = 100_000
SPIKE_STEP, SPIKE = 31_337, 1e6


def name(run_id: str) -> str:
    return f"{PROJECT}/runs/{run_id}"


@pytest.fixture(scope="module")
def env(server):  # type: ignore[no-untyped-def]
    pool = server.deps.pool

    async def load() -> dict[str, int]:
        pid = await fx.create_project(pool, "hist", "p")
        pks = {}
        steps = np.arange(N)
        smooth = np.sin(steps / 5000.0)
        spiky = smooth.copy()
        spiky[SPIKE_STEP] = SPIKE
        spiky[77_777] = -SPIKE
        pks["long"] = await fx.add_run(pool, pid, "long")
        await fx.add_series(pool, pks["long"], "train/loss", steps, spiky, chunk_points=1000)
        await fx.add_series(pool, pks["long"], "lr", steps[::10], 1.0 / (1 + steps[::10]), chunk_points=500)
        await fx.add_series(pool, pks["long"], "epoch", steps[::1000], steps[::1000] // 1000, chunk_points=50)
        pks["ooo"] = await fx.add_run(pool, pid, "ooo")  # out of order, a step logged twice
        await fx.add_series(pool, pks["ooo"], "m", [0, 1, 2, 3, 4], [0.0, 1.0, 2.0, 3.0, 4.0], chunk_points=5)
        await fx.add_series(pool, pks["ooo"], "m", [2, 5, 1], [20.0, 5.0, 10.0], chunk_points=3)
        for i, lr in enumerate([0.1, 0.1, 0.01, 0.01]):
            pks[f"agg{i}"] = await fx.add_run(pool, pid, f"agg{i}", config={"lr": lr})
            await fx.add_series(
                pool, pks[f"agg{i}"], "loss", np.arange(100), np.full(100, float(i)), chunk_points=30
            )
        return pks

    return server, server.run(load())


def history(client, run: str, keys, **kw):  # type: ignore[no-untyped-def]
    resp = client.query.GetHistory(q.GetHistoryRequest(run=name(run), keys=list(keys), **kw))
    return {s.key: s for s in resp.series}


def as_tuple(s) -> tuple:  # type: ignore[no-untyped-def]
    return (list(s.steps), list(s.values), list(s.times), s.total_points)


@pytest.mark.parametrize("samples", [100, 1000, 2000])
def test_sampling_is_deterministic_bounded_and_keeps_first_last_and_spikes(env, samples) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client()
    a = history(client, "long", ["train/loss"], samples=samples)["train/loss"]
    b = history(client, "long", ["train/loss"], samples=samples)["train/loss"]
    assert as_tuple(a) == as_tuple(b)
    assert len(a.steps) <= samples and a.total_points == N
    assert a.steps[0] == 0 and a.steps[-1] == N - 1
    assert list(a.steps) == sorted(set(a.steps))
    assert SPIKE in a.values and -SPIKE in a.values
    assert a.steps[list(a.values).index(SPIKE)] == SPIKE_STEP


def test_small_ranges_return_every_point_and_respect_bounds(env) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client()
    s = history(client, "long", ["train/loss"], samples=500, min_step=1000, max_step=1299)["train/loss"]
    assert list(s.steps) == list(range(1000, 1300)) and s.total_points == 300
    assert s.times[0] == pytest.approx(1.7e9 + 1000 * 0.01)
    t = history(client, "long", ["train/loss"], samples=50, min_step=10_500, max_step=60_250)["train/loss"]
    assert t.steps[0] == 10_500 and t.steps[-1] == 60_250 and t.total_points == 49_751
    assert SPIKE in t.values and len(t.steps) <= 50


def test_unknown_keys_give_empty_series(env) -> None:  # type: ignore[no-untyped-def]
    s = history(env[0].client(), "long", ["nope", "lr"], samples=10)
    assert len(s["nope"].steps) == 0 and s["nope"].total_points == 0 and 2 <= len(s["lr"].steps) <= 10


@pytest.mark.parametrize(
    "kw",
    [dict(samples=200), dict(samples=1000), dict(samples=300, min_step=5_123, max_step=90_001),
     dict(samples=400, x_axis="_timestamp"), dict(samples=64, min_step=SPIKE_STEP)],
)  # fmt: skip
def test_rollups_never_change_an_answer(env, kw) -> None:  # type: ignore[no-untyped-def]
    server, pks = env
    client = server.client()
    before = history(client, "long", ["train/loss", "lr"], **kw)

    async def roll() -> None:
        async with server.deps.pool.acquire() as conn:
            for key_id in (0, 1):
                await rollup.roll_key(conn, pks["long"], key_id)

    server.run(roll())
    after = history(client, "long", ["train/loss", "lr"], **kw)
    assert {k: as_tuple(v) for k, v in before.items()} == {k: as_tuple(v) for k, v in after.items()}


def test_a_rollup_over_compacted_chunks_is_ignored_then_rebuilt(env) -> None:  # type: ignore[no-untyped-def]
    server, _ = env
    pool = server.deps.pool

    async def setup() -> int:
        pid = await fx.create_project(pool, "hist", "p")
        pk = await fx.add_run(pool, pid, "compact")
        await fx.add_series(
            pool, pk, "x", np.arange(50_000), np.cos(np.arange(50_000) / 300.0), chunk_points=1000
        )
        async with pool.acquire() as conn:
            await rollup.roll_key(conn, pk, 0)
            # what a compaction by ingest looks like: two rows merged into one new row
            rows = await conn.fetch(
                "SELECT id, steps, vals, times FROM metric_chunks WHERE run_id = $1 ORDER BY first_step LIMIT 2",
                pk,
            )
            await conn.execute(
                "DELETE FROM metric_chunks WHERE id = ANY($1::int8[])", [r["id"] for r in rows]
            )
            steps = np.frombuffer(b"".join(r["steps"] for r in rows), dtype="<i8")
            await conn.execute(
                """INSERT INTO metric_chunks (run_id, key_id, first_step, last_step, n, steps, vals, times)
                   VALUES ($1, 0, $2, $3, $4, $5, $6, $7)""",
                pk, int(steps[0]), int(steps[-1]), len(steps), b"".join(r["steps"] for r in rows),
                b"".join(r["vals"] for r in rows), b"".join(r["times"] for r in rows),
            )  # fmt: skip
        return pk

    pk = server.run(setup())
    client = server.client()
    with_stale = as_tuple(history(client, "compact", ["x"], samples=100)["x"])

    async def raw_then_rebuild() -> None:
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM metric_rollups WHERE run_id = $1", pk)

    server.run(raw_then_rebuild())
    raw = as_tuple(history(client, "compact", ["x"], samples=100)["x"])

    async def rebuild() -> int:
        async with pool.acquire() as conn:
            return await rollup.roll_key(conn, pk, 0)

    assert server.run(rebuild()) == 50_000
    rebuilt = as_tuple(history(client, "compact", ["x"], samples=100)["x"])
    assert with_stale == raw == rebuilt


def test_out_of_order_rows_merge_by_step_and_the_last_write_wins(env) -> None:  # type: ignore[no-untyped-def]
    server, pks = env
    client = server.client()
    s = history(client, "ooo", ["m"], samples=100)["m"]
    assert list(s.steps) == [0, 1, 2, 3, 4, 5]
    assert list(s.values) == [0.0, 10.0, 20.0, 3.0, 4.0, 5.0]
    assert s.total_points == 8
    pages = list(client.query.ScanHistory(q.ScanHistoryRequest(run=name("ooo"), keys=["m"], page_size=3)))
    points = [(st, v) for p in pages for ser in p.series for st, v in zip(ser.steps, ser.values, strict=True)]
    assert points == [(0, 0.0), (1, 1.0), (1, 10.0), (2, 2.0), (2, 20.0), (3, 3.0), (4, 4.0), (5, 5.0)]

    async def roll() -> int:
        async with server.deps.pool.acquire() as conn:
            return await rollup.roll_key(conn, pks["ooo"], 0)

    assert server.run(roll()) == 0  # never rolled up: always read raw


def scan_points(client, run: str, keys, page_size: int, **kw):  # type: ignore[no-untyped-def]
    req = q.ScanHistoryRequest(run=name(run), keys=list(keys), page_size=page_size, **kw)
    sizes, points = [], []
    for page in client.query.ScanHistory(req):
        sizes.append(sum(len(s.steps) for s in page.series))
        merged = [(st, s.key, v) for s in page.series for st, v in zip(s.steps, s.values, strict=True)]
        points += sorted(merged, key=lambda p: p[0])  # stable: each series is already in step order
    return sizes, points


def test_scan_streams_every_point_in_step_order_in_full_pages(env) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client()
    sizes, points = scan_points(client, "long", ["train/loss", "lr", "epoch"], 7_000)
    assert sum(sizes) == N + N // 10 + N // 1000
    assert all(size == 7_000 for size in sizes[:-1]) and 0 < sizes[-1] <= 7_000
    steps = [p[0] for p in points]
    assert steps == sorted(steps)
    assert (SPIKE_STEP, "train/loss", SPIKE) in points
    _, window = scan_points(client, "long", ["lr"], 100, min_step=995, max_step=1_031)
    assert [p[0] for p in window] == [1000, 1010, 1020, 1030]


def test_scan_memory_is_bounded_by_chunks_in_flight_not_by_series_length(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    peak = [0]
    original = scan._KeyReader.fill

    async def fill(self, conn, run):  # type: ignore[no-untyped-def]
        await original(self, conn, run)
        peak[0] = max(peak[0], len(self.pending))

    monkeypatch.setattr(scan._KeyReader, "fill", fill)
    sizes, _ = scan_points(env[0].client(), "long", ["train/loss"], 1_000)
    assert sum(sizes) == N and max(sizes) == 1_000
    assert peak[0] <= (scan.CHUNK_BATCH + 1) * 1000  # rows of 1000 points: a batch in flight, not the series


def test_batch_history_equals_one_call_per_run(env) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client()
    runs = [name("long"), name("agg0"), name("ooo")]
    resp = client.query.BatchGetHistory(
        q.BatchGetHistoryRequest(runs=runs, keys=["train/loss", "loss"], samples=80)
    )
    assert [(s.run, s.key) for s in resp.series] == [(r, k) for r in runs for k in ("train/loss", "loss")]
    for s in resp.series:
        single = client.query.GetHistory(q.GetHistoryRequest(run=s.run, keys=[s.key], samples=80)).series[0]
        assert as_tuple(s) == as_tuple(single)


def test_aggregate_history_groups_runs_with_mean_and_band(env) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client()
    req = q.AggregateHistoryRequest(parent=PROJECT, key="loss", group_by="config.lr", buckets=10)
    bands = {b.value_json: b for b in client.query.AggregateHistory(req).bands}
    assert list(bands) == ["0.01", "0.1"]
    low, high = bands["0.01"], bands["0.1"]  # runs 2, 3 have values 2.0, 3.0; runs 0, 1 have 0.0, 1.0
    assert low.run_count == 2 and list(low.steps) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert set(low.mean) == {2.5} and set(low.min) == {2.0} and set(low.max) == {3.0}
    assert set(high.mean) == {0.5}
    only = q.AggregateHistoryRequest(
        parent=PROJECT, key="loss", filter_json=json.dumps({"config.lr": 0.1}), buckets=4
    )
    (band,) = client.query.AggregateHistory(only).bands
    assert band.value_json == "null" and band.run_count == 2 and list(band.steps) == [0, 25, 50, 75]


def test_list_metric_keys_reports_counts_and_step_ranges(env) -> None:  # type: ignore[no-untyped-def]
    keys = env[0].client().query.ListMetricKeys(q.ListMetricKeysRequest(run=name("long"))).keys
    assert [(k.key, k.count, k.min_step, k.max_step) for k in keys] == [
        ("epoch", 100, 0, 99_000), ("lr", 10_000, 0, 99_990), ("train/loss", N, 0, N - 1),
    ]  # fmt: skip


def test_x_axis_key_joins_values_at_the_same_step(env) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client()
    s = history(client, "long", ["train/loss"], samples=1000, x_axis="epoch")["train/loss"]
    assert list(s.steps) == list(range(0, N, 1000)) and list(s.x_values) == list(range(100))
    t = history(client, "long", ["lr"], samples=10, x_axis="_timestamp")["lr"]
    assert 2 <= len(t.steps) <= 10 and len(t.x_values) == 0 and t.steps[0] == 0


def test_points_are_visible_as_soon_as_they_are_written(env) -> None:  # type: ignore[no-untyped-def]
    server, pks = env
    client = server.client()
    before = history(client, "long", ["train/loss"], samples=100)["train/loss"]

    async def write() -> None:
        async with server.deps.pool.acquire() as conn:
            for key_id in (0,):
                await rollup.roll_key(conn, pks["long"], key_id)
        await fx.add_series(server.deps.pool, pks["long"], "train/loss", [N + 5], [-7e6])

    server.run(write())
    after = history(client, "long", ["train/loss"], samples=100)["train/loss"]
    assert after.total_points == before.total_points + 1
    assert after.steps[-1] == N + 5 and -7e6 in after.values


def test_history_bad_input_has_field_and_reason(env) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client()
    invalid, missing = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    get = lambda **kw: client.query.GetHistory(q.GetHistoryRequest(**kw))  # noqa: E731
    expect(lambda: get(run=name("long")), invalid, Reason.FIELD_REQUIRED, "keys")
    expect(
        lambda: get(run=name("long"), keys=["a"], samples=100_001), invalid, Reason.OUT_OF_RANGE, "samples"
    )
    expect(lambda: get(run=name("long"), keys=["bad*key"]), invalid, Reason.INVALID_NAME, "keys")
    expect(lambda: get(run=name("long"), keys=["a"], min_step=5, max_step=1), invalid, Reason.OUT_OF_RANGE)
    expect(lambda: get(run=name("long"), keys=["a"], x_axis="_bogus"), invalid, Reason.INVALID_NAME, "x_axis")
    expect(lambda: get(run="runs/x", keys=["a"]), invalid, Reason.INVALID_NAME, "run")
    expect(lambda: get(run=name("nope"), keys=["a"]), missing, Reason.NOT_FOUND)
    # a page size above the maximum (100,000) is coerced to it (AIP-158): "lr" fits in one page
    scan_req = q.ScanHistoryRequest(run=name("long"), keys=["lr"], page_size=100_001)
    pages = list(client.query.ScanHistory(scan_req))
    assert len(pages) == 1 and len(pages[0].series[0].steps) == N // 10
    scan_req = q.ScanHistoryRequest(run=name("long"), keys=["lr"], page_size=-1)
    expect(lambda: list(client.query.ScanHistory(scan_req)), invalid, Reason.OUT_OF_RANGE, "page_size")
    batch = lambda **kw: client.query.BatchGetHistory(q.BatchGetHistoryRequest(**kw))  # noqa: E731
    expect(lambda: batch(keys=["a"]), invalid, Reason.FIELD_REQUIRED, "runs")
    expect(lambda: batch(runs=[name("x")] * 1001, keys=["a"]), invalid, Reason.OUT_OF_RANGE, "runs")
    expect(lambda: batch(runs=[name("nope")], keys=["a"]), missing, Reason.NOT_FOUND)
    agg = lambda **kw: client.query.AggregateHistory(q.AggregateHistoryRequest(parent=PROJECT, **kw))  # noqa: E731
    expect(lambda: agg(key="loss", buckets=10_001), invalid, Reason.OUT_OF_RANGE, "buckets")
    expect(lambda: agg(), invalid, Reason.FIELD_REQUIRED, "key")
    expect(lambda: agg(key="loss", group_by="bogus"), invalid, Reason.INVALID_ORDER, "group_by")


def test_the_rollup_job_finds_new_chunks_and_rolls_long_series(env) -> None:  # type: ignore[no-untyped-def]
    server, _ = env
    pool = server.deps.pool

    async def passes() -> tuple[dict, int]:
        pid = await fx.create_project(pool, "hist", "p")
        pk = await fx.add_run(pool, pid, "fresh")
        await fx.add_series(pool, pk, "y", np.arange(20_000), np.ones(20_000), chunk_points=2000)
        first = await rollup.rollup_pass(server.deps)
        async with pool.acquire() as conn:
            covered = await conn.fetchval(
                "SELECT sum(cardinality(chunk_ids)) FROM metric_rollups WHERE run_id = $1", pk
            )
        return first, covered

    first, covered = server.run(passes())
    assert first["keys_rolled"] >= 1 and covered == 10
    assert server.run(rollup.rollup_pass(server.deps)) == {}  # nothing new: nothing to do
