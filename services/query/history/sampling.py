"""Deterministic history sampling with numpy (no per-point Python).

The algorithm (what GetHistory returns when a range holds more than `samples` points):

1. Points: the stored points of the key in [min_step, max_step]; a step logged twice keeps the
   last-written value (CONVENTIONS: readers merge by (step, id)).
2. Candidates: when the range is dense (at least DENSE_CELLS * CELL points per bucket) the candidates
   are the *cell extremes*: within every stored chunk, the minimum and the maximum of each run of CELL
   consecutive points, plus the chunk's first and last point. This is exactly what the rollup job
   precomputes (rollup.py), so a dense read touches ~2/CELL of the points, and the answer is the same
   whether the rollup exists yet or not. Sparser ranges use every point.
3. Buckets: B equal ranges of the x axis (step, or time for x_axis=_timestamp,
   or another key's value) between the first and last point. Each bucket keeps its minimum and
   maximum point (NaN ignored unless the bucket has nothing else); the overall first and last points
   are always kept. B starts at (samples - 2) // 2 (so 2B + 2 <= samples) and grows while the result
   still has at most `samples` points (smooth curves share extremes between buckets): about
   `samples` points come back, never more.

No randomness and ties resolve to the earliest point, so the same call on the same data returns the
same points; a single spike is the maximum of its cell and of its bucket, so it always survives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np

CELL = 16
DENSE_CELLS = 8
EMPTY_I8 = np.empty(0, dtype=np.int64)
EMPTY_F8 = np.empty(0, dtype=np.float64)


@dataclass
class Points:
    steps: np.ndarray
    values: np.ndarray
    times: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)

    def take(self, idx: np.ndarray | slice | list[int]) -> Points:
        return Points(self.steps[idx], self.values[idx], self.times[idx])

    def in_range(self, lo: int | None, hi: int | None) -> np.ndarray:
        """Mask of the points with lo <= step <= hi (None: unbounded)."""
        mask = np.ones(len(self), dtype=bool)
        if lo is not None:
            mask &= self.steps >= lo
        if hi is not None:
            mask &= self.steps <= hi
        return mask

    @staticmethod
    def empty() -> Points:
        return Points(EMPTY_I8, EMPTY_F8, EMPTY_F8)

    @staticmethod
    def concat(parts: list[Points]) -> Points:
        if not parts:
            return Points.empty()
        return Points(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("steps", "values", "times")))


def decode_rows(rows: Sequence[Mapping[str, Any] | asyncpg.Record]) -> tuple[Points, np.ndarray]:
    """The points of metric_chunks rows (steps/vals/times/n), in row order, and each row's length."""
    if not rows:
        return Points.empty(), EMPTY_I8
    points = decode(
        b"".join(r["steps"] for r in rows),
        b"".join(r["vals"] for r in rows),
        b"".join(r["times"] for r in rows),
    )
    return points, np.array([r["n"] for r in rows], dtype=np.int64)


def decode(steps: bytes, vals: bytes, times: bytes) -> Points:
    return Points(
        np.frombuffer(steps, dtype="<i8").astype(np.int64, copy=False),
        np.frombuffer(vals, dtype="<f8").astype(np.float64, copy=False),
        np.frombuffer(times, dtype="<f8").astype(np.float64, copy=False),
    )


def dedupe_in_order(points: Points, lengths: np.ndarray) -> tuple[Points, np.ndarray]:
    """Chunks in step order, not overlapping: drop all but the last of equal adjacent steps.
    Returns the points and the new per-chunk lengths."""
    n = len(points)
    if n == 0:
        return points, lengths
    keep = np.ones(n, dtype=bool)
    keep[:-1] = points.steps[1:] != points.steps[:-1]
    if keep.all():
        return points, lengths
    starts = np.cumsum(lengths) - lengths
    nonempty = lengths > 0
    new_lengths = np.zeros_like(lengths)
    new_lengths[nonempty] = np.add.reduceat(keep, starts[nonempty])
    return points.take(keep), new_lengths


def dedupe_any(points: Points) -> Points:
    """Points in write order (chunk id, then position): sort by step, the last write of a step wins."""
    if len(points) == 0:
        return points
    order = np.argsort(points.steps, kind="stable")
    steps = points.steps[order]
    last = np.ones(len(steps), dtype=bool)
    last[:-1] = steps[1:] != steps[:-1]
    return points.take(order[last])


def in_step_order(first_steps: np.ndarray, last_steps: np.ndarray) -> bool:
    """Chunks sorted by (first_step, id) never overlap (each starts after the previous one ends)."""
    return bool(np.all(first_steps[1:] > last_steps[:-1])) if len(first_steps) > 1 else True


def _segment_firsts(mask: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Index of the first True of `mask` in each segment (segment ids non-decreasing)."""
    idx = np.flatnonzero(mask)
    seg = segment[idx]
    first = np.ones(len(idx), dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    return idx[first]


def _extremes(values: np.ndarray, segment: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per contiguous segment: index of the first minimum and of the first maximum (NaN ignored
    unless a segment is all NaN, which then keeps its first point). Segment ids need not be dense
    (a bucket with no point is skipped): each point's segment is numbered by its position in starts."""
    nan = np.isnan(values)
    hi = np.where(nan, -np.inf, values)
    lo = np.where(nan, np.inf, values)
    seg_max = np.maximum.reduceat(hi, starts)
    seg_min = np.minimum.reduceat(lo, starts)
    segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(values)]))
    return np.concatenate(
        [_segment_firsts(hi == seg_max[segment], segment), _segment_firsts(lo == seg_min[segment], segment)]
    )


def cell_extremes(values: np.ndarray, lengths: np.ndarray, cell: int = CELL) -> np.ndarray:
    """Sorted indices of every chunk's first and last point and each cell's min and max."""
    n = len(values)
    lengths = lengths[lengths > 0]
    if n == 0:
        return EMPTY_I8
    starts = np.cumsum(lengths) - lengths
    within = np.arange(n) - np.repeat(starts, lengths)
    cells_per_chunk = -(-lengths // cell)
    cell_offset = np.cumsum(cells_per_chunk) - cells_per_chunk
    cell_id = np.repeat(cell_offset, lengths) + within // cell
    cell_starts = np.flatnonzero(np.r_[True, cell_id[1:] != cell_id[:-1]])
    picked = _extremes(values, cell_id, cell_starts)
    return np.unique(np.concatenate([picked, starts, starts + lengths - 1]))


def bucket_extremes(x: np.ndarray, values: np.ndarray, samples: int) -> np.ndarray:
    """Sorted indices kept by min/max-per-bucket sampling (x in step order; not necessarily sorted).

    B = (samples - 2) // 2 buckets give at most `samples` points, but only when every bucket's minimum
    and maximum are distinct from each other and from the first and last point. On smooth curves
    (a decreasing loss) a bucket's extremes are its own first and last points and neighbouring buckets
    share none, so few buckets give few points: 5 samples of a monotonic series were 2 points. When
    the first pass is short by more than two points and 10%, more buckets are tried (a binary search
    up to samples - 2) and the most that still fit are kept."""
    n = len(x)
    if n <= samples:
        return np.arange(n)
    if samples <= 2:
        return np.array([n - 1] if samples == 1 else [0, n - 1])
    lo_b, hi_b = (samples - 2) // 2, max(1, samples - 2)
    best = _bucketed(x, values, max(1, lo_b))
    if len(best) >= max(samples - 2, 0.9 * samples):  # close enough: the common case costs one pass
        return best
    while lo_b < hi_b and len(best) < samples:
        mid = (lo_b + hi_b + 1) // 2
        kept = _bucketed(x, values, mid)
        if len(kept) <= samples:
            lo_b, best = mid, kept
        else:
            hi_b = mid - 1
    return best


def _bucketed(x: np.ndarray, values: np.ndarray, buckets: int) -> np.ndarray:
    """Sorted indices of each bucket's minimum and maximum plus the first and last point."""
    n = len(x)
    xf = x.astype(np.float64)
    lo, hi = float(np.nanmin(xf)), float(np.nanmax(xf))
    span = hi - lo
    bucket = (
        np.zeros(n, dtype=np.int64) if span <= 0 else np.clip(((xf - lo) / span * buckets), 0, buckets - 1)
    )
    bucket = bucket.astype(np.int64)
    order = np.arange(n) if np.all(bucket[1:] >= bucket[:-1]) else np.argsort(bucket, kind="stable")
    sorted_bucket = bucket[order]
    starts = np.flatnonzero(np.r_[True, sorted_bucket[1:] != sorted_bucket[:-1]])
    picked = order[_extremes(values[order], sorted_bucket, starts)]
    return np.unique(np.concatenate([picked, [0, n - 1]]))


def is_dense(total_points: int, samples: int) -> bool:
    buckets = max(1, (samples - 2) // 2)
    return total_points > samples and total_points >= DENSE_CELLS * CELL * buckets
