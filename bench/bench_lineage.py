"""Lineage: multi-hop traversal on a synthetic 100,000-node graph (`make bench BENCH_ARGS=lineage`).

The graph (bulk-loaded with COPY) is a layered pipeline: each layer has WIDTH runs and WIDTH versions;
every run uses two versions of the previous layer (and, half the time, one of any earlier layer) and
produces one version of its own layer. That gives ~2.5 inputs per run, like real training pipelines,
and a downstream closure from a first-layer dataset that covers most of the graph.

Figures, each next to baselines measured in the same run on the same data:
  * 5-hop upstream trace, p50/p95 over many start versions: the TraceUpstream RPC end to end (goal
    <= 100 ms), and three ways to walk the same hops against the same database: ours (one set-based
    query per hop, services/lineage/domain.walk), a single recursive CTE, and a naive walk with one
    query per node;
  * impact analysis of a first-layer version over the whole graph: the AnalyzeImpact RPC, our walk,
    a recursive CTE (UNION: reachable set only, no depths) and the naive per-node walk;
  * the paged impact view: the first page of AnalyzeImpact(page_size=1000) (goal <= 500 ms) and every
    page at page_size=10000, next to the unpaged RPC and the recursive CTE.
`--quick`: a 10,000-node graph and fewer repetitions (a smoke run).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

import asyncpg
from strata.lineage.v1 import lineage_pb2
from strata.lineage.v1 import lineage_service_pb2 as ls
from strata_server.common.auth import OpenLocalAuthorizer
from strata_server.lineage.server import SPEC as LINEAGE
from strata_server.lineage.trace import domain, store

from bench.quick import quick
from bench.serving import postgres_database, server_thread
from tests.fixtures.servers import ServerThread

PRODUCED, USED = lineage_pb2.EDGE_KIND_PRODUCED, lineage_pb2.EDGE_KIND_USED


def build_rows(width: int, layers: int, seed: int = 7) -> dict[str, list[tuple]]:
    """Rows for COPY. Version ids and run ids are both 1..width*layers (separate tables)."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    artifacts = [(a + 1, 1 + a % 4, f"artifact-{a}", "dataset" if a % 2 else "model") for a in range(width)]
    runs, versions, edges = [], [], []
    for layer in range(layers):
        for i in range(width):
            node = layer * width + i + 1
            runs.append((node, 1 + i % 4, f"run-{node}", "train" if layer % 2 else "preprocess", 2))
            versions.append((node, i + 1, layer, f"d{node}", 2, now))
            edges.append((node, node, PRODUCED, now))
            if layer == 0:
                continue
            inputs = set(rng.sample(range(width), 2))
            used = {(layer - 1) * width + j + 1 for j in inputs}
            if rng.random() < 0.5:
                used.add(rng.randrange(layer) * width + rng.randrange(width) + 1)
            edges.extend((node, v, USED, now) for v in used)
    return {"artifacts": artifacts, "runs": runs, "versions": versions, "edges": edges}


async def load(dsn: str, rows: dict[str, list[tuple]]) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        await conn.execute("INSERT INTO entities (id, name, kind) VALUES (1, 'bench', 'user')")
        await conn.executemany(
            "INSERT INTO projects (id, entity_id, name) VALUES ($1, 1, $2)",
            [(p, f"p{p}") for p in range(1, 5)],
        )
        await conn.copy_records_to_table(
            "artifacts", records=rows["artifacts"], columns=["id", "project_id", "name", "type"]
        )
        await conn.copy_records_to_table(
            "runs", records=rows["runs"], columns=["id", "project_id", "run_id", "job_type", "state"]
        )
        await conn.copy_records_to_table(
            "artifact_versions",
            records=rows["versions"],
            columns=["id", "artifact_id", "version", "draft_id", "state", "commit_time"],
        )
        await conn.copy_records_to_table(
            "lineage_edges", records=rows["edges"], columns=["run_id", "version_id", "kind", "create_time"]
        )
        for table in ("artifacts", "runs", "artifact_versions", "projects", "entities"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
        return time.perf_counter() - t0
    finally:
        await conn.close()


# --- the walks compared (each returns {(is_run, id): depth}) ---


async def walk_per_hop(conn: asyncpg.Connection, version_id: int, depth: int | None) -> dict:
    reader = domain.Reader(conn, domain.Visibility(OpenLocalAuthorizer(), None), 600.0)  # type: ignore[arg-type]
    root = (domain.NodeKind.VERSION, version_id)
    opts = domain.TraversalOptions(depth, domain.MAX_NODES)
    upstream = depth is not None
    async with conn.transaction(isolation="repeatable_read", readonly=True):  # as the service does
        await store.prefer_generic_plans(conn, 600.0)
        depths, _, _ = await domain.walk(reader, root, upstream, opts)
    return {(kind is domain.NodeKind.RUN, i): d for (kind, i), d in depths.items()}


CTE_UPSTREAM = """
WITH RECURSIVE walk(is_run, id, depth) AS (
  SELECT false, $1::bigint, 0
  UNION
  SELECT n.is_run, n.id, w.depth + 1 FROM walk w CROSS JOIN LATERAL (
    SELECT false AS is_run, e.version_id AS id FROM lineage_edges e
    WHERE w.is_run AND e.run_id = w.id AND e.kind = 2
    UNION ALL
    SELECT true, e.run_id FROM lineage_edges e WHERE NOT w.is_run AND e.version_id = w.id AND e.kind = 1
  ) n WHERE w.depth < $2)
SELECT is_run, id, min(depth) AS depth FROM walk GROUP BY is_run, id
"""

CTE_DOWNSTREAM_SET = """
WITH RECURSIVE walk(is_run, id) AS (
  SELECT false, $1::bigint
  UNION
  SELECT n.is_run, n.id FROM walk w CROSS JOIN LATERAL (
    SELECT false AS is_run, e.version_id AS id FROM lineage_edges e
    WHERE w.is_run AND e.run_id = w.id AND e.kind = 1
    UNION ALL
    SELECT true, e.run_id FROM lineage_edges e WHERE NOT w.is_run AND e.version_id = w.id AND e.kind = 2
  ) n)
SELECT is_run, id FROM walk
"""


async def walk_cte(conn: asyncpg.Connection, version_id: int, depth: int | None) -> dict:
    if depth is None:
        return {
            (r["is_run"], r["id"]): -1 for r in await conn.fetch(CTE_DOWNSTREAM_SET, version_id, timeout=600)
        }
    return {(r["is_run"], r["id"]): r["depth"] for r in await conn.fetch(CTE_UPSTREAM, version_id, depth)}


async def walk_naive(conn: asyncpg.Connection, version_id: int, depth: int | None) -> dict:
    """One query per node, the way a client stitching one-hop calls (W&B logged_by/used_by) works."""
    up = depth is not None
    from_run = await conn.prepare(
        "SELECT version_id AS id FROM lineage_edges WHERE run_id = $1 AND kind = $2"
    )
    from_version = await conn.prepare(
        "SELECT run_id AS id FROM lineage_edges WHERE version_id = $1 AND kind = $2"
    )
    seen = {(False, version_id): 0}
    frontier = [(False, version_id)]
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        nxt = []
        for is_run, node in frontier:
            stmt = from_run if is_run else from_version
            kind = (USED if is_run else PRODUCED) if up else (PRODUCED if is_run else USED)
            for r in await stmt.fetch(node, kind):
                key = (not is_run, r["id"])
                if key not in seen:
                    seen[key] = level
                    nxt.append(key)
        frontier = nxt
    return seen


async def timed(fn: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = await fn()
    return time.perf_counter() - t0, out


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def rpc_trace(server: ServerThread, roots: list[str], depth: int) -> list[float]:
    times = []
    with server.client() as client:
        for name in roots:
            req = ls.TraceUpstreamRequest(node=name, options=ls.TraversalOptions(max_depth=depth))
            t0 = time.perf_counter()
            client.lineage.TraceUpstream(req, timeout=60)
            times.append(time.perf_counter() - t0)
    return times


async def compare_walks(dsn: str, roots: list[int], depth: int | None) -> dict[str, list[float]]:
    conn = await asyncpg.connect(dsn)
    out: dict[str, list[float]] = {"per_hop": [], "cte": [], "naive": []}
    try:
        for root in roots:
            results = {}
            for label, fn in (("per_hop", walk_per_hop), ("cte", walk_cte), ("naive", walk_naive)):
                elapsed, results[label] = await timed(lambda fn=fn, root=root: fn(conn, root, depth))
                out[label].append(elapsed)
            assert set(results["per_hop"]) == set(results["naive"]) == set(results["cte"]), "walks disagree"
            if depth is not None:
                assert results["per_hop"] == results["naive"], "depths disagree"
    finally:
        await conn.close()
    return out


def version_name(vid: int, width: int) -> str:
    a = (vid - 1) % width
    return f"entities/bench/projects/p{1 + a % 4}/artifacts/artifact-{a}/versions/v{(vid - 1) // width}"


def report_trace(server: ServerThread, dsn: str, width: int, layers: int, reps: int) -> None:
    rng = random.Random(11)
    last = [rng.randrange((layers - 10) * width, layers * width) + 1 for _ in range(reps)]
    rpc = rpc_trace(server, [version_name(v, width) for v in last[:5]], 5)  # warm-up
    rpc = rpc_trace(server, [version_name(v, width) for v in last], 5)
    walks = asyncio.run(compare_walks(dsn, last, 5))
    base = statistics.median(walks["per_hop"])
    print(f"\n5-hop upstream trace, {reps} start versions in the last 10 layers")
    print(
        f"  TraceUpstream RPC, end to end        p50 {pct(rpc, 0.5):8.2f} ms   p95 {pct(rpc, 0.95):8.2f} ms   (goal <= 100 ms)"
    )
    for label, text in (
        ("per_hop", "walk: one set query per hop (ours)"),
        ("cte", "walk: one recursive CTE"),
        ("naive", "walk: one query per node (naive)"),
    ):
        p50 = statistics.median(walks[label])
        print(
            f"  {text:<36} p50 {p50 * 1000:8.2f} ms   p95 {pct(walks[label], 0.95):8.2f} ms   x{p50 / base:5.2f} of ours"
        )


def report_impact(server: ServerThread, dsn: str, width: int, reps: int) -> None:
    roots = [random.Random(13 + i).randrange(width) + 1 for i in range(reps)]
    times, reached = [], 0
    with server.client() as client:
        for vid in roots:
            req = ls.AnalyzeImpactRequest(node=version_name(vid, width), max_nodes=domain.MAX_NODES)
            t0 = time.perf_counter()
            resp = client.lineage.AnalyzeImpact(req, timeout=600)
            times.append(time.perf_counter() - t0)
            reached = reached or len(resp.graph.nodes)  # the first root's (the walks below use it)
    walks = asyncio.run(compare_walks(dsn, roots[:1], None))
    ours = walks["per_hop"][0]
    unpaged = pct(times, 0.5)
    print(f"\nimpact of a first-layer version over the whole graph ({reached:,} nodes reached)")
    print(
        f"  AnalyzeImpact RPC, end to end        p50 {unpaged:8.1f} ms   ({len(times)} runs; includes building and sending {reached:,} nodes)"
    )
    report_impact_pages(server, version_name(roots[0], width), reached, unpaged, walks["cte"][0] * 1000)
    for label, text in (
        ("per_hop", "walk: one set query per hop (ours)"),
        ("cte", "walk: recursive CTE (set, no depths)"),
        ("naive", "walk: one query per node (naive)"),
    ):
        t = walks[label][0]
        print(f"  {text:<36}     {t * 1000:8.1f} ms   x{t / ours:5.2f} of ours")


def impact_pages(server: ServerThread, node: str, size: int) -> tuple[list[float], int]:
    """Every page of AnalyzeImpact(node) with page_size=size: (seconds per page, nodes listed)."""
    times, listed, token = [], 0, ""
    with server.client() as client:
        while True:
            req = ls.AnalyzeImpactRequest(
                node=node, max_nodes=domain.MAX_NODES, page_size=size, page_token=token
            )
            t0 = time.perf_counter()
            resp = client.lineage.AnalyzeImpact(req, timeout=600)
            times.append(time.perf_counter() - t0)
            listed += len(resp.graph.nodes)
            token = resp.next_page_token
            if not token:
                return times, listed


def report_impact_pages(
    server: ServerThread, node: str, reached: int, unpaged_ms: float, cte_ms: float
) -> None:
    """The paged impact view: its first page (the goal: <= 500 ms) and all pages, next to the unpaged
    RPC and the recursive CTE measured in this run."""
    firsts = []
    with server.client() as client:
        for _ in range(5):
            req = ls.AnalyzeImpactRequest(node=node, max_nodes=domain.MAX_NODES, page_size=1000)
            t0 = time.perf_counter()
            client.lineage.AnalyzeImpact(req, timeout=600)
            firsts.append(time.perf_counter() - t0)
    first = statistics.median(firsts) * 1000
    print(
        f"  AnalyzeImpact first page (page_size=1000) p50 {first:8.1f} ms   | unpaged RPC: {unpaged_ms:8.1f} ms"
        f" ({unpaged_ms / first:5.1f}x)   | recursive CTE (set only): {cte_ms:6.1f} ms   (goal <= 500 ms)"
    )
    times, listed = impact_pages(server, node, 10_000)
    assert listed == reached, f"pages list {listed} nodes, the unpaged answer {reached}"
    print(
        f"  AnalyzeImpact all pages (page_size=10000): {len(times)} pages, first {times[0] * 1000:.1f} ms, "
        f"slowest {max(times) * 1000:.1f} ms, total {sum(times) * 1000:.1f} ms   | unpaged RPC: {unpaged_ms:.1f} ms"
    )


def main(argv: list[str]) -> None:
    is_quick = quick(argv, "lineage", "10,000 nodes, fewer repetitions")
    width, layers = (200, 25) if is_quick else (1000, 50)
    trace_reps, impact_reps = (30, 1) if is_quick else (200, 3)
    with postgres_database() as dsn, server_thread(dsn, specs=[LINEAGE]) as server:
        rows = build_rows(width, layers)
        seconds = asyncio.run(load(dsn, rows))
        nodes = len(rows["runs"]) + len(rows["versions"])
        print(
            f"graph: {nodes:,} nodes ({len(rows['runs']):,} runs, {len(rows['versions']):,} versions), "
            f"{len(rows['edges']):,} edges, {layers} layers; COPY + ANALYZE {seconds:.1f} s"
        )
        report_trace(server, dsn, width, layers, trace_reps)
        report_impact(server, dsn, width, impact_reps)
