"""Query benchmarks: run search at 100k runs, sampled history of a 1M-point series, scan throughput,
and what the query service's indexes cost the ingest path. Every figure is printed next to a baseline
measured in the same run.

    make bench BENCH_ARGS=query            # 100,000 runs, 1,000,000 points
    make bench BENCH_ARGS="query --quick"  # 10,000 runs, 200,000 points
    python -m bench query --quick --runs=1000000 --only=search   # the runs table at 1M runs

Sections: search (first page of every kind of filter the runs table sends, next to the same search
without the filter indexes; the match count with allow_estimate next to the exact count), compare
(BatchGetHistory of 1,000 runs next to the old one-run-at-a-time read), history, ingest (what the
indexes cost the ingest path).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from strata.query.v1 import query_service_pb2 as q

from bench.serving import postgres_database, server_thread
from tests.fixtures import query as fx
from tests.fixtures.servers import ServerThread

PARENT = "entities/bench/projects/sweep"
SEARCHES = {
    "config == + summary range, sort by another summary": (
        {"config.optimizer": "adam", "summary.val/loss": {"$lt": 0.5}},
        ["-summary.val/f1"],
    ),
    "config == + summary range, sort by the same summary": (
        {"config.model.name": "roberta", "summary.val/f1": {"$gte": 0.2, "$lt": 0.9}},
        ["-summary.val/f1"],
    ),
    "state + config range, sort by summary (quick-start example)": (
        {"state": "finished", "config.lr": {"$gt": 1e-4}},
        ["-summary.val/f1"],
    ),
    "very selective config filter (~no match), sort by summary": (
        {"config.seed": 4242, "summary.val/loss": {"$lt": 2}},
        ["-summary.val/f1"],
    ),
    "default order (-created_at), tag + config filter": ({"tags": "t3", "config.fp16": True}, []),
    "very selective config $in, default order": ({"config.seed": {"$in": [4242, 17]}}, []),
    "quick filter: state": ({"state": "crashed"}, []),
    "quick filter: rare job_type": ({"job_type": "eval"}, []),
    "quick filter: rare group, sort by summary": ({"group": "nope"}, ["-summary.val/f1"]),
    "quick filter: rare user": ({"user": "nobody"}, []),
    "quick filter: rare tag": ({"tags": "zzz"}, []),
    "selective summary range": ({"summary.val/f1": {"$gt": 0.9999}}, []),
    "created_at range, sort by summary": ({"created_at": {"$gt": "2024-01-10"}}, ["-summary.val/f1"]),
    "config range, rare (side index: config numbers)": ({"config.lr": {"$lt": 1.0001e-5}}, []),
    "config range, no match (side index), sort by summary": (
        {"config.lr": {"$gt": 0.01}},
        ["-summary.val/f1"],
    ),
    "config range, 0.5% (side index)": ({"config.warmup_steps": {"$gte": 1990}}, []),
    "config range, 4% (ordered walk)": ({"config.lr": {"$gt": 0.0075}}, []),
    "name $regex, 1 match (side index: trigrams)": ({"display_name": {"$regex": "^run 12345$"}}, []),
    "name $regex i, 11 matches (trigrams)": ({"display_name": {"$regex": "RUN 1234", "$options": "i"}}, []),
    "config string $regex, no match (trigrams)": ({"config.model.name": {"$regex": "llama"}}, []),
    "config string $regex, common (ordered walk)": ({"config.model.name": {"$regex": "^rob"}}, []),
    "name $regex, common literal, 1.1% (trigrams or longer walk)": (
        {"display_name": {"$regex": "^run 1.*5$"}},
        [],
    ),
    "name $regex, no literal, rare (scan fallback)": (
        {"display_name": {"$regex": "^[a-z]+ 9[0-9]{2}77$"}},
        [],
    ),
}
FILTER_INDEXES = [
    "runs_config_path",
    "runs_project_job_type",
    "runs_project_group",
    "runs_project_author",
    "runs_tags",
]
NAIVE_SQL = """
SELECT r.id FROM runs r
JOIN metric_keys f ON f.run_id = r.id AND f.key = 'val/f1'
JOIN metric_keys l ON l.run_id = r.id AND l.key = 'val/loss'
WHERE r.project_id = $1 AND r.config ->> 'optimizer' = 'adam' AND l.last < 0.5
ORDER BY f.last DESC, r.id DESC LIMIT 10"""


def p50(fn: Callable[[], Any], n: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def line(label: str, ms: float, base_label: str, base_ms: float) -> None:
    print(f"  {label:<58} p50 {ms:8.2f} ms   | {base_label}: {base_ms:8.1f} ms   ({base_ms / ms:6.1f}x)")


def bench_search(srv: ServerThread, project_id: int, n_runs: int, iters: int) -> None:
    client = srv.client()
    print(f"\n-- run search: {n_runs:,} runs x 20 config keys x 20 summary metrics, first page of 50 "
          "(gRPC, end to end; goal <= 100 ms at 100k runs, <= 300 ms at 1M)")  # fmt: skip
    naive_ms = srv.run(naive_scan(srv, project_id, iters), timeout=600)
    print(f"  (baseline for the first five: their first filter as an unindexed SQL scan, {naive_ms:.1f} ms)")
    for label, (doc, order) in SEARCHES.items():
        req = q.SearchRunsRequest(parent=PARENT, filter_json=json.dumps(doc), order_by=order, page_size=50)
        found = len(client.query.SearchRuns(req).runs)
        ms = p50(lambda req=req: client.query.SearchRuns(req), iters)
        n = max(3, iters // 5)
        sql_ms = srv.run(search_sql(srv, project_id, doc, order, n, drop=False), timeout=600)
        base = srv.run(search_sql(srv, project_id, doc, order, n, drop=True), timeout=600)
        print(f"  {label + f' [{found}]':<58} p50 {ms:8.2f} ms   | its SQL: {sql_ms:7.1f} ms, without the "
              f"filter indexes: {base:7.1f} ms ({base / sql_ms:6.1f}x)")  # fmt: skip
    print("\n-- match count: CountRuns(allow_estimate=true) | the exact CountRuns (the old call)")
    for label, (doc, _) in SEARCHES.items():
        text = json.dumps(doc)
        fast = q.CountRunsRequest(parent=PARENT, filter_json=text, allow_estimate=True)
        exact = q.CountRunsRequest(parent=PARENT, filter_json=text)
        got, truth = client.query.CountRuns(fast), client.query.CountRuns(exact).count
        ms = p50(lambda fast=fast: client.query.CountRuns(fast), max(3, iters // 3))
        base = p50(lambda exact=exact: client.query.CountRuns(exact), max(3, iters // 5), warmup=1)
        shown = f"~{got.count:,} (exact {truth:,})" if got.estimated else f"{got.count:,}"
        line(f"{label[:36]} {shown}", ms, "exact count", base)


async def vacuum_side_indexes(pool: Any) -> None:
    """What autovacuum does soon after a bulk load: statistics, the visibility map (index-only scans of
    run_config_numbers) and the GIN pending list of run_text_trigrams."""
    async with pool.acquire() as conn:
        await conn.execute("VACUUM ANALYZE run_config_numbers, run_text_trigrams")
        sizes = await conn.fetch(
            """SELECT relname, pg_total_relation_size(oid) AS bytes FROM pg_class
               WHERE relname IN ('runs', 'run_config_numbers', 'run_text_trigrams') ORDER BY relname"""
        )
    print(
        "  sizes with indexes: " + ", ".join(f"{r['relname']} {r['bytes'] / 2**20:,.0f} MiB" for r in sizes)
    )


async def naive_scan(srv: ServerThread, project_id: int, iters: int) -> float:
    async with srv.deps.pool.acquire() as conn, conn.transaction():
        for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
            await conn.execute(f"SET LOCAL {setting} = off")
        times = []
        for _ in range(max(3, iters // 5)):
            t = time.perf_counter()
            await conn.fetch(NAIVE_SQL, project_id)
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1000


async def search_sql(
    srv: ServerThread, project_id: int, doc: dict, order: list[str], n: int, *, drop: bool
) -> float:
    """The search's own SQL (search/store.py; no gRPC, no loading of the page's runs); with drop, in
    a transaction that dropped the filter indexes of query/0002 and is rolled back: what the same
    statements cost without them."""
    from strata_server.query.search import attrs, candidates, filters, store

    cap = candidates.CAP
    spec = store.SearchSpec(
        project_id, filters.parse_filter(json.dumps(doc)), attrs.parse_order(order), None, 51
    )
    async with srv.deps.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            if drop:  # ... and without the side indexes of query/0003 (no candidate sets)
                await conn.execute(f"DROP INDEX {', '.join(FILTER_INDEXES)}")
                candidates.CAP = -1
            await store.begin_read(conn)
            times = []
            for _ in range(n):
                t = time.perf_counter()
                await store.search_ids(conn, spec, 600)
                times.append(time.perf_counter() - t)
            return statistics.median(times) * 1000
        finally:
            candidates.CAP = cap
            await tx.rollback()


def bench_history(srv: ServerThread, project_id: int, points: int, iters: int) -> None:
    from strata_server.query.history import rollup

    client = srv.client()
    print(f"\n-- history: one series of {points:,} points in rows of 1,000 (the metric_chunks layout)")
    pool = srv.deps.pool
    run_pk = srv.run(fx.add_run(pool, project_id, "long-run"))
    steps = np.arange(points)
    values = np.cumsum(np.random.default_rng(1).standard_normal(points))
    values[points // 3] = 1e9  # a spike sampling must keep
    srv.run(fx.add_series(pool, run_pk, "train/loss", steps, values, chunk_points=1000), timeout=600)
    req = q.GetHistoryRequest(run=f"{PARENT}/runs/long-run", keys=["train/loss"], samples=1000)
    raw_ms = p50(lambda: client.query.GetHistory(req), iters)

    async def roll() -> float:
        t = time.perf_counter()
        async with pool.acquire() as conn:
            await rollup.roll_key(conn, run_pk, 0)
        return time.perf_counter() - t

    roll_s = srv.run(roll(), timeout=600)
    got = client.query.GetHistory(req).series[0]
    assert 1e9 in got.values and len(got.steps) <= 1000
    ms = p50(lambda: client.query.GetHistory(req), iters)
    line("GetHistory(samples=1000), with rollup", ms, "same call reading every point", raw_ms)
    print(
        f"  rollup job: {points / roll_s / 1e6:.2f} M points/s rolled ({roll_s * 1000:.0f} ms for the series)"
    )
    bench_scan(srv, run_pk, points)


def bench_scan(srv: ServerThread, run_pk: int, points: int) -> None:
    from strata.sdk.api import Api

    client = srv.client()
    req = q.ScanHistoryRequest(run=f"{PARENT}/runs/long-run", keys=["train/loss"], page_size=10_000)
    t = time.perf_counter()
    n = sum(len(s.steps) for page in client.query.ScanHistory(req) for s in page.series)
    scan_s = time.perf_counter() - t
    assert n == points

    async def raw() -> float:
        t0 = time.perf_counter()
        async with srv.deps.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT steps, vals, times FROM metric_chunks WHERE run_id = $1 ORDER BY first_step, id",
                run_pk,
            )
            np.frombuffer(b"".join(r["vals"] for r in rows))
        return time.perf_counter() - t0

    raw_s = srv.run(raw(), timeout=600)
    print(f"  ScanHistory stream (gRPC, columnar pages)     {points / scan_s / 1e6:7.2f} M points/s"
          f"   | raw asyncpg read of the chunks: {points / raw_s / 1e6:.2f} M points/s ({scan_s / raw_s:.1f}x slower)")  # fmt: skip
    run = Api(srv.addr).run(f"{PARENT}/runs/long-run")
    t = time.perf_counter()
    rows = sum(1 for _ in run.scan_history(["train/loss"], page_size=10_000))
    sdk_s = time.perf_counter() - t
    print(f"  SDK scan_history (one dict per row)           {rows / sdk_s / 1e6:7.2f} M rows/s")


async def load_compare(pool: Any, project_id: int, runs: int, points: int) -> list[str]:
    """`runs` runs with one metric of `points` points each (rows of 1,000 points), by COPY."""
    rng = np.random.default_rng(2)
    async with pool.acquire() as conn:
        start = int(await conn.fetchval("SELECT COALESCE(max(id), 0) + 1 FROM runs"))
        ids = list(range(start, start + runs))
        await conn.copy_records_to_table(
            "runs", records=[(i, project_id, f"cmp-{i}") for i in ids], columns=["id", "project_id", "run_id"]
        )
        await conn.execute("SELECT setval('runs_id_seq', (SELECT max(id) FROM runs))")
        await conn.copy_records_to_table(
            "metric_keys",
            records=[(i, 0, "cmp/loss", points) for i in ids],
            columns=["run_id", "key_id", "key", "count"],
        )
        steps = np.arange(points, dtype="<i8")
        rows = []
        for i in ids:
            vals = np.cumsum(rng.standard_normal(points)).astype("<f8")
            times = (1.7e9 + steps * 0.01).astype("<f8")
            for a in range(0, points, 1000):
                b = min(points, a + 1000)
                rows.append(
                    (i, 0, a, b - 1, b - a, steps[a:b].tobytes(), vals[a:b].tobytes(), times[a:b].tobytes())
                )
        cols = ["run_id", "key_id", "first_step", "last_step", "n", "steps", "vals", "times"]
        await conn.copy_records_to_table("metric_chunks", records=rows, columns=cols)
        await conn.execute("ANALYZE metric_chunks; ANALYZE metric_keys; ANALYZE runs")
    return [f"{PARENT}/runs/cmp-{i}" for i in ids]


def bench_compare(srv: ServerThread, project_id: int, runs: int, points: int, iters: int) -> None:
    """The compare chart: BatchGetHistory of `runs` runs x 1 metric, samples=500 (goal <= 1 s),
    next to the way it used to read: one run at a time (that code, in-process, without gRPC)."""
    from strata_server.query.history import domain as hd

    names = srv.run(load_compare(srv.deps.pool, project_id, runs, points), timeout=1200)
    client = srv.client()
    req = q.BatchGetHistoryRequest(runs=names, keys=["cmp/loss"], samples=500)
    resp = client.query.BatchGetHistory(req, timeout=600)
    assert len(resp.series) == runs and all(len(x.steps) <= 500 for x in resp.series)

    async def one_run_at_a_time() -> float:
        t = time.perf_counter()
        async with (
            srv.deps.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            for name in names:
                pk = await hd.resolve_run(conn, name, "runs", 600)
                await hd._history_of_run(conn, name, pk, ["cmp/loss"], 500, None, None, "_step")
        return (time.perf_counter() - t) * 1000

    async def batched() -> float:
        t = time.perf_counter()
        await hd.batch_get_history(srv.deps.pool, names, ["cmp/loss"], 500, 600)
        return (time.perf_counter() - t) * 1000

    n = max(3, iters // 5)
    old, new = [], []
    for i in range(n + 1):  # interleaved, so load from other work hits both alike; the first is warm-up
        pair = (one_run_at_a_time, batched) if i % 2 else (batched, one_run_at_a_time)
        got = {fn: srv.run(fn(), timeout=600) for fn in pair}
        if i:
            old.append(got[one_run_at_a_time])
            new.append(got[batched])
    rpc = p50(lambda: client.query.BatchGetHistory(req, timeout=600), n, warmup=1)
    print(
        f"\n-- compare chart: {runs:,} runs x 1 metric of {points:,} points, samples=500 (goal <= 1 s server time)"
    )
    line(
        "BatchGetHistory, server time (in-process)",
        statistics.median(new),
        "one run at a time (old code)",
        statistics.median(old),
    )
    print(
        f"  BatchGetHistory over gRPC, end to end (+ {runs * 500 * 24 / 1e6:.0f} MB of protobuf both ways): p50 {rpc:.0f} ms"
    )


async def ingest_cost(dsn: str, updates: int) -> None:
    """What the query service's indexes cost the ingest path, each next to the same statement
    without the index, interleaved so load from other processes hits both alike."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        print("\n-- cost of the query service's indexes to ingest")
        await update_cost(conn, updates)
        await runs_cost(conn, updates)
        await create_cost(dsn, updates)
        await copy_cost(conn)
    finally:
        await conn.close()


async def update_cost(conn: Any, updates: int) -> None:
    """metric_keys updates (ingest: once per key per batch) with and without metric_keys_key_value."""
    await conn.execute(
        "CREATE TEMP TABLE mk_plain (LIKE metric_keys INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    await conn.execute("ALTER TABLE mk_plain ADD PRIMARY KEY (run_id, key_id), ADD UNIQUE (run_id, key)")
    await conn.execute("CREATE TEMP TABLE mk_indexed (LIKE metric_keys INCLUDING ALL)")
    for table in ("mk_plain", "mk_indexed"):
        await conn.execute(
            f"INSERT INTO {table} (run_id, key_id, key, last) SELECT r, k, 'key' || k, 0 "
            "FROM generate_series(1, 100) r, generate_series(1, 100) k"
        )
    times: dict[str, list[float]] = {"mk_plain": [], "mk_indexed": []}
    for i in range(updates):
        for table in ("mk_plain", "mk_indexed") if i % 2 else ("mk_indexed", "mk_plain"):
            t = time.perf_counter()
            await conn.execute(
                f"""UPDATE {table} m SET count = count + 10, last = u.v, last_step = last_step + 10,
                           sum = sum + u.v, max = greatest(max, u.v), min = least(min, u.v)
                    FROM unnest($1::int[], $2::float8[]) AS u(k, v) WHERE m.run_id = $3 AND m.key_id = u.k""",
                list(range(1, 101)), list(np.random.default_rng(i).random(100)), i % 100 + 1,
            )  # fmt: skip
            times[table].append(time.perf_counter() - t)
    per = {table: statistics.median(v) / 100 * 1e6 for table, v in times.items()}
    extra = 100 * 100 * (per["mk_indexed"] - per["mk_plain"]) / 1e4
    print(f"  metric_keys row update (batch of 100 keys)    {per['mk_indexed']:.2f} us with metric_keys_key_value"
          f"   | without: {per['mk_plain']:.2f} us ({per['mk_indexed'] / per['mk_plain']:.2f}x)")  # fmt: skip
    print(
        f"    at 1M points/s in batches of 10,000 points x 100 keys (10,000 key updates/s): {extra:.2f}% of a core"
    )


async def runs_cost(conn: Any, updates: int) -> None:
    """The per-batch runs update of ingest (point_count, heartbeat_time: already not HOT because of
    runs_running_heartbeat) with and without runs_project_created."""
    await conn.execute("CREATE TEMP TABLE runs_plain (LIKE runs INCLUDING DEFAULTS)")
    await conn.execute("ALTER TABLE runs_plain ADD PRIMARY KEY (id), ADD UNIQUE (project_id, run_id)")
    await conn.execute("CREATE INDEX ON runs_plain (heartbeat_time) WHERE state = 1")
    await conn.execute("CREATE TEMP TABLE runs_indexed (LIKE runs_plain INCLUDING ALL)")
    await conn.execute("CREATE INDEX ON runs_indexed (project_id, create_time, id)")
    await conn.execute("CREATE TEMP TABLE runs_filters (LIKE runs_indexed INCLUDING ALL)")
    await conn.execute(  # the filter indexes of query/0002
        """CREATE INDEX ON runs_filters USING gin (config jsonb_path_ops);
           CREATE INDEX ON runs_filters (project_id, job_type); CREATE INDEX ON runs_filters (project_id, run_group);
           CREATE INDEX ON runs_filters (project_id, author_name); CREATE INDEX ON runs_filters USING gin (tags)"""
    )
    times: dict[str, list[float]] = {"runs_plain": [], "runs_indexed": [], "runs_filters": []}
    config = json.dumps(fx._config(np.random.default_rng(0)))
    for table in times:
        await conn.execute(
            f"""INSERT INTO {table} (id, project_id, run_id, config, tags)
                SELECT i, 1, 'r' || i, $1::jsonb, ARRAY['bert', 't' || i % 7] FROM generate_series(1, 100) i""",
            config,
        )
    order = list(times)
    for i in range(updates * 10):
        for table in order if i % 2 else order[::-1]:
            t = time.perf_counter()
            await conn.execute(
                f"UPDATE {table} SET point_count = point_count + 100, heartbeat_time = now() WHERE id = $1",
                i % 100 + 1,
            )
            times[table].append(time.perf_counter() - t)
    per = {table: statistics.median(v) * 1e6 for table, v in times.items()}
    print(f"  runs update per metric batch                  {per['runs_indexed']:.1f} us with runs_project_created"
          f"   | without: {per['runs_plain']:.1f} us ({per['runs_indexed'] / per['runs_plain']:.2f}x)")  # fmt: skip
    print(f"    ... and with the filter indexes too         {per['runs_filters']:.1f} us"
          f"   | without any: {per['runs_plain']:.1f} us ({per['runs_filters'] / per['runs_plain']:.2f}x)")  # fmt: skip


SIDE_TRIGGERS = ["runs_search_index_insert", "runs_search_index_update", "runs_search_index_delete"]


async def create_cost(dsn: str, updates: int) -> None:
    """Creating a run (INSERT with a 20-key config), ingest's per-batch runs update and a config
    update, with the search side-index triggers of query/0003 and with them disabled, in alternating
    blocks of 25 (the first statement after each switch, which plans again, is not counted)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET synchronous_commit = off")  # commits do not wait for the disk
        pid = await conn.fetchval(
            """WITH e AS (INSERT INTO entities (name, kind) VALUES ('cost', 'user') RETURNING id)
               INSERT INTO projects (entity_id, name) SELECT id, 'cost' FROM e RETURNING id"""
        )
        config = json.dumps(fx._config(np.random.default_rng(0)))
        statements = {
            "create": "INSERT INTO runs (project_id, run_id, display_name, config) VALUES ($1, $2, $2, $3::jsonb)",
            "per-batch update": "UPDATE runs SET point_count = point_count + 100, heartbeat_time = now() "
            "WHERE project_id = $1 AND run_id = $2 AND $3::jsonb IS NOT NULL",
            "config update": "UPDATE runs SET config = jsonb_set($3::jsonb, '{seed}', to_jsonb(length($2))) "
            "WHERE project_id = $1 AND run_id = $2",
        }
        times: dict[tuple[str, bool], list[float]] = {}
        for block in range(max(4, updates // 25)):
            on = block % 2 == 1
            action = "ENABLE" if on else "DISABLE"
            await conn.execute("; ".join(f"ALTER TABLE runs {action} TRIGGER {t}" for t in SIDE_TRIGGERS))
            for i in range(26):
                for what, statement in statements.items():
                    t = time.perf_counter()
                    await conn.execute(statement, pid, f"c{block}-{i}", config)
                    if i:
                        times.setdefault((what, on), []).append(time.perf_counter() - t)
        await conn.execute("; ".join(f"ALTER TABLE runs ENABLE TRIGGER {t}" for t in SIDE_TRIGGERS))
    finally:
        await conn.close()
    for what in statements:
        with_, without = (statistics.median(times[(what, flag)]) * 1e6 for flag in (True, False))
        print(f"  run {what:<17} with the side-index triggers {with_:7.1f} us   | without: {without:7.1f} us"
              f" ({with_ / without:.2f}x)")  # fmt: skip


async def copy_cost(conn: Any) -> None:
    """COPY into metric_chunks with and without the BRIN index on id."""
    await conn.execute("CREATE TEMP TABLE mc_plain (LIKE metric_chunks INCLUDING ALL EXCLUDING INDEXES)")
    await conn.execute("CREATE INDEX ON mc_plain (run_id, key_id, first_step)")
    await conn.execute("CREATE TEMP TABLE mc_brin (LIKE metric_chunks INCLUDING ALL)")
    chunk = np.arange(100, dtype="<i8").tobytes()
    rows = [(1, k, i, i + 99, 100, chunk, chunk, chunk) for i in range(40) for k in range(50)]
    cols = ["run_id", "key_id", "first_step", "last_step", "n", "steps", "vals", "times"]
    copies: dict[str, list[float]] = {"mc_plain": [], "mc_brin": []}
    for i in range(10):
        for table in ("mc_plain", "mc_brin") if i % 2 else ("mc_brin", "mc_plain"):
            t = time.perf_counter()
            await conn.copy_records_to_table(table, records=rows, columns=cols)
            copies[table].append(time.perf_counter() - t)
    rate = {table: len(rows) / statistics.median(v) for table, v in copies.items()}
    print(f"  COPY into metric_chunks (rows of 100 points)  {rate['mc_brin']:,.0f} rows/s with the BRIN index"
          f"   | without: {rate['mc_plain']:,.0f} rows/s ({rate['mc_brin'] / rate['mc_plain']:.2f}x)")  # fmt: skip


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench query")
    parser.add_argument("--quick", action="store_true", help="10k runs, 200k points, fewer repetitions")
    parser.add_argument("--runs", type=int, default=0, help="runs in the searched project (default 100,000)")
    parser.add_argument("--only", choices=["search", "compare", "history", "ingest"], action="append")
    args = parser.parse_args(argv)
    n_runs, points, iters = (10_000, 200_000, 10) if args.quick else (100_000, 1_000_000, 30)
    n_runs = args.runs or n_runs
    only = set(args.only or ["search", "compare", "history", "ingest"])
    cmp_runs, cmp_points = (1000, 500) if args.quick else (1000, 2000)
    with postgres_database() as dsn:
        with server_thread(dsn, rollup_interval=0.0, pg_pool_max=4, pg_statement_timeout=0) as srv:
            t = time.perf_counter()
            project_id = srv.run(fx.create_project(srv.deps.pool, "bench", "sweep"))
            if only & {"search", "history"}:
                srv.run(fx.bulk_runs(srv.deps.pool, project_id, n_runs), timeout=7200)
                print(f"loaded {n_runs:,} runs in {time.perf_counter() - t:.0f} s (COPY)")
                t = time.perf_counter()
                srv.run(vacuum_side_indexes(srv.deps.pool), timeout=7200)
                print(
                    f"VACUUM ANALYZE of the search side indexes in {time.perf_counter() - t:.0f} s (autovacuum's job)"
                )
            if "search" in only:
                bench_search(srv, project_id, n_runs, iters)
            if "compare" in only:
                bench_compare(srv, project_id, cmp_runs, cmp_points, iters)
            if "history" in only:
                bench_history(srv, project_id, points, iters)
        if "ingest" in only:
            asyncio.run(ingest_cost(dsn, 50 if args.quick else 300))
    print(
        "\n(2-core machine: client, server and PostgreSQL share it; load from other work moves every figure)"
    )
