"""Walking the lineage graph: TraceUpstream, TraceDownstream, AnalyzeImpact (and the graphs that
ExportLineageGraph and DiffArtifactVersions start from).

No gRPC and no SQL here: SQL is in store.py, proto conversion in ../convert.py.

The walk is a breadth-first search done one hop at a time with one set-based query per hop
(store.hop_from_versions / hop_from_runs: every edge leaving the whole frontier, filters applied in
SQL), and a visited set kept here. So a depth-d trace costs d + 1 queries whatever the fan-out,
terminates on cycles, visits each node and edge once (O(V + E) even for "everything downstream"),
yields each node's shortest distance from the start, and can stop as soon as the node cap is reached.
A single recursive CTE saves round trips on shallow traces but cannot keep one visited set across
paths (it dedups per (node, depth), so an unbounded walk would not terminate on a cycle) nor ask the
authorizer between hops; bench/bench_lineage.py measures both and a one-query-per-node walk. The
whole walk reads one snapshot (the REPEATABLE READ, read-only transaction of ../nodes/domain.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...common import text as textcheck
from ...common.errors import InvalidArgument, Reason
from ...common.runs import RUN_STATE_NAMES, run_name
from ..model import (
    DEFAULT_DEPTH,
    DEFAULT_IMPACT_NODES,
    DEFAULT_NODES,
    MAX_DEPTH,
    MAX_NODES,
    VERSION_STATES,
    Direction,
    Edge,
    EdgeKind,
    Graph,
    Node,
    NodeKey,
    NodeKind,
    TraversalOptions,
)
from ..nodes.domain import Caller, Reader, Resolved, Visibility, resolve, snapshot
from . import impact_pages, store

# what bench/bench_lineage.py drives walk() with, besides the walk itself
__all__ = ["MAX_NODES", "NodeKind", "Reader", "TraversalOptions", "Visibility", "walk"]

_EDGE_KINDS = {int(k): k for k in EdgeKind}


def bounded(value: int, default: int, maximum: int, field_name: str) -> int:
    if value < 0 or value > maximum:
        raise InvalidArgument(
            field_name, Reason.OUT_OF_RANGE, f"{field_name} must be between 1 and {maximum} (0: default)"
        )
    return value or default


def traversal_options(
    max_depth: int,
    max_nodes: int,
    artifact_types: Sequence[str] = (),
    job_types: Sequence[str] = (),
    *,
    prefix: str = "options.",
) -> TraversalOptions:
    """Validate request bounds: 0 means the default; above the documented maximum is OUT_OF_RANGE."""
    return TraversalOptions(
        max_depth=bounded(max_depth, DEFAULT_DEPTH, MAX_DEPTH, prefix + "max_depth"),
        max_nodes=bounded(max_nodes, DEFAULT_NODES, MAX_NODES, prefix + "max_nodes"),
        artifact_types=_type_filter(artifact_types, prefix + "artifact_types"),
        job_types=_type_filter(job_types, prefix + "job_types"),
    )


MAX_TYPE_FILTERS = 100


def _type_filter(values: Sequence[str], field_name: str) -> tuple[str, ...]:
    """A type filter: at most MAX_TYPE_FILTERS names of at most 128 characters without U+0000."""
    if len(values) > MAX_TYPE_FILTERS:
        raise InvalidArgument(field_name, Reason.TOO_LARGE, f"at most {MAX_TYPE_FILTERS} types")
    for i, value in enumerate(values):
        textcheck.check(value, f"{field_name}[{i}]", textcheck.DISPLAY_NAME_MAX)
    return tuple(sorted({t for t in values if t}))


async def trace(reader: Reader, root: Resolved, direction: Direction, opts: TraversalOptions) -> Graph:
    """Walk from `root` (upstream, downstream or both) within the options' bounds and filters."""
    await store.prefer_generic_plans(reader.conn, reader.timeout)
    if direction is Direction.BOTH:
        depths, edges, truncated = await walk(reader, root.key, True, opts)
        room = dataclasses.replace(opts, max_nodes=opts.max_nodes - len(depths) + 1)
        down, down_edges, down_truncated = await walk(reader, root.key, False, room)
        for key, depth in down.items():
            depths.setdefault(key, depth)
        edges = list({e[:3]: e for e in [*edges, *down_edges]}.values())  # a cycle can show both ways
        truncated = truncated or down_truncated
    else:
        depths, edges, truncated = await walk(reader, root.key, direction is Direction.UPSTREAM, opts)
    nodes = await _details(reader, depths)
    ordered = sorted(nodes.values(), key=lambda n: (n.key != root.key, n.depth, n.kind, n.name))
    return Graph(ordered[0], ordered, sorted(edges), truncated)


async def walk(
    reader: Reader, root: NodeKey, upstream: bool, opts: TraversalOptions
) -> tuple[dict[NodeKey, int], list[Edge], bool]:
    """Breadth-first, one query per hop; returns node depths, edges among them, truncated.
    Each node is expanded once, so each edge is seen once."""
    depths: dict[NodeKey, int] = {root: 0}
    edges: list[Edge] = []
    frontier, depth, truncated = [root], 0, False
    while frontier:
        rows, to_runs = await _hop(reader, frontier, upstream, opts)
        new = await _admissible(reader, rows, to_runs, depths)
        if opts.max_depth is not None and depth >= opts.max_depth:
            truncated, new = truncated or bool(new), []
        room = max(0, opts.max_nodes - len(depths))
        if len(new) > room:
            truncated, new = True, new[:room]
        depth += 1
        depths.update((key, depth) for key in new)
        _collect_edges(rows, to_runs, depths, edges)
        frontier = new
    return depths, edges, truncated


async def _hop(
    reader: Reader, frontier: list[NodeKey], upstream: bool, opts: TraversalOptions
) -> tuple[list[Any], bool]:
    """The graph is bipartite, so a frontier holds only runs or only versions."""
    ids = [i for _, i in frontier]
    if frontier[0][0] is NodeKind.VERSION:
        rows = await store.hop_from_versions(
            reader.conn, ids, upstream=upstream, job_types=opts.job_types, timeout=reader.timeout
        )
        return rows, True
    rows = await store.hop_from_runs(
        reader.conn, ids, upstream=upstream, artifact_types=opts.artifact_types, timeout=reader.timeout
    )
    return rows, False


def _collect_edges(rows: Sequence[Any], to_runs: bool, depths: dict[NodeKey, int], edges: list[Edge]) -> None:
    """Keep the hop's edges whose neighbour was admitted (the frontier end always was)."""
    kinds, run_kind, version_kind = _EDGE_KINDS, NodeKind.RUN, NodeKind.VERSION
    if to_runs:
        edges.extend(Edge(r, v, kinds[k], t) for r, v, k, t, _ in rows if (run_kind, r) in depths)
    else:
        edges.extend(Edge(r, v, kinds[k], t) for r, v, k, t, _ in rows if (version_kind, v) in depths)


async def _admissible(
    reader: Reader, rows: Sequence[Any], to_runs: bool, seen: dict[NodeKey, int]
) -> list[NodeKey]:
    """Unvisited neighbours the caller may read, in a stable order (kind, id)."""
    kind, column = (NodeKind.RUN, 0) if to_runs else (NodeKind.VERSION, 1)
    candidates = {(kind, r[column]): r[4] for r in rows}
    readable = await reader.visibility.readable(set(candidates.values()))
    return sorted(k for k, project in candidates.items() if project in readable and k not in seen)


async def _details(reader: Reader, depths: dict[NodeKey, int]) -> dict[NodeKey, Node]:
    run_ids = [i for k, i in depths if k is NodeKind.RUN]
    version_ids = [i for k, i in depths if k is NodeKind.VERSION]
    nodes: dict[NodeKey, Node] = {}
    for r in await store.run_details(reader.conn, run_ids, reader.timeout):
        key = (NodeKind.RUN, r["id"])
        nodes[key] = Node(
            key,
            run_name(r["entity"], r["project"], r["run_id"]),
            r["display_name"] or r["run_id"],
            depths[key],
            r["project_id"],
            job_type=r["job_type"],
            state=RUN_STATE_NAMES.get(r["state"], "unknown"),
        )
    for r in await store.version_details(reader.conn, version_ids, reader.timeout):
        key = (NodeKind.VERSION, r["id"])
        artifact = f"entities/{r['entity']}/projects/{r['project']}/artifacts/{r['artifact']}"
        nodes[key] = Node(
            key,
            f"{artifact}/versions/v{r['version']}",
            f"{r['artifact']}:v{r['version']}",
            depths[key],
            r["project_id"],
            artifact_type=r["type"],
            state=VERSION_STATES.get(r["state"], "unknown"),
            artifact=artifact,
            version=r["version"],
        )
    return nodes


@dataclass
class Impact:
    graph: Graph
    affected_versions: list[str]
    affected_runs: list[str]


async def impact(reader: Reader, root: Resolved, max_nodes: int) -> Impact:
    """Everything downstream of `root`, to any depth (bounded by max_nodes)."""
    nodes = bounded(max_nodes, DEFAULT_IMPACT_NODES, MAX_NODES, "max_nodes")
    graph = await trace(reader, root, Direction.DOWNSTREAM, TraversalOptions(None, nodes))
    rest = graph.nodes[1:]
    return Impact(
        graph,
        [n.name for n in rest if n.kind is NodeKind.VERSION],
        [n.name for n in rest if n.kind is NodeKind.RUN],
    )


async def trace_node(caller: Caller, node: str, direction: Direction, opts: TraversalOptions) -> Graph:
    """Resolve `node` and walk from it, in one snapshot."""
    async with snapshot(caller) as reader:
        root = await resolve(reader, node, "node")
        return await trace(reader, root, direction, opts)


async def analyze_impact_page(
    caller: Caller, node: str, max_nodes: int, page_size: int, page_token: str
) -> impact_pages.ImpactPage:
    """One page of everything downstream of `node` (impact_pages.py); arguments checked first."""
    bounded(max_nodes, DEFAULT_IMPACT_NODES, MAX_NODES, "max_nodes")
    async with snapshot(caller) as reader:
        root = await resolve(reader, node, "node")
        return await impact_pages.impact_page(reader, root, max_nodes, page_size, page_token)


async def analyze_impact(caller: Caller, node: str, max_nodes: int) -> Impact:
    """Everything downstream of `node` (max_nodes is checked before the call touches the database)."""
    bounded(max_nodes, DEFAULT_IMPACT_NODES, MAX_NODES, "max_nodes")
    async with snapshot(caller) as reader:
        root = await resolve(reader, node, "node")
        return await impact(reader, root, max_nodes)
