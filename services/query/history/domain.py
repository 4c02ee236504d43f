"""History: sampled (GetHistory, BatchGetHistory), full (ScanHistory), aggregated across runs
(AggregateHistory), and a run's metric keys (ListMetricKeys). No gRPC and no SQL here.

Every read runs in one REPEATABLE READ snapshot opened here, straight from metric_chunks (plus the
rollups of long series, see sampling.py and rollup.py): there is no cache, so points ingest
acknowledged are visible to the next call (read-your-writes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import numpy as np

from ...common import paging
from ...common.db import Conn
from ...common.errors import InvalidArgument, NotFound, Reason
from ...common.names import parse_project, parse_run
from ..search import store as search_store
from ..search.attrs import Attr, check_metric_key
from ..search.domain import group_key, prepare, resolve_project
from ..search.filters import Node, parse_filter
from . import batch, sampling
from . import store as sh
from .aggregate import Band, curve_bands
from .read import read_raw, read_sampled
from .sampling import Points
from .scan import scan_pages

DEFAULT_SAMPLES = 500
MAX_SAMPLES = 100_000
MAX_KEYS = 1000
MAX_BATCH_RUNS = 1000
MAX_BATCH_SERIES = 10_000
DEFAULT_SCAN_PAGE = 10_000
MAX_SCAN_PAGE = 100_000
DEFAULT_BUCKETS = 200
MAX_BUCKETS = 10_000
MAX_AGGREGATE_RUNS = 1000
_RESERVED_X = ("_step", "_timestamp")


def bounded(value: int, field: str, default: int, maximum: int) -> int:
    """0 means `default`; otherwise 1..maximum (OUT_OF_RANGE naming `field`). For sizes that are not
    page sizes (samples, buckets): asking for more than the maximum is an error, not coerced."""
    if value == 0:
        return default
    if not 0 < value <= maximum:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, f"{field} must be 1..{maximum}")
    return value


async def resolve_run(conn: Conn, name: str, field: str, timeout: float) -> int:
    run = parse_run(name, field)
    pk = await sh.run_pk(conn, run.project.entity, run.project.project, run.run_id, timeout)
    if pk is None:
        raise NotFound("run", name)
    return pk


@dataclass
class Series:
    run: str
    key: str
    steps: np.ndarray
    values: np.ndarray
    times: np.ndarray
    total_points: int
    x_values: np.ndarray | None = None

    @classmethod
    def of(cls, run: str, key: str, points: Points, total: int, x: np.ndarray | None = None) -> Series:
        return cls(run, key, points.steps, points.values, points.times, total, x)


@dataclass(frozen=True)
class HistoryRequest:
    keys: list[str]
    samples: int
    min_step: int | None
    max_step: int | None
    x_axis: str = ""


def check_keys(keys: list[str], field: str = "keys") -> list[str]:
    if not keys:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    if len(keys) > MAX_KEYS:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, f"at most {MAX_KEYS} keys")
    for key in keys:
        check_metric_key(key, field)
    return list(dict.fromkeys(keys))


def check_samples(samples: int) -> int:
    return bounded(samples, "samples", DEFAULT_SAMPLES, MAX_SAMPLES)


def check_range(lo: int | None, hi: int | None) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise InvalidArgument("min_step", Reason.OUT_OF_RANGE, "min_step is greater than max_step")


def check_x_axis(x_axis: str) -> str:
    if x_axis in ("", "_step"):
        return "_step"
    if x_axis == "_timestamp":
        return x_axis
    if x_axis.startswith("_") and x_axis != "_runtime":  # the only logged key that may start with "_"
        raise InvalidArgument(
            "x_axis", Reason.INVALID_NAME, 'x_axis is "_step", "_timestamp" or a metric key'
        )
    return check_metric_key(x_axis, "x_axis")


async def get_history(pool: asyncpg.Pool, run: str, req: HistoryRequest, timeout: float) -> list[Series]:
    parse_run(run, "run")
    keys = check_keys(req.keys)
    samples = check_samples(req.samples)
    check_range(req.min_step, req.max_step)
    x_axis = check_x_axis(req.x_axis)
    async with (
        pool.acquire(timeout=timeout) as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        pk = await resolve_run(conn, run, "run", timeout)
        return await _history_of_run(conn, run, pk, keys, samples, req.min_step, req.max_step, x_axis)


async def _history_of_run(
    conn: Conn, run: str, pk: int, keys: list[str], samples: int,
    lo: int | None, hi: int | None, x_axis: str,
) -> list[Series]:  # fmt: skip
    extra = [x_axis] if x_axis not in _RESERVED_X else []
    ids = await sh.key_ids(conn, pk, [*keys, *extra])
    if extra:
        x_points = await read_raw(conn, pk, ids.get(x_axis), lo, hi)
        out = []
        for key in keys:
            y, _ = await read_raw(conn, pk, ids.get(key), lo, hi)
            out.append(_against_key(run, key, y, x_points[0], samples))
        return out
    out = []
    for key in keys:
        points, total = await read_sampled(
            conn, pk, ids.get(key), samples, lo, hi, by_time=x_axis == "_timestamp"
        )
        out.append(Series.of(run, key, points, total))
    return out


def _against_key(run: str, key: str, y: Points, x: Points, samples: int) -> Series:
    """Join y to the x key's values at the same steps, then sample over x's range."""
    _, yi, xi = np.intersect1d(y.steps, x.steps, assume_unique=True, return_indices=True)
    finite = np.isfinite(x.values[xi])
    yi, xi = yi[finite], xi[finite]
    joined = y.take(yi)
    xv = x.values[xi]
    keep = sampling.bucket_extremes(xv, joined.values, samples)
    return Series.of(run, key, joined.take(keep), len(yi), xv[keep])


async def batch_get_history(
    pool: asyncpg.Pool, runs: list[str], keys: list[str], samples: int, timeout: float
) -> list[Series]:
    if not runs:
        raise InvalidArgument("runs", Reason.FIELD_REQUIRED, "runs is required")
    if len(runs) > MAX_BATCH_RUNS:
        raise InvalidArgument("runs", Reason.OUT_OF_RANGE, f"at most {MAX_BATCH_RUNS} runs")
    for run in runs:
        parse_run(run, "runs")
    keys = check_keys(keys)
    if len(runs) * len(keys) > MAX_BATCH_SERIES:
        raise InvalidArgument("keys", Reason.OUT_OF_RANGE, f"at most {MAX_BATCH_SERIES} runs x keys")
    samples = check_samples(samples)
    names = list(dict.fromkeys(runs))
    async with (
        pool.acquire(timeout=timeout) as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        pks = await batch.resolve_runs(conn, names, timeout)
        found = await batch.sampled(conn, pks, keys, samples, timeout)
    empty = (Points.empty(), 0)
    return [
        Series.of(run, key, *found.get((pk, key), empty))
        for run, pk in zip(names, pks, strict=True)
        for key in keys
    ]


async def scan_history(
    pool: asyncpg.Pool, run: str, keys: list[str], size: int, lo: int | None, hi: int | None, timeout: float
) -> AsyncIterator[list[Series]]:
    """Every point of the keys in step order, in pages of `size` points (across keys)."""
    parse_run(run, "run")
    keys = check_keys(keys)
    size = paging.page_size(size, DEFAULT_SCAN_PAGE, MAX_SCAN_PAGE)
    check_range(lo, hi)
    async with (
        pool.acquire(timeout=timeout) as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        pk = await resolve_run(conn, run, "run", timeout)
        ids = await sh.key_ids(conn, pk, keys)
        present = [k for k in keys if k in ids]
        async for page in scan_pages(conn, pk, [ids[k] for k in present], size, lo, hi):
            yield [Series.of(run, present[i], points, len(points)) for i, points in page]


@dataclass(frozen=True)
class KeyInfo:
    key: str
    count: int
    min_step: int
    max_step: int


async def list_metric_keys(pool: asyncpg.Pool, run: str, timeout: float) -> list[KeyInfo]:
    async with pool.acquire(timeout=timeout) as conn:
        pk = await resolve_run(conn, run, "run", timeout)
        rows = await sh.metric_keys(conn, pk, timeout)
    return [KeyInfo(r["key"], r["count"], r["min_step"] or 0, r["max_step"] or 0) for r in rows]


@dataclass(frozen=True)
class AggregateRequest:
    parent: str
    filter_json: str
    group_by: str
    key: str
    buckets: int


def _check_aggregate(req: AggregateRequest) -> int:
    parse_project(req.parent)
    if not req.key:
        raise InvalidArgument("key", Reason.FIELD_REQUIRED, "key is required")
    check_metric_key(req.key, "key")
    return bounded(req.buckets, "buckets", DEFAULT_BUCKETS, MAX_BUCKETS)


async def aggregate_history(pool: asyncpg.Pool, req: AggregateRequest, timeout: float) -> list[Band]:
    """One key across the runs matching a filter, grouped: per group a mean/min/max band (aggregate.py)."""
    buckets = _check_aggregate(req)
    node = parse_filter(req.filter_json)
    by = group_key(req.group_by) if req.group_by else None
    async with (
        pool.acquire(timeout=timeout) as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        project_id = await resolve_project(conn, req.parent)
        await prepare(conn, node, timeout)
        groups = await _run_groups(conn, project_id, node, by, timeout)
        return await curve_bands(conn, groups, req.key, buckets)


async def _run_groups(
    conn: Conn, project_id: int, node: Node, by: Attr | None, timeout: float
) -> dict[int, list[str]]:
    """Run pk -> its group values (JSON text; a run has several when grouped by tags)."""
    limit = MAX_AGGREGATE_RUNS * 16 + 1
    rows = await search_store.group_values(conn, project_id, node, by, limit, timeout)
    groups: dict[int, list[str]] = defaultdict(list)
    for r in rows:
        groups[r["id"]].append(r["value"] or "null")
    if len(groups) > MAX_AGGREGATE_RUNS:
        raise InvalidArgument(
            "filter_json", Reason.OUT_OF_RANGE, f"more than {MAX_AGGREGATE_RUNS} runs match"
        )
    return groups
