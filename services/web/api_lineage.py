"""Lineage: a node's upstream and downstream graph, and the impact view (everything downstream, paged)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strata.lineage.v1 import lineage_service_pb2 as lineage

from . import convert
from .api_common import Json, call, int_param
from .bridge import ApiError


def node_param(request: Request) -> str:
    node = request.query_params.get("node", "")
    if not node.startswith("entities/"):
        raise ApiError(400, "INVALID_NAME", "node= must be a run or artifact version resource name", "node")
    return node


async def graph(request: Request) -> Response:
    """GET /api/v1/lineage?node=..&depth=..&direction=both|upstream|downstream: nodes and edges
    (TraceUpstream and/or TraceDownstream), merged."""
    node = node_param(request)
    direction = request.query_params.get("direction", "both")
    opts = lineage.TraversalOptions(
        max_depth=int_param(request, "depth", 5, 1, 50),
        max_nodes=int_param(request, "max_nodes", 500, 1, 5000),
    )
    graphs = []
    if direction in ("both", "upstream"):
        up = await call(
            request, "lineage", "TraceUpstream", lineage.TraceUpstreamRequest(node=node, options=opts)
        )
        graphs.append(up.graph)
    if direction in ("both", "downstream"):
        req = lineage.TraceDownstreamRequest(node=node, options=opts)
        graphs.append((await call(request, "lineage", "TraceDownstream", req)).graph)
    nodes: dict[str, dict] = {}
    edges: dict[tuple[str, str], dict] = {}
    for g in graphs:
        for n in g.nodes:
            nodes.setdefault(n.name, convert.node(n))
        for e in g.edges:
            edges.setdefault((e.source, e.target), convert.edge(e))
    truncated = any(g.truncated for g in graphs)
    return Json(
        {"root": node, "nodes": list(nodes.values()), "edges": list(edges.values()), "truncated": truncated}
    )


async def impact(request: Request) -> Response:
    """GET /api/v1/impact?node=..&page_size=..&offset=..: counts of everything downstream and one page
    of the affected versions and runs (AnalyzeImpact)."""
    node = node_param(request)
    page_size = int_param(request, "page_size", 200, 1, 5000)
    offset = int_param(request, "offset", 0, 0, 100_000)
    resp = await call(
        request, "lineage", "AnalyzeImpact", lineage.AnalyzeImpactRequest(node=node, max_nodes=100_000)
    )
    by_name = {n.name: n for n in resp.graph.nodes}
    affected = [*resp.affected_versions, *resp.affected_runs]
    page = [
        convert.node(by_name[n]) if n in by_name else {"name": n}
        for n in affected[offset : offset + page_size]
    ]
    return Json(
        {
            "root": node,
            "version_count": len(resp.affected_versions),
            "run_count": len(resp.affected_runs),
            "nodes": page,
            "next_offset": offset + page_size if offset + page_size < len(affected) else None,
            "truncated": resp.graph.truncated,
        }
    )


ROUTES = [Route("/api/v1/lineage", graph), Route("/api/v1/impact", impact)]
