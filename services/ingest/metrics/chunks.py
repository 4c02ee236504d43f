"""Columnar points -> metric_chunks rows and per-key summaries, vectorized with numpy.

The metric_chunks contract (CONVENTIONS): one row holds many points of ONE (run_id, key_id):
`steps` = n int64 little-endian, `vals` = n float64 LE (NaN/inf as is), `times` = n float64 LE;
steps are non-decreasing within a row; first_step/last_step = min/max of the row; `id` is insertion
order. Rows hold at most ROW_POINTS points so they stay inline in the heap page (no TOAST, no
compression attempt: see the ingest migration). Each committed batch gives one row per key (more past
ROW_POINTS points); a group of batches committed together keeps the per-batch rows and merges only
the small per-key summaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

    _starts: np.ndarray | None = field(default=None, init=False, repr=False)

    def starts(self) -> np.ndarray:
        """Index of each key's first point (computed once: the arrays never change after planning)."""
        if self._starts is None:
            self._starts = np.flatnonzero(np.r_[True, self.key_ids[1:] != self.key_ids[:-1]])
        return self._starts

    def ends(self) -> np.ndarray:
        ends: np.ndarray = np.r_[self.starts()[1:], len(self.key_ids)]
        return ends


SUMMARY_FIELDS = (
    "key_id",
    "count",
    "finite_count",
    "last",
    "last_step",
    "min",
    "min_step",
    "max",
    "max_step",
    "sum",
)
Summary = dict[str, np.ndarray]


def summarize(p: Planned) -> Summary:
    """Per-key summary of one batch (min/max/sum over finite values; min is +inf when none)."""
    if len(p.key_ids) == 0:
        return {f: np.empty(0) for f in SUMMARY_FIELDS}
    starts, ends = p.starts(), p.ends()
    lens = ends - starts
    v, steps, n = p.values, p.steps, len(p.key_ids)
    finite = np.isfinite(v)
    vmin = np.minimum.reduceat(np.where(finite, v, np.inf), starts)
    vmax = np.maximum.reduceat(np.where(finite, v, -np.inf), starts)
    index = np.arange(n)
    first_min = np.minimum.reduceat(np.where(finite & (v == np.repeat(vmin, lens)), index, n - 1), starts)
    first_max = np.minimum.reduceat(np.where(finite & (v == np.repeat(vmax, lens)), index, n - 1), starts)
    return {
        "key_id": p.key_ids[starts],
        "count": lens,
        "finite_count": np.add.reduceat(finite.astype(np.int64), starts),
        "last": v[ends - 1],
        "last_step": steps[ends - 1],
        "min": vmin,
        "min_step": steps[first_min],
        "max": vmax,
        "max_step": steps[first_max],
        "sum": np.add.reduceat(np.where(finite, v, 0.0), starts),
    }


def combine(parts: list[Summary]) -> Summary:
    """Merge per-batch summaries (in sequence order) into one row per key, with the same rules the
    database applies: last by highest step (ties: the later batch), first min/max in that order."""
    if len(parts) == 1:
        return parts[0]
    cat = {f: np.concatenate([p[f] for p in parts]) for f in SUMMARY_FIELDS}
    if len(cat["key_id"]) == 0:
        return cat
    batch = np.concatenate([np.full(len(p["key_id"]), i) for i, p in enumerate(parts)])
    order = np.lexsort((batch, cat["last_step"], cat["key_id"]))
    c = {f: a[order] for f, a in cat.items()}
    kid = c["key_id"]
    starts = np.flatnonzero(np.r_[True, kid[1:] != kid[:-1]])
    ends = np.r_[starts[1:], len(kid)]
    lens, n = ends - starts, len(kid)
    index = np.arange(n)
    vmin = np.minimum.reduceat(c["min"], starts)
    vmax = np.maximum.reduceat(c["max"], starts)
    at_min = np.minimum.reduceat(np.where(c["min"] == np.repeat(vmin, lens), index, n - 1), starts)
    at_max = np.minimum.reduceat(np.where(c["max"] == np.repeat(vmax, lens), index, n - 1), starts)
    return {
        "key_id": kid[starts],
        "count": np.add.reduceat(c["count"], starts),
        "finite_count": np.add.reduceat(c["finite_count"], starts),
        "last": c["last"][ends - 1],
        "last_step": c["last_step"][ends - 1],
        "min": vmin,
        "min_step": c["min_step"][at_min],
        "max": vmax,
        "max_step": c["max_step"][at_max],
        "sum": np.add.reduceat(c["sum"], starts),
    }


def summary_columns(run_pk: int, summary: Summary, names: dict[int, str]) -> list[list[Any]]:
    """The arrays metrics/store.py commit_group takes (one run's part of them): run_id, key_id, key,
    count, finite_count, last, last_step, min, min_step, max, max_step, sum."""
    kids = summary["key_id"].astype(np.int64).tolist()
    columns = [[run_pk] * len(kids), kids, [names[k] for k in kids]]
    for f in SUMMARY_FIELDS[1:]:
        dtype = np.float64 if f in ("last", "min", "max", "sum") else np.int64
        columns.append(summary[f].astype(dtype).tolist())
    return columns


def build_rows(run_pk: int, g: Planned) -> list[tuple[Any, ...]]:
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
