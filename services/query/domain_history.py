"""History: sampled (GetHistory, BatchGetHistory), full (ScanHistory) and aggregated across runs.

Every read runs in one REPEATABLE READ snapshot, straight from metric_chunks (plus the rollups of
long series, see sampling.py and rollup.py): there is no cache, so points ingest acknowledged are
visible to the next call (read-your-writes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import numpy as np

from ..common.errors import InvalidArgument, Reason
from ..common.names import parse_run
from . import sampling
from . import store_history as sh
from .aggregate import AggregateRequest, aggregate_history
from .attrs import check_metric_key
from .domain import bounded, page_size, resolve_run
from .history_read import read_raw, read_sampled
from .sampling import Points
from .scan import scan_pages

__all__ = ["AggregateRequest", "HistoryRequest", "Series", "aggregate_history", "get_history"]

DEFAULT_SAMPLES = 500
MAX_SAMPLES = 100_000
MAX_KEYS = 1000
MAX_BATCH_RUNS = 1000
MAX_BATCH_SERIES = 10_000
DEFAULT_SCAN_PAGE = 10_000
MAX_SCAN_PAGE = 100_000
_RESERVED_X = ("_step", "_timestamp")


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
    conn: asyncpg.Connection, run: str, pk: int, keys: list[str], samples: int,
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
    out: list[Series] = []
    async with (
        pool.acquire(timeout=timeout) as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        for run in dict.fromkeys(runs):
            pk = await resolve_run(conn, run, "runs", timeout)
            out += await _history_of_run(conn, run, pk, keys, samples, None, None, "_step")
    return out


async def scan_history(
    pool: asyncpg.Pool, run: str, keys: list[str], size: int, lo: int | None, hi: int | None, timeout: float
) -> AsyncIterator[list[Series]]:
    """Every point of the keys in step order, in pages of `size` points (across keys)."""
    parse_run(run, "run")
    keys = check_keys(keys)
    size = page_size(size, DEFAULT_SCAN_PAGE, MAX_SCAN_PAGE)
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
