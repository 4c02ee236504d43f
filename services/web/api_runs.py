"""Runs: the runs table (search, count), a run's overview, metric keys, history, files and artifacts."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as ingest
from strata.lineage.v1 import lineage_service_pb2 as lineage
from strata.query.v1 import query_service_pb2 as query

from . import convert
from .api_common import Json, bridge, call, call_page, caller, json_with_series, project_name, run_name
from .api_spec import (
    BOOLEAN,
    INTEGER,
    OBJECT,
    STEP_LIMIT,
    STRING,
    Param,
    array,
    boolean,
    declare,
    integer,
    listing,
    obj,
    optional_integer,
    page,
    paged,
    string,
    strings,
)
from .bridge import ApiError

QUICK_FILTERS = ("state", "job_type", "group", "user")
TABLE_FILTER = (
    Param("filter", "string", 'a filter document (JSON), e.g. {"config.lr": {"$lt": 0.01}}'),
    *(
        Param(k, "strings", f"only runs whose {k} is one of these (repeat the parameter)")
        for k in QUICK_FILTERS
    ),
    Param("tag", "strings", "only runs carrying every one of these tags (repeat the parameter)"),
)
RUN = {**OBJECT, "description": "a run: name, id, state, config, summary, provenance, ..."}


def table_filter(request: Request) -> str:
    """The filter box's document combined ($and) with the quick filters; "" when there is none."""
    parts: list[Any] = []
    raw = string(request, "filter").strip()
    if raw:
        try:
            parts.append(json.loads(raw))
        except ValueError as e:
            raise ApiError(400, "INVALID_FILTER", f"the filter is not JSON: {e}", "filter") from None
    for key in QUICK_FILTERS:
        values = strings(request, key)
        if values:
            parts.append({key: values[0] if len(values) == 1 else {"$in": values}})
    for tag in strings(request, "tag"):
        parts.append({"tags": tag})
    if not parts:
        return ""
    return json.dumps(parts[0] if len(parts) == 1 else {"$and": parts})


@declare(
    *TABLE_FILTER,
    Param("order", "strings", "sort keys, e.g. -created_at or summary.loss (default: -created_at)"),
    *paged(50, 1000),
    Param("field", "strings", "only these fields of each run (default: all)"),
    response=listing("runs", RUN),
)
async def search_runs(request: Request) -> Response:
    """GET /api/v1/projects/{entity}/{project}/runs: one page of the runs table (SearchRuns)."""
    req = query.SearchRunsRequest(
        parent=project_name(request),
        filter_json=table_filter(request),
        order_by=strings(request, "order") or ["-created_at"],
        **page(request),
        fields=strings(request, "field"),
    )
    return await call_page(request, "query", "SearchRuns", req, "runs", convert.run)


@declare(
    *TABLE_FILTER,
    Param("estimate", "boolean", "a fast estimate is good enough", default=False),
    response=obj(count=INTEGER, estimated=BOOLEAN),
)
async def count_runs(request: Request) -> Response:
    """GET /api/v1/projects/{entity}/{project}/runs-count?estimate=..: the match count of the same filter
    (CountRuns). With estimate=true it may be a fast estimate (`estimated`: true); else always exact."""
    req = query.CountRunsRequest(
        parent=project_name(request),
        filter_json=table_filter(request),
        allow_estimate=boolean(request, "estimate"),
    )
    resp = await call(request, "query", "CountRuns", req)
    return Json({"count": resp.count, "estimated": resp.estimated})


@declare(response=obj(run=RUN))
async def get_run(request: Request) -> Response:
    """GET /api/v1/projects/{entity}/{project}/runs/{run}: the run's overview (GetRun)."""
    resp = await call(request, "ingest", "GetRun", ingest.GetRunRequest(name=run_name(request)))
    return Json({"run": convert.run(resp.run)})


@declare(
    response=obj(keys=array(obj(key=STRING, count=INTEGER, min_step=INTEGER, max_step=INTEGER))),
)
async def metric_keys(request: Request) -> Response:
    """GET .../runs/{run}/keys: the run's metric keys with counts and step ranges (ListMetricKeys)."""
    resp = await call(request, "query", "ListMetricKeys", query.ListMetricKeysRequest(run=run_name(request)))
    keys = [
        {"key": k.key, "count": k.count, "min_step": k.min_step, "max_step": k.max_step} for k in resp.keys
    ]
    return Json({"keys": keys})


@declare(
    Param(
        "key",
        "strings",
        "metric keys (repeat; the first 1000)",
        required=True,
        missing="at least one key= is required",
    ),
    Param("samples", "integer", "points per key at most", default=500, minimum=2, maximum=100_000),
    Param("x_axis", "string", "the key whose values are the x axis (default: the step)"),
    Param("min_step", "integer", "only steps from this one", minimum=-STEP_LIMIT, maximum=STEP_LIMIT),
    Param("max_step", "integer", "only steps up to this one", minimum=-STEP_LIMIT, maximum=STEP_LIMIT),
    response=obj(series=array(OBJECT)),
)
async def history(request: Request) -> Response:
    """GET .../runs/{run}/history?key=..&samples=..&x_axis=..: sampled history of some keys (GetHistory)."""
    req = query.GetHistoryRequest(
        run=run_name(request),
        keys=strings(request, "key")[:1000],
        samples=integer(request, "samples"),
        x_axis=string(request, "x_axis"),
    )
    for bound in ("min_step", "max_step"):
        value = optional_integer(request, bound)
        if value is not None:
            setattr(req, bound, value)
    resp = await call(request, "query", "GetHistory", req)
    return json_with_series({}, [convert.series_json(s) for s in resp.series])


@declare(*paged(200, 1000), response=listing("files", obj(path=STRING, size=INTEGER)))
async def run_files(request: Request) -> Response:
    """GET .../runs/{run}/files: the run's files (ListRunFiles), one page."""
    req = ingest.ListRunFilesRequest(
        run=run_name(request),
        **page(request),
    )
    return await call_page(
        request, "ingest", "ListRunFiles", req, "files", lambda f: {"path": f.path, "size": f.size}
    )


@declare(
    Param("path", "string", "the file's path in the run", required=True),
    produces=("application/octet-stream",),
)
async def run_file(request: Request) -> Response:
    """GET .../runs/{run}/file?path=..: the file's bytes, streamed from ReadRunFile."""
    path = string(request, "path")
    req = ingest.ReadRunFileRequest(run=run_name(request), path=path)
    chunks = bridge(request).stream(caller(request), "ingest", "ReadRunFile", req)
    return await download_response(chunks, path)


async def download_response(chunks: Any, path: str) -> Response:
    """Stream gRPC chunks as an attachment; the first chunk is read before answering so an error (not
    found, denied) becomes a JSON error instead of a cut download."""
    iterator = iter(chunks)
    try:
        first = await run_in_threadpool(next, iterator, None)
    except StrataError as e:
        raise ApiError.from_strata(e, reading=True) from None

    def body() -> Any:
        if first is not None:
            yield first.data
        for chunk in iterator:
            yield chunk.data

    name = path.rsplit("/", 1)[-1]
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    headers = {"Content-Disposition": disposition}
    return StreamingResponse(body(), media_type="application/octet-stream", headers=headers)


@declare(response=obj(used=array(OBJECT), logged=array(OBJECT)))
async def run_artifacts(request: Request) -> Response:
    """GET .../runs/{run}/artifacts: versions the run used and logged (one hop of lineage each way)."""
    opts = lineage.TraversalOptions(max_depth=1, max_nodes=1000)
    name = run_name(request)
    up = await call(
        request, "lineage", "TraceUpstream", lineage.TraceUpstreamRequest(node=name, options=opts)
    )
    down = await call(
        request, "lineage", "TraceDownstream", lineage.TraceDownstreamRequest(node=name, options=opts)
    )
    used = [convert.node(n) for n in up.graph.nodes if n.name != name]
    logged = [convert.node(n) for n in down.graph.nodes if n.name != name]
    return Json({"used": used, "logged": logged})


PREFIX = "/api/v1/projects/{entity}/{project}"
ROUTES = [
    Route(f"{PREFIX}/runs", search_runs),
    Route(f"{PREFIX}/runs-count", count_runs),
    Route(f"{PREFIX}/runs/{{run}}", get_run),
    Route(f"{PREFIX}/runs/{{run}}/keys", metric_keys),
    Route(f"{PREFIX}/runs/{{run}}/history", history),
    Route(f"{PREFIX}/runs/{{run}}/files", run_files),
    Route(f"{PREFIX}/runs/{{run}}/file", run_file),
    Route(f"{PREFIX}/runs/{{run}}/artifacts", run_artifacts),
]
