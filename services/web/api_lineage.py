"""Lineage: a node's upstream and downstream graph, and the impact view (everything downstream, paged)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strata.lineage.v1 import lineage_service_pb2 as lineage

from . import convert
from .api_common import Json, call
from .api_spec import (
    BOOLEAN,
    INTEGER,
    OBJECT,
    STRING,
    Param,
    array,
    declare,
    integer,
    obj,
    page,
    paged,
    string,
)

NODE = Param(
    "node",
    "string",
    "a run or artifact version resource name (entities/...)",
    required=True,
    pattern="^entities/",
    invalid=("INVALID_NAME", "node= must be a run or artifact version resource name"),
)


def node_param(request: Request) -> str:
    return string(request, "node")


@declare(
    NODE,
    Param("depth", "integer", "hops from the node", default=5, minimum=1, maximum=50),
    Param("direction", "string", "both, upstream or downstream", default="both"),
    Param("max_nodes", "integer", "nodes at most per direction", default=500, minimum=1, maximum=5000),
    response=obj(root=STRING, nodes=array(OBJECT), edges=array(OBJECT), truncated=BOOLEAN),
)
async def graph(request: Request) -> Response:
    """GET /api/v1/lineage?node=..&depth=..&direction=both|upstream|downstream: nodes and edges
    (TraceUpstream and/or TraceDownstream), merged."""
    node = node_param(request)
    direction = string(request, "direction")
    opts = lineage.TraversalOptions(
        max_depth=integer(request, "depth"),
        max_nodes=integer(request, "max_nodes"),
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


IMPACT_MAX_NODES = 100_000  # the service's cap on one impact; every page of one walk passes the same


@declare(
    NODE,
    *paged(200, 10_000),
    response=obj(
        root=STRING,
        version_count=INTEGER,
        run_count=INTEGER,
        nodes=array(OBJECT),
        next_page_token={"type": ["string", "null"], "description": "null on the last page"},
        truncated=BOOLEAN,
    ),
)
async def impact(request: Request) -> Response:
    """GET /api/v1/impact?node=..&page_size=..&page_token=..: one page of everything downstream, in
    breadth-first order, straight from AnalyzeImpact's paging (the first page costs only the first hops);
    `next_page_token` fetches the next page, null on the last."""
    node = node_param(request)
    req = lineage.AnalyzeImpactRequest(
        node=node,
        max_nodes=IMPACT_MAX_NODES,
        **page(request),
    )
    resp = await call(request, "lineage", "AnalyzeImpact", req)
    root = resp.graph.root
    return Json(
        {
            "root": root or node,
            "version_count": len(resp.affected_versions),
            "run_count": len(resp.affected_runs),
            "nodes": [convert.node(n) for n in resp.graph.nodes if n.name != root],
            "next_page_token": resp.next_page_token or None,
            "truncated": resp.graph.truncated,
        }
    )


ROUTES = [Route("/api/v1/lineage", graph), Route("/api/v1/impact", impact)]
