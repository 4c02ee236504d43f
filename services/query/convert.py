"""Protobuf messages of the query service <-> the domain's requests and results.

The only place besides handlers.py that reads or builds strata.query.v1 / strata.ingest.v1 messages.
"""

from __future__ import annotations

import json

from strata.common.v1 import blob_pb2
from strata.ingest.v1 import media_pb2, run_pb2
from strata.query.v1 import query_pb2, query_service_pb2
from strata.wire.fields import message_from

from ..common.runs import run_from_row, summary_from_row, ts
from .history.aggregate import Band
from .history.domain import AggregateRequest, HistoryRequest, KeyInfo, Series
from .media import domain as media
from .search.domain import FoundRun, Group, SearchRequest


def search_request(request: query_service_pb2.SearchRunsRequest) -> SearchRequest:
    return SearchRequest(
        request.parent,
        request.filter_json,
        list(request.order_by),
        request.page_size,
        request.page_token,
        list(request.fields),
    )


def run(found: FoundRun) -> run_pb2.Run:
    summaries = [summary_from_row(s) for s in found.summaries]
    message = run_from_row(found.row, summaries, include_config=False)
    message.config_json = found.config_json
    return message


def search_response(runs: list[FoundRun], token: str) -> query_service_pb2.SearchRunsResponse:
    return query_service_pb2.SearchRunsResponse(runs=[run(r) for r in runs], next_page_token=token)


def group_runs_response(groups: list[Group]) -> query_service_pb2.GroupRunsResponse:
    return query_service_pb2.GroupRunsResponse(groups=[message_from(query_pb2.RunGroup, g) for g in groups])


def metric_keys_response(keys: list[KeyInfo]) -> query_service_pb2.ListMetricKeysResponse:
    return query_service_pb2.ListMetricKeysResponse(
        keys=[message_from(query_pb2.MetricKeyInfo, k) for k in keys]
    )


def step_bounds(
    request: query_service_pb2.GetHistoryRequest | query_service_pb2.ScanHistoryRequest,
) -> tuple[int | None, int | None]:
    """(min_step, max_step) of a history request; None where the optional field is unset."""
    lo = request.min_step if request.HasField("min_step") else None
    hi = request.max_step if request.HasField("max_step") else None
    return lo, hi


def history_request(request: query_service_pb2.GetHistoryRequest) -> HistoryRequest:
    lo, hi = step_bounds(request)
    return HistoryRequest(list(request.keys), request.samples, lo, hi, request.x_axis)


def series(s: Series) -> query_pb2.MetricSeries:
    return query_pb2.MetricSeries(
        run=s.run,
        key=s.key,
        steps=s.steps.tolist(),
        values=s.values.tolist(),
        times=s.times.tolist(),
        total_points=s.total_points,
        x_values=s.x_values.tolist() if s.x_values is not None else [],
    )


def aggregate_request(request: query_service_pb2.AggregateHistoryRequest) -> AggregateRequest:
    return AggregateRequest(
        request.parent, request.filter_json, request.group_by, request.key, request.buckets
    )


def aggregate_response(bands: list[Band]) -> query_service_pb2.AggregateHistoryResponse:
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


def media_keys_response(keys: list[media.KeyInfo]) -> query_service_pb2.ListMediaKeysResponse:
    return query_service_pb2.ListMediaKeysResponse(
        keys=[message_from(query_service_pb2.MediaKeyInfo, k) for k in keys]
    )


def media_entry_pb(e: media.Entry) -> media_pb2.MediaEntry:
    return media_pb2.MediaEntry(
        key=e.key,
        step=e.step,
        index=e.index,
        type=e.type,  # type: ignore[arg-type]
        blob=blob_pb2.BlobDigest(sha256=e.sha256, size=e.size),
        metadata_json=e.metadata_json,
        create_time=ts(e.create_time),
    )


def media_table_response(t: media.Table) -> query_service_pb2.GetMediaTableResponse:
    return query_service_pb2.GetMediaTableResponse(
        entry=media_entry_pb(t.entry),
        columns=[
            query_service_pb2.TableColumn(name=n, values_json=json.dumps(v, separators=(",", ":")))
            for n, v in zip(t.columns, t.values, strict=True)
        ],
        rows=t.rows,
    )
