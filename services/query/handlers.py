"""gRPC handlers of the query service: proto <-> domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from strata.query.v1 import query_service_pb2 as pb
from strata.query.v1 import query_service_pb2_grpc
from strata.wire.transfer import encode_read_response

from ..common.db import timeout_from
from ..common.deps import Deps
from ..common.unary import paged, unary
from . import convert
from .history import domain as history
from .media import domain as media
from .search import domain as search

Ctx = grpc.aio.ServicerContext


# the generated servicer is untyped; as Any it lends no (untyped) signature to the rows below
_Servicer: Any = query_service_pb2_grpc.QueryServiceServicer


class QueryServiceHandlers(_Servicer):
    """Every query RPC: the unary ones as rows of common.unary, the streams as methods. Reads that may
    lag the primary slightly go to the read pool (`deps.reads`)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    SearchRuns = unary(
        pb.SearchRunsRequest,
        lambda deps, r, t: search.search_runs(deps.reads, convert.search_request(r), t),
        lambda found: convert.search_response(*found),
    )
    CountRuns = unary(
        pb.CountRunsRequest,
        lambda deps, r, t: search.count_runs(deps.reads, r.parent, r.filter_json, t, r.allow_estimate),
        lambda count: pb.CountRunsResponse(count=count.count, estimated=count.estimated),
    )
    GroupRuns = unary(
        pb.GroupRunsRequest,
        lambda deps, r, t: search.group_runs(deps.reads, r.parent, r.filter_json, r.group_by, r.metric, t),
        convert.group_runs_response,
    )
    ListMetricKeys = unary(
        pb.ListMetricKeysRequest,
        lambda deps, r, t: history.list_metric_keys(deps.reads, r.run, t),
        convert.metric_keys_response,
    )
    GetHistory = unary(
        pb.GetHistoryRequest,
        lambda deps, r, t: history.get_history(deps.reads, r.run, convert.history_request(r), t),
        lambda series: pb.GetHistoryResponse(series=[convert.series(s) for s in series]),
    )

    async def ScanHistory(
        self, request: pb.ScanHistoryRequest, context: Ctx
    ) -> AsyncIterator[pb.ScanHistoryResponse]:
        lo, hi = convert.step_bounds(request)
        pages = history.scan_history(
            self.deps.reads, request.run, list(request.keys), request.page_size, lo, hi, timeout_from(context)
        )
        async for page in pages:
            yield pb.ScanHistoryResponse(series=[convert.series(s) for s in page])

    BatchGetHistory = unary(
        pb.BatchGetHistoryRequest,
        lambda deps, r, t: history.batch_get_history(deps.reads, list(r.runs), list(r.keys), r.samples, t),
        lambda series: pb.BatchGetHistoryResponse(series=[convert.series(s) for s in series]),
    )
    AggregateHistory = unary(
        pb.AggregateHistoryRequest,
        lambda deps, r, t: history.aggregate_history(deps.reads, convert.aggregate_request(r), t),
        convert.aggregate_response,
    )

    # --- media (rich values) ---

    ListMediaKeys = unary(
        pb.ListMediaKeysRequest,
        lambda deps, r, t: media.list_keys(deps, r.run, t),
        convert.media_keys_response,
    )
    ListMedia = unary(
        pb.ListMediaRequest,
        lambda deps, r, t: media.list_entries(
            deps,
            r.run,
            r.key,
            r.min_step if r.HasField("min_step") else None,
            r.max_step if r.HasField("max_step") else None,
            r.page_size,
            r.page_token,
            t,
        ),
        paged(pb.ListMediaResponse, "entries", convert.media_entry_pb),
    )
    GetMediaTable = unary(
        pb.GetMediaTableRequest,
        lambda deps, r, t: media.get_table(
            deps, r.run, r.key, r.step if r.HasField("step") else None, r.index, t
        ),
        convert.media_table_response,
    )

    async def ReadMedia(self, request: pb.ReadMediaRequest, context: Ctx) -> AsyncIterator[bytes]:
        """Yields encoded ReadMediaResponse messages (served with the bulk codec, see server.py)."""
        pieces = media.read(
            self.deps, request.run, request.sha256, request.offset, request.length, timeout_from(context)
        )
        async for offset, data in pieces:
            yield encode_read_response(offset, data)
