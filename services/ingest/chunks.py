"""Columnar points -> metric_chunks rows and per-key summaries, vectorized with numpy.

The metric_chunks contract (CONVENTIONS): one row holds many points of ONE (run_id, key_id):
`steps` = n int64 little-endian, `vals` = n float64 LE (NaN/inf as is), `times` = n float64 LE;
steps are non-decreasing within a row; first_step/last_step = min/max of the row; `id` is insertion
order. Rows hold at most ROW_POINTS points so they stay inline in the heap page (no TOAST, no
compression attempt: see the ingest migration).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .limits import ROW_POINTS


@dataclass
class Planned:
    """One accepted batch: points ordered by key id, then step (stable), key ids resolved."""

    sequence: int
    key_ids: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    times: np.ndarray

    def starts(self) -> np.ndarray:
        return np.flatnonzero(np.r_[True, self.key_ids[1:] != self.key_ids[:-1]])

    def ends(self) -> np.ndarray:
        return np.r_[self.starts()[1:], len(self.key_ids)]


@dataclass
class Group(Planned):
    """Several batches merged for one transaction (same ordering rules)."""

    @property
    def size(self) -> int:
        return len(self.key_ids)


def merge_planned(planned: list[Planned], out_of_order: bool) -> Group:
    if len(planned) == 1:
        p = planned[0]
        return Group(p.sequence, p.key_ids, p.steps, p.values, p.times)
    kid = np.concatenate([p.key_ids for p in planned])
    steps = np.concatenate([p.steps for p in planned])
    values = np.concatenate([p.values for p in planned])
    times = np.concatenate([p.times for p in planned])
    # Batches are in sequence order and each is checked against the ones before it, so a stable sort
    # by key keeps steps non-decreasing; out-of-order runs sort by step within a key.
    order = np.lexsort((steps, kid)) if out_of_order else np.argsort(kid, kind="stable")
    return Group(planned[-1].sequence, kid[order], steps[order], values[order], times[order])


def summarize(g: Group, names: dict[int, str]) -> list[list[Any]]:
    """Per-key columns for store_metrics.commit_summary: key_id, key, count, finite_count, last,
    last_step, min, min_step, max, max_step, sum (NaN/inf ignored by min/max/sum)."""
    if g.size == 0:
        return [[] for _ in range(11)]
    starts, ends = g.starts(), g.ends()
    lens = ends - starts
    v, steps = g.values, g.steps
    finite = np.isfinite(v)
    finite_count = np.add.reduceat(finite.astype(np.int64), starts)
    total = np.add.reduceat(np.where(finite, v, 0.0), starts)
    vmin = np.minimum.reduceat(np.where(finite, v, np.inf), starts)
    vmax = np.maximum.reduceat(np.where(finite, v, -np.inf), starts)
    index = np.arange(g.size)
    at_min = finite & (v == np.repeat(vmin, lens))
    at_max = finite & (v == np.repeat(vmax, lens))
    first_min = np.minimum.reduceat(np.where(at_min, index, g.size - 1), starts)
    first_max = np.minimum.reduceat(np.where(at_max, index, g.size - 1), starts)
    kids = g.key_ids[starts]
    return [
        kids.tolist(),
        [names[k] for k in kids.tolist()],
        lens.tolist(),
        finite_count.tolist(),
        v[ends - 1].tolist(),
        steps[ends - 1].tolist(),
        vmin.tolist(),
        steps[first_min].tolist(),
        vmax.tolist(),
        steps[first_max].tolist(),
        total.tolist(),
    ]


def build_rows(run_pk: int, g: Group) -> list[tuple[Any, ...]]:
    """One row per key per ROW_POINTS points: (run_id, key_id, first_step, last_step, n, steps, vals, times)."""
    starts, ends = g.starts(), g.ends()
    lens = ends - starts
    per_key = (lens + ROW_POINTS - 1) // ROW_POINTS
    row_key = np.repeat(np.arange(len(starts)), per_key)
    offset_in_key = np.arange(len(row_key)) - np.repeat(np.cumsum(per_key) - per_key, per_key)
    row_start = starts[row_key] + offset_in_key * ROW_POINTS
    row_end = np.minimum(row_start + ROW_POINTS, ends[row_key])
    steps_le = g.steps.astype("<i8", copy=False)
    sb = steps_le.tobytes()
    vb = g.values.astype("<f8", copy=False).tobytes()
    tb = g.times.astype("<f8", copy=False).tobytes()
    first = steps_le[row_start].tolist()
    last = steps_le[row_end - 1].tolist()
    kid = g.key_ids[row_start].tolist()
    rows = []
    for i, (a, b) in enumerate(zip(row_start.tolist(), row_end.tolist(), strict=True)):
        lo, hi = a * 8, b * 8
        rows.append((run_pk, kid[i], first[i], last[i], b - a, sb[lo:hi], vb[lo:hi], tb[lo:hi]))
    return rows
