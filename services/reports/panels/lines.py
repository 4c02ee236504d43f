"""LinePlot's fold: for each y key, the runs' curves bucketed over the key's step range (each run's
mean per bucket, streamed run by run from the query service's chunk cursor: one query per key for
all the panel's runs), then per group a line (mean, median, min or max of the group's runs at each
bucket) and a band (min-max, or mean ± one standard deviation), smoothed by an exponential moving
average when asked. Memory is O(runs x buckets), never O(points).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...common.db import Conn
from ...query.history import store as history_store
from ...query.history.aggregate import _run_means, _sort_key

BUCKETS = 200

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
    for key in keys:
        lo, hi = await history_store.step_range(conn, list(groups), key)
        if lo is None or hi is None:
            continue
        width = (hi - lo + 1) / buckets
        rows: dict[str, list[np.ndarray]] = {}
        async for run, means, valid in _run_means(conn, list(groups), key, lo, width, buckets):
            row = np.where(valid, means, np.nan)
            for group in groups[run]:
                rows.setdefault(group, []).append(row)
        order = {g: i for i, g in enumerate(dict.fromkeys(g for gs in groups.values() for g in gs))}
        for group in sorted(rows, key=_sort_key if by_value else order.__getitem__):
            out.append(_line(key, group, np.vstack(rows[group]), lo, width, options))
    return out


def _line(key: str, group: str, matrix: np.ndarray, lo: int, width: float, options: LineOptions) -> Line:
    present = ~np.all(np.isnan(matrix), axis=0)
    m = matrix[:, present]
    x = (lo + np.floor(np.flatnonzero(present) * width)).astype(np.float64)
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
