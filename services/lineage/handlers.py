"""gRPC handlers of the lineage service: proto <-> domain, nothing else."""

from __future__ import annotations

import grpc
from strata.lineage.v1 import lineage_pb2, lineage_service_pb2, lineage_service_pb2_grpc

from ..common.context import current_principal
from ..common.db import timeout_from
from ..common.deps import Deps
from . import convert
from .diff import domain as diff
from .edges import domain as edges
from .export import domain as export
from .model import Direction
from .nodes.domain import Caller
from .trace import domain as trace
from .trace import impact_pages

Ctx = grpc.aio.ServicerContext


class LineageServiceHandlers(lineage_service_pb2_grpc.LineageServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def _caller(self, context: Ctx) -> Caller:
        return Caller(self.deps.pool, self.deps.authorizer, current_principal(), timeout_from(context))

    async def _trace(
        self,
        request: lineage_service_pb2.TraceUpstreamRequest | lineage_service_pb2.TraceDownstreamRequest,
        context: Ctx,
        direction: Direction,
    ) -> lineage_pb2.Graph:
        """The graph one Trace call answers with (both requests have the same fields)."""
        opts = convert.options(request.options)
        return convert.graph(await trace.trace_node(self._caller(context), request.node, direction, opts))

    async def TraceUpstream(
        self, request: lineage_service_pb2.TraceUpstreamRequest, context: Ctx
    ) -> lineage_service_pb2.TraceUpstreamResponse:
        graph = await self._trace(request, context, Direction.UPSTREAM)
        return lineage_service_pb2.TraceUpstreamResponse(graph=graph)

    async def TraceDownstream(
        self, request: lineage_service_pb2.TraceDownstreamRequest, context: Ctx
    ) -> lineage_service_pb2.TraceDownstreamResponse:
        graph = await self._trace(request, context, Direction.DOWNSTREAM)
        return lineage_service_pb2.TraceDownstreamResponse(graph=graph)

    async def AnalyzeImpact(
        self, request: lineage_service_pb2.AnalyzeImpactRequest, context: Ctx
    ) -> lineage_service_pb2.AnalyzeImpactResponse:
        size = impact_pages.page_size(request.page_size, request.page_token)
        if size:
            page = await trace.analyze_impact_page(
                self._caller(context), request.node, request.max_nodes, size, request.page_token
            )
            return lineage_service_pb2.AnalyzeImpactResponse(
                graph=convert.graph(page.graph, page.endpoints),
                affected_versions=page.affected_versions,
                affected_runs=page.affected_runs,
                next_page_token=page.next_page_token,
            )
        result = await trace.analyze_impact(self._caller(context), request.node, request.max_nodes)
        return lineage_service_pb2.AnalyzeImpactResponse(
            graph=convert.graph(result.graph),
            affected_versions=result.affected_versions,
            affected_runs=result.affected_runs,
        )

    async def DiffArtifactVersions(
        self, request: lineage_service_pb2.DiffArtifactVersionsRequest, context: Ctx
    ) -> lineage_service_pb2.DiffArtifactVersionsResponse:
        d = await diff.diff_versions(
            self._caller(context),
            request.old_version,
            request.new_version,
            request.max_depth,
            request.max_manifest_changes,
        )
        return convert.diff_response(d)

    async def ExportLineageGraph(
        self, request: lineage_service_pb2.ExportLineageGraphRequest, context: Ctx
    ) -> lineage_service_pb2.ExportLineageGraphResponse:
        direction = convert.direction(request.direction)
        fmt = convert.graph_format(request.format)
        opts = convert.options(request.options)
        result = await export.export_graph(self._caller(context), request.node, direction, fmt, opts)
        return lineage_service_pb2.ExportLineageGraphResponse(text=result.text, truncated=result.truncated)

    async def CreateLineageEdge(
        self, request: lineage_service_pb2.CreateLineageEdgeRequest, context: Ctx
    ) -> lineage_service_pb2.CreateLineageEdgeResponse:
        link = await edges.link(self._caller(context), request.run, request.version, request.kind)
        return lineage_service_pb2.CreateLineageEdgeResponse(
            edge=convert.link_edge(link), existed=link.existed
        )
