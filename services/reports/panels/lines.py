"""LinePlot's fold: for each y key, the runs' curves bucketed over the key's step range (each run's
mean per bucket, from the query service's chunk cursor in batches: one query per key for all the
panel's runs, one np.bincount per batch of chunks), then per group a line (mean, median, min or
max of the group's runs at each bucket) and a band (min-max, or mean ± one standard deviation), smoothed by an exponential moving
average when asked. Memory is O(runs x buckets), never O(points).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import numpy as np

from ...common.db import Conn
from ...query.history import store as history_store
from ...query.history.aggregate import _sort_key

BUCKETS = 200
_BATCH_ROWS = 512  # chunk rows folded per np.bincount (a row holds up to ~1,000 points)

_CENTER: dict[str, Callable[..., np.ndarray]] = {
    "mean": np.nanmean,
    "median": np.nanmedian,
    "min": np.nanmin,
    "max": np.nanmax,
}


@dataclass(frozen=True)
class Line:
    key: str
    group: str
    run_count: int
    x: np.ndarray
    y: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class LineOptions:
    aggregation: str  # mean, median, min, max
    band: str  # minmax, stddev, none
    smoothing: float


async def fold_lines(
    conn: Conn,
    groups: dict[int, list[str]],
    keys: list[str],
    options: LineOptions,
    *,
    by_value: bool = True,
    buckets: int = BUCKETS,
) -> list[Line]:
    """One Line per (key, group), keys in the given order; groups (JSON values) in value order, or
    (`by_value` False: one group per run) in the order of `groups`."""
    out: list[Line] = []
    runs = list(groups)
    for key in keys:
        lo, hi = await history_store.step_range(conn, runs, key)
        if lo is None or hi is None:
            continue
        width = (hi - lo + 1) / buckets
        matrix = await _bucket_means(conn, runs, key, lo, width, buckets)
        members: dict[str, list[int]] = {}
        for i, run in enumerate(runs):
            if not np.all(np.isnan(matrix[i])):
                for group in groups[run]:
                    members.setdefault(group, []).append(i)
        order = {g: i for i, g in enumerate(dict.fromkeys(g for gs in groups.values() for g in gs))}
        for group in sorted(members, key=_sort_key if by_value else order.__getitem__):
            out.append(_line(key, group, matrix[members[group]], lo, width, options))
    return out


async def _bucket_means(
    conn: Conn, runs: list[int], key: str, lo: int, width: float, buckets: int
) -> np.ndarray:
    """(runs x buckets): each run's mean over its finite points in each bucket, NaN where it has none.
    Chunks are fetched in batches and folded with one np.bincount per batch (not one per chunk)."""
    index = {run: i for i, run in enumerate(runs)}
    size = len(runs) * buckets
    sums, counts = np.zeros(size), np.zeros(size)
    batch: list[asyncpg.Record] = []
    async for row in history_store.aggregate_cursor(conn, runs, key):
        batch.append(row)
        if len(batch) == _BATCH_ROWS:
            _fold(batch, index, lo, width, buckets, sums, counts)
            batch = []
    if batch:
        _fold(batch, index, lo, width, buckets, sums, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan)
    return means.reshape(len(runs), buckets)


def _fold(
    rows: list[asyncpg.Record], index: dict[int, int], lo: int, width: float, buckets: int,
    sums: np.ndarray, counts: np.ndarray,
) -> None:  # fmt: skip
    """Add a batch of chunk rows to the per-(run, bucket) sums and counts (one bincount each)."""
    steps = np.frombuffer(b"".join(r["steps"] for r in rows), dtype="<i8")
    values = np.frombuffer(b"".join(r["vals"] for r in rows), dtype="<f8")
    lengths = np.fromiter((len(r["vals"]) // 8 for r in rows), dtype=np.int64, count=len(rows))
    owners = np.fromiter((index[r["run_id"]] for r in rows), dtype=np.int64, count=len(rows))
    owner = np.repeat(owners, lengths)
    finite = np.isfinite(values)
    cell = np.clip(((steps[finite] - lo) / width).astype(np.int64), 0, buckets - 1)
    cell += owner[finite] * buckets
    sums += np.bincount(cell, weights=values[finite], minlength=sums.size)
    counts += np.bincount(cell, minlength=counts.size)


def _line(key: str, group: str, matrix: np.ndarray, lo: int, width: float, options: LineOptions) -> Line:
    present = ~np.all(np.isnan(matrix), axis=0)
    m = matrix[:, present]
    # a bucket's x is the first whole step inside it (floor could name the previous bucket's step)
    x = (lo + np.ceil(np.flatnonzero(present) * width - 1e-9)).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = _CENTER[options.aggregation](m, axis=0)
        if options.band == "minmax":
            lower, upper = np.nanmin(m, axis=0), np.nanmax(m, axis=0)
        elif options.band == "stddev":
            mean, std = np.nanmean(m, axis=0), np.nanstd(m, axis=0)
            lower, upper = mean - std, mean + std
        else:
            lower = upper = np.empty(0)
    if options.smoothing > 0:
        y = ema(y, options.smoothing)
        if lower.size:
            lower, upper = ema(lower, options.smoothing), ema(upper, options.smoothing)
    return Line(key, group, matrix.shape[0], x, y, lower, upper)


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Exponential moving average with debiasing (the first points are not pulled towards 0)."""
    out = np.empty_like(values)
    acc, norm = 0.0, 0.0
    for i, v in enumerate(values):
        acc = weight * acc + (1 - weight) * v
        norm = weight * norm + (1 - weight)
        out[i] = acc / norm
    return out
