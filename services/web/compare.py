"""Compare: N runs' sampled histories of one key, as lines, or grouped by a config key into a mean line
and a min/max band per group (the runs' values bucketed on one shared step grid).

POST /api/v1/projects/{entity}/{project}/compare {"runs": [ids], "key": "...", "samples": 500,
"group_by": "config.lr"}: one BatchGetHistory call, plus one SearchRuns call for the runs' config when
grouping.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strata.query.v1 import query_service_pb2 as query

from . import convert
from .api_common import Json, call, json_body, json_with_series, project_name
from .api_spec import INTEGER, OBJECT, STRING, array, declare, obj
from .bridge import ApiError

MAX_RUNS = 1000


def config_value(config: dict[str, Any], path: str) -> Any:
    """The value at a dotted path ("optimizer.lr") of a nested config, or None."""
    value: Any = config
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def bands(series: list[Any], groups: dict[str, str], buckets: int) -> list[dict[str, Any]]:
    """Per group: bucket starts, the mean of the runs' bucket means, and their min and max."""
    if not series:
        return []
    lo = min((s.steps[0] for s in series if len(s.steps)), default=0)
    hi = max((s.steps[-1] for s in series if len(s.steps)), default=0)
    width = max(1.0, (hi - lo + 1) / buckets)
    per_group: dict[str, list[np.ndarray]] = {}
    for s in series:
        if not len(s.steps):
            continue
        steps, values = np.asarray(s.steps, dtype=np.float64), np.asarray(s.values, dtype=np.float64)
        idx = np.minimum(((steps - lo) / width).astype(np.int64), buckets - 1)
        ok = np.isfinite(values)
        sums = np.bincount(idx[ok], weights=values[ok], minlength=buckets)
        counts = np.bincount(idx[ok], minlength=buckets)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_group.setdefault(groups.get(s.run, "null"), []).append(sums / counts)
    starts = [int(lo + i * width) for i in range(buckets)]
    out = []
    for value, rows in sorted(per_group.items()):
        m = np.vstack(rows)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN buckets stay NaN (drawn as gaps)
            mean, mn, mx = np.nanmean(m, axis=0), np.nanmin(m, axis=0), np.nanmax(m, axis=0)
        out.append(
            {
                "value": value,
                "run_count": len(rows),
                "steps": starts,
                "mean": [convert.num(float(x)) for x in mean],
                "min": [convert.num(float(x)) for x in mn],
                "max": [convert.num(float(x)) for x in mx],
            }
        )
    return out


async def group_values(request: Request, run_ids: list[str], group_by: str) -> dict[str, str]:
    """run resource name -> the JSON text of its value of `group_by` (config.<path> or an attribute)."""
    parent = project_name(request)
    req = query.SearchRunsRequest(
        parent=parent,
        filter_json=json.dumps({"run_id": {"$in": run_ids}}),
        page_size=MAX_RUNS,
        fields=["config"],
    )
    resp = await call(request, "query", "SearchRuns", req)
    out = {}
    for r in resp.runs:
        if group_by.startswith("config."):
            value = config_value(json.loads(r.config_json or "{}"), group_by[len("config.") :])
        else:
            value = convert.run(r).get(group_by)
        out[r.name] = json.dumps(value)
    return out


@declare(
    body=obj(("runs", "key"), runs=array(STRING), key=STRING, samples=INTEGER, group_by=STRING),
    response=obj(("key",), key=STRING, group_by=STRING, series=array(OBJECT), bands=array(OBJECT)),
)
async def compare(request: Request) -> Response:
    """POST .../compare: lines per run, or mean line + min/max band per group."""
    body = await json_body(request)
    run_ids = [str(r) for r in body.get("runs") or []]
    key = str(body.get("key") or "")
    if not run_ids or not key:
        raise ApiError(400, "FIELD_REQUIRED", "runs and key are required", "runs" if not run_ids else "key")
    if len(run_ids) > MAX_RUNS:
        raise ApiError(400, "OUT_OF_RANGE", f"at most {MAX_RUNS} runs", "runs")
    samples = int(body.get("samples") or 500)
    parent = project_name(request)
    req = query.BatchGetHistoryRequest(
        runs=[f"{parent}/runs/{r}" for r in run_ids], keys=[key], samples=max(2, min(samples, 100_000))
    )
    resp = await call(request, "query", "BatchGetHistory", req)
    group_by = str(body.get("group_by") or "")
    if not group_by:
        return json_with_series({"key": key}, [convert.series_json(s, times=False) for s in resp.series])
    groups = await group_values(request, run_ids, group_by)
    return Json(
        {"key": key, "group_by": group_by, "bands": bands(list(resp.series), groups, min(samples, 500))}
    )


ROUTES = [Route("/api/v1/projects/{entity}/{project}/compare", compare, methods=["POST"])]
