"""gRPC handlers of the query service: proto <-> domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from strata.query.v1 import query_service_pb2, query_service_pb2_grpc
from strata.wire.transfer import encode_read_response

from ..common.db import timeout_from
from ..common.deps import Deps
from . import convert
from .history import domain as history
from .media import domain as media
from .search import domain as search

Ctx = grpc.aio.ServicerContext


class QueryServiceHandlers(query_service_pb2_grpc.QueryServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def SearchRuns(
        self, request: query_service_pb2.SearchRunsRequest, context: Ctx
    ) -> query_service_pb2.SearchRunsResponse:
        req = convert.search_request(request)
        runs, token = await search.search_runs(self.deps.reads, req, timeout_from(context))
        return convert.search_response(runs, token)

    async def CountRuns(
        self, request: query_service_pb2.CountRunsRequest, context: Ctx
    ) -> query_service_pb2.CountRunsResponse:
        count = await search.count_runs(
            self.deps.reads,
            request.parent,
            request.filter_json,
            timeout_from(context),
            request.allow_estimate,
        )
        return query_service_pb2.CountRunsResponse(count=count.count, estimated=count.estimated)

    async def GroupRuns(
        self, request: query_service_pb2.GroupRunsRequest, context: Ctx
    ) -> query_service_pb2.GroupRunsResponse:
        groups = await search.group_runs(
            self.deps.reads,
            request.parent,
            request.filter_json,
            request.group_by,
            request.metric,
            timeout_from(context),
        )
        return convert.group_runs_response(groups)

    async def ListMetricKeys(
        self, request: query_service_pb2.ListMetricKeysRequest, context: Ctx
    ) -> query_service_pb2.ListMetricKeysResponse:
        keys = await history.list_metric_keys(self.deps.reads, request.run, timeout_from(context))
        return convert.metric_keys_response(keys)

    async def GetHistory(
        self, request: query_service_pb2.GetHistoryRequest, context: Ctx
    ) -> query_service_pb2.GetHistoryResponse:
        req = convert.history_request(request)
        series = await history.get_history(self.deps.reads, request.run, req, timeout_from(context))
        return query_service_pb2.GetHistoryResponse(series=[convert.series(s) for s in series])

    async def ScanHistory(
        self, request: query_service_pb2.ScanHistoryRequest, context: Ctx
    ) -> AsyncIterator[query_service_pb2.ScanHistoryResponse]:
        lo, hi = convert.step_bounds(request)
        pages = history.scan_history(
            self.deps.reads, request.run, list(request.keys), request.page_size, lo, hi, timeout_from(context)
        )
        async for page in pages:
            yield query_service_pb2.ScanHistoryResponse(series=[convert.series(s) for s in page])

    async def BatchGetHistory(
        self, request: query_service_pb2.BatchGetHistoryRequest, context: Ctx
    ) -> query_service_pb2.BatchGetHistoryResponse:
        series = await history.batch_get_history(
            self.deps.reads, list(request.runs), list(request.keys), request.samples, timeout_from(context)
        )
        return query_service_pb2.BatchGetHistoryResponse(series=[convert.series(s) for s in series])

    async def AggregateHistory(
        self, request: query_service_pb2.AggregateHistoryRequest, context: Ctx
    ) -> query_service_pb2.AggregateHistoryResponse:
        req = convert.aggregate_request(request)
        bands = await history.aggregate_history(self.deps.reads, req, timeout_from(context))
        return convert.aggregate_response(bands)

    # --- media (rich values) ---

    async def ListMediaKeys(self, request: query_service_pb2.ListMediaKeysRequest, context: Ctx):  # type: ignore[no-untyped-def]
        keys = await media.list_keys(self.deps, request.run, timeout_from(context))
        return convert.media_keys_response(keys)

    async def ListMedia(self, request: query_service_pb2.ListMediaRequest, context: Ctx):  # type: ignore[no-untyped-def]
        entries, token = await media.list_entries(
            self.deps,
            request.run,
            request.key,
            request.min_step if request.HasField("min_step") else None,
            request.max_step if request.HasField("max_step") else None,
            request.page_size,
            request.page_token,
            timeout_from(context),
        )
        return query_service_pb2.ListMediaResponse(
            entries=[convert.media_entry_pb(e) for e in entries], next_page_token=token
        )

    async def GetMediaTable(self, request: query_service_pb2.GetMediaTableRequest, context: Ctx):  # type: ignore[no-untyped-def]
        step = request.step if request.HasField("step") else None
        table = await media.get_table(
            self.deps, request.run, request.key, step, request.index, timeout_from(context)
        )
        return convert.media_table_response(table)

    async def ReadMedia(
        self, request: query_service_pb2.ReadMediaRequest, context: Ctx
    ) -> AsyncIterator[bytes]:
        """Yields encoded ReadMediaResponse messages (served with the bulk codec, see server.py)."""
        pieces = media.read(
            self.deps, request.run, request.sha256, request.offset, request.length, timeout_from(context)
        )
        async for offset, data in pieces:
            yield encode_read_response(offset, data)
