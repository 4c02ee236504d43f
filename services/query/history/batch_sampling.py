"""sampling.py's step-axis reads for many series at once: the same answers, computed with a few numpy
calls over all series concatenated instead of a dozen per series (a 1,000-run compare chart spends
most of its time in per-call overhead otherwise).

Only for series whose chunks are in step order and are read raw (not dense): their points are the
concatenated chunks with repeated adjacent steps dropped, so every series is sorted by step and its
buckets are contiguous. Bucket b of series i becomes segment i * (B + 1) + b, non-decreasing over the whole
concatenation, and sampling._extremes picks the same first minimum and first maximum per segment as
it does per series.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import sampling
from .sampling import Points


def raw_in_order(rows_per_series: Sequence[Sequence[Any]]) -> tuple[Points, np.ndarray]:
    """The points of each series (rows of metric_chunks in (first_step, id) order, not overlapping),
    deduplicated as sampling.dedupe_in_order does, concatenated; and each series' point count."""
    rows = [r for rs in rows_per_series for r in rs]
    points, _ = sampling.decode_rows(rows)
    raw_counts = np.array([sum(r["n"] for r in rs) for rs in rows_per_series], dtype=np.int64)
    ends = np.cumsum(raw_counts)
    keep = np.ones(len(points), dtype=bool)
    keep[:-1] = points.steps[1:] != points.steps[:-1]
    keep[ends[raw_counts > 0] - 1] = True  # a series' last point is never compared with the next series
    starts = ends - raw_counts
    kept = np.add.reduceat(keep, starts[raw_counts > 0]) if len(points) else np.zeros(0, dtype=np.int64)
    counts = np.zeros(len(raw_counts), dtype=np.int64)
    counts[raw_counts > 0] = kept
    return points.take(keep), counts


def bucket_extremes_many(points: Points, counts: np.ndarray, samples: int) -> list[np.ndarray]:
    """sampling.bucket_extremes(steps, values, samples) of each series (indices within the series)."""
    offsets = np.cumsum(counts) - counts
    out: list[np.ndarray | None] = [None] * len(counts)
    big = [i for i, n in enumerate(counts) if n > samples and samples > 2]
    is_big = set(big)
    for i, n in enumerate(counts):
        if i not in is_big:
            s = slice(offsets[i], offsets[i] + n)
            out[i] = sampling.bucket_extremes(points.steps[s], points.values[s], samples)
    if big:
        _many(points, counts, offsets, np.array(big), samples, out)
    for i in big:  # a short first pass: the one-series sampler's search for more buckets decides
        first = out[i]
        if first is None or len(first) < max(samples - 2, 0.9 * samples):
            s = slice(offsets[i], offsets[i] + counts[i])
            out[i] = sampling.bucket_extremes(points.steps[s], points.values[s], samples)
    return out  # type: ignore[return-value]


def _many(
    points: Points, counts: np.ndarray, offsets: np.ndarray, big: np.ndarray, samples: int, out: list
) -> None:
    buckets = (samples - 2) // 2
    lens = counts[big]
    idx = np.concatenate([np.arange(offsets[i], offsets[i] + counts[i]) for i in big])
    xf = points.steps[idx].astype(np.float64)
    values = points.values[idx]
    starts = np.cumsum(lens) - lens
    series = np.repeat(np.arange(len(big)), lens)
    lo = np.minimum.reduceat(xf, starts)
    hi = np.maximum.reduceat(xf, starts)
    span = hi - lo
    scaled = np.clip((xf - lo[series]) / np.where(span > 0, span, 1.0)[series] * buckets, 0, buckets - 1)
    bucket = np.where((span > 0)[series], scaled, 0).astype(np.int64)
    segment = series * (buckets + 1) + bucket  # (bucket is -1 when samples is 3: buckets = 0)
    seg_starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    picked = sampling._extremes(values, segment, seg_starts)
    chosen = np.sort(np.concatenate([picked, starts, starts + lens - 1]))
    chosen = chosen[np.r_[True, chosen[1:] != chosen[:-1]]]  # np.unique, without its slow hashing
    cut = np.searchsorted(chosen, starts)
    for j, i in enumerate(big):
        end = cut[j + 1] if j + 1 < len(big) else len(chosen)
        out[i] = chosen[cut[j] : end] - starts[j]
