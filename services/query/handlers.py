"""gRPC handlers of the query service: proto <-> domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from strata.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc

from ..common.db import timeout_from
from ..common.deps import Deps
from . import domain, domain_history
from .domain_history import HistoryRequest, Series

Ctx = grpc.aio.ServicerContext


def _series(s: Series) -> query_pb2.MetricSeries:
    return query_pb2.MetricSeries(
        run=s.run,
        key=s.key,
        steps=s.steps.tolist(),
        values=s.values.tolist(),
        times=s.times.tolist(),
        total_points=s.total_points,
        x_values=s.x_values.tolist() if s.x_values is not None else [],
    )


def _bounds(request: object) -> tuple[int | None, int | None]:
    lo = request.min_step if request.HasField("min_step") else None  # type: ignore[attr-defined]
    hi = request.max_step if request.HasField("max_step") else None  # type: ignore[attr-defined]
    return lo, hi


class QueryServiceHandlers(query_service_pb2_grpc.QueryServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def SearchRuns(self, request: query_service_pb2.SearchRunsRequest, context: Ctx):  # type: ignore[no-untyped-def]
        req = domain.SearchRequest(
            request.parent,
            request.filter_json,
            list(request.order_by),
            request.page_size,
            request.page_token,
            list(request.fields),
        )
        runs, token = await domain.search_runs(self.deps.pool, req, timeout_from(context))
        return query_service_pb2.SearchRunsResponse(runs=runs, next_page_token=token)

    async def CountRuns(self, request: query_service_pb2.CountRunsRequest, context: Ctx):  # type: ignore[no-untyped-def]
        count = await domain.count_runs(
            self.deps.pool, request.parent, request.filter_json, timeout_from(context)
        )
        return query_service_pb2.CountRunsResponse(count=count)

    async def GroupRuns(self, request: query_service_pb2.GroupRunsRequest, context: Ctx):  # type: ignore[no-untyped-def]
        groups = await domain.group_runs(
            self.deps.pool,
            request.parent,
            request.filter_json,
            request.group_by,
            request.metric,
            timeout_from(context),
        )
        return query_service_pb2.GroupRunsResponse(
            groups=[
                query_pb2.RunGroup(
                    value_json=g.value_json,
                    run_count=g.run_count,
                    metric_count=g.metric_count,
                    mean=g.mean,
                    min=g.min,
                    max=g.max,
                )
                for g in groups
            ]
        )

    async def ListMetricKeys(self, request: query_service_pb2.ListMetricKeysRequest, context: Ctx):  # type: ignore[no-untyped-def]
        keys = await domain.list_metric_keys(self.deps.pool, request.run, timeout_from(context))
        return query_service_pb2.ListMetricKeysResponse(
            keys=[
                query_pb2.MetricKeyInfo(key=k.key, count=k.count, min_step=k.min_step, max_step=k.max_step)
                for k in keys
            ]
        )

    async def GetHistory(self, request: query_service_pb2.GetHistoryRequest, context: Ctx):  # type: ignore[no-untyped-def]
        lo, hi = _bounds(request)
        req = HistoryRequest(list(request.keys), request.samples, lo, hi, request.x_axis)
        series = await domain_history.get_history(self.deps.pool, request.run, req, timeout_from(context))
        return query_service_pb2.GetHistoryResponse(series=[_series(s) for s in series])

    async def ScanHistory(
        self, request: query_service_pb2.ScanHistoryRequest, context: Ctx
    ) -> AsyncIterator[query_service_pb2.ScanHistoryResponse]:
        lo, hi = _bounds(request)
        pages = domain_history.scan_history(
            self.deps.pool, request.run, list(request.keys), request.page_size, lo, hi, timeout_from(context)
        )
        async for page in pages:
            yield query_service_pb2.ScanHistoryResponse(series=[_series(s) for s in page])

    async def BatchGetHistory(self, request: query_service_pb2.BatchGetHistoryRequest, context: Ctx):  # type: ignore[no-untyped-def]
        series = await domain_history.batch_get_history(
            self.deps.pool, list(request.runs), list(request.keys), request.samples, timeout_from(context)
        )
        return query_service_pb2.BatchGetHistoryResponse(series=[_series(s) for s in series])

    async def AggregateHistory(self, request: query_service_pb2.AggregateHistoryRequest, context: Ctx):  # type: ignore[no-untyped-def]
        bands = await domain_history.aggregate_history(
            self.deps.pool,
            domain_history.AggregateRequest(
                request.parent, request.filter_json, request.group_by, request.key, request.buckets
            ),
            timeout_from(context),
        )
        return query_service_pb2.AggregateHistoryResponse(
            bands=[
                query_pb2.CurveBand(
                    value_json=b.value_json,
                    run_count=b.run_count,
                    steps=b.steps.tolist(),
                    mean=b.mean.tolist(),
                    min=b.min.tolist(),
                    max=b.max.tolist(),
                )
                for b in bands
            ]
        )
