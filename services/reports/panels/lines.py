"""LinePlot's fold: for each y key, every run's curve bucketed on ONE x-grid shared by the panel's runs
(B equal ranges between the smallest and largest x any run reached; a run's value in a bucket is the
mean of its points there), then per group a line (mean, median, min or max of the group's runs at each
bucket) and a band (min-max, or mean ± one standard deviation), smoothed by an exponential moving
average when asked.

The points come from history.py in one query for all runs and keys: long series through the query
service's rollups (cell extremes, about 1/8 of the points), so a bucket's value is then the mean of its
cells' minima and maxima, not of every point; short series and the newest chunks raw. Memory is
O(runs x buckets) plus the points read, the fold is a few np.bincount calls.

x is "_step" (default), "_timestamp" (wall time, Unix seconds), "_runtime" (seconds since the run
started: its creation, or its first logged point if earlier) or another metric key (e.g. "epoch"):
the x key's value at each point's step, interpolated between the steps that logged it, and a point
outside the steps that logged the x key is left out. On the step axis a bucket's x is the first whole
step inside it; on the others the mean x of the group's points in the bucket.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...common.db import Conn
from ...query.history.aggregate import _sort_key
from . import history
from .history import KeyPoints

BUCKETS = 200
X_STEP, X_TIMESTAMP, X_RUNTIME = "_step", "_timestamp", "_runtime"
X_BUILTIN = (X_STEP, X_TIMESTAMP, X_RUNTIME)

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
    x: str = X_STEP


@dataclass(frozen=True)
class _Grid:
    """Per-(run, bucket) mean y, and the x sums and point counts behind it (runs x buckets each)."""

    means: np.ndarray
    x_sums: np.ndarray
    counts: np.ndarray
    step_x: np.ndarray | None  # the step axis: each bucket's first whole step


async def fold_lines(
    conn: Conn,
    groups: dict[int, list[str]],
    keys: list[str],
    options: LineOptions,
    *,
    starts: dict[int, float] | None = None,
    by_value: bool = True,
    buckets: int = BUCKETS,
    timeout: float = 60.0,
) -> list[Line]:
    """One Line per (key, group), keys in the given order; groups (JSON values) in value order, or
    (`by_value` False: one group per run) in the order of `groups`. `starts`: run pk -> its creation
    (Unix seconds), for x = "_runtime"."""
    runs = list(groups)
    x_key = options.x if options.x not in X_BUILTIN else None
    wanted = [*keys, x_key] if x_key else keys
    timed = options.x in (X_TIMESTAMP, X_RUNTIME)
    read = await history.read_points(conn, runs, wanted, times=timed, timeout=timeout)
    order = {g: i for i, g in enumerate(dict.fromkeys(g for gs in groups.values() for g in gs))}
    out: list[Line] = []
    for key in keys:
        if key not in read:
            continue
        xs = _x_of(read[key], options.x, read.get(x_key) if x_key else None, runs, starts or {})
        grid = _bucketed(read[key], xs, len(runs), buckets, options.x == X_STEP)
        if grid is None:
            continue
        members: dict[str, list[int]] = {}
        for i, run in enumerate(runs):
            if not np.all(np.isnan(grid.means[i])):
                for group in groups[run]:
                    members.setdefault(group, []).append(i)
        for group in sorted(members, key=_sort_key if by_value else order.__getitem__):
            out.append(_line(key, group, grid, members[group], options))
    return out


def _x_of(
    pts: KeyPoints, x: str, x_key: KeyPoints | None, runs: list[int], starts: dict[int, float]
) -> np.ndarray:
    """Each point's x (float64, NaN where the run has no x there; the step axis: the int64 steps)."""
    if x == X_STEP:
        return pts.steps  # int64: bucketed with integer arithmetic
    if x == X_TIMESTAMP:
        assert pts.times is not None
        return pts.times
    if x == X_RUNTIME:
        assert pts.times is not None
        runtime: np.ndarray = pts.times - _run_starts(pts, runs, starts)[pts.owner]
        return runtime
    if x_key is None:  # no run logged the x key
        return np.full(len(pts.steps), np.nan)
    return _interpolated(pts, x_key, len(runs))


def _run_starts(pts: KeyPoints, runs: list[int], starts: dict[int, float]) -> np.ndarray:
    """Each run's start: its creation time, or its first point's time when that is earlier."""
    assert pts.times is not None
    first = np.full(len(runs), np.inf)
    np.minimum.at(first, pts.owner, pts.times)
    created = np.array([starts.get(run, np.inf) for run in runs], dtype=np.float64)
    out = np.minimum(first, created)
    return np.where(np.isfinite(out), out, 0.0)


def _interpolated(pts: KeyPoints, x_key: KeyPoints, n_runs: int) -> np.ndarray:
    """The x key's value at each point's step, per run (linear between the x key's logged steps)."""
    out = np.full(len(pts.steps), np.nan)
    keep = np.isfinite(x_key.values)
    x_owner, x_steps, x_values = x_key.owner[keep], x_key.steps[keep], x_key.values[keep]
    order = np.lexsort((x_steps, x_owner))
    x_owner, x_steps, x_values = x_owner[order], x_steps[order], x_values[order]
    bounds = np.searchsorted(x_owner, np.arange(n_runs + 1))
    y_order = np.argsort(pts.owner, kind="stable")
    y_bounds = np.searchsorted(pts.owner[y_order], np.arange(n_runs + 1))
    for run in range(n_runs):
        a, b = bounds[run], bounds[run + 1]
        ya, yb = y_bounds[run], y_bounds[run + 1]
        if a == b or ya == yb:
            continue
        idx = y_order[ya:yb]
        out[idx] = np.interp(pts.steps[idx], x_steps[a:b], x_values[a:b], left=np.nan, right=np.nan)
    return out


def _bucketed(pts: KeyPoints, xs: np.ndarray, n_runs: int, buckets: int, step_axis: bool) -> _Grid | None:
    """Bucket every run's finite points on the grid spanning all runs' x (None: no finite point).
    Millions of points: no copy when every point is finite, integer arithmetic on the step axis."""
    finite = np.isfinite(pts.values)
    if not step_axis:
        finite &= np.isfinite(xs)
    if finite.all():
        x, y, owner = xs, pts.values, pts.owner
    elif finite.any():
        x, y, owner = xs[finite], pts.values[finite], pts.owner[finite]
    else:
        return None
    lo, hi = x.min(), x.max()
    if step_axis and int(hi) - int(lo) < 2**53 // buckets:  # exactly floor((step - lo) * B / span)
        span = int(hi) - int(lo) + 1
        cell = x - lo
        cell *= buckets
        cell //= span
        width = span / buckets
    else:
        width = (hi - lo + 1) / buckets if step_axis else (float(hi - lo) / buckets or 1.0)
        cell = ((x - lo) / width).astype(np.int64)
        np.clip(cell, 0, buckets - 1, out=cell)
    cell += owner * buckets
    size = n_runs * buckets
    sums = np.bincount(cell, weights=y, minlength=size)
    counts = np.bincount(cell, minlength=size).astype(np.float64)
    x_sums = np.zeros(size) if step_axis else np.bincount(cell, weights=x, minlength=size)  # unused on steps
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan)
    shape = (n_runs, buckets)
    # a bucket's x on the step axis is the first whole step inside it (floor could name the previous one)
    step_x = float(lo) + np.ceil(np.arange(buckets) * width - 1e-9) if step_axis else None
    return _Grid(means.reshape(shape), x_sums.reshape(shape), counts.reshape(shape), step_x)


def _line(key: str, group: str, grid: _Grid, rows: list[int], options: LineOptions) -> Line:
    matrix = grid.means[rows]
    present = ~np.all(np.isnan(matrix), axis=0)
    m = matrix[:, present]
    if grid.step_x is not None:
        x = grid.step_x[present].astype(np.float64)
    else:
        x = grid.x_sums[rows].sum(axis=0)[present] / grid.counts[rows].sum(axis=0)[present]
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
