"""Columnar points -> metric_chunks rows and per-key summaries, vectorized with numpy.

The metric_chunks contract (CONVENTIONS): one row holds many points of ONE (run_id, key_id):
`steps` = n int64 little-endian, `vals` = n float64 LE (NaN/inf as is), `times` = n float64 LE;
steps are non-decreasing within a row; first_step/last_step = min/max of the row; `id` is insertion
order. Rows hold at most ROW_POINTS points so they stay inline in the heap page (no TOAST, no
compression attempt: see the ingest migration). The batches a stream commits together are merged
(`merge`) into one row per key (more past ROW_POINTS points); the streams committed together are
planned together (`plan_group`) so their rows and per-(run, key) summaries are built in one numpy pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .limits import ROW_POINTS


@dataclass
class Planned:
    """Accepted points ordered by key id, then step (stable), key ids resolved; with `run_ids`, the
    points of several runs, ordered by run first (one segment per (run, key))."""

    sequence: int
    key_ids: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    times: np.ndarray
    run_ids: np.ndarray | None = None

    _starts: np.ndarray | None = field(default=None, init=False, repr=False)

    def starts(self) -> np.ndarray:
        """Index of each segment's first point (computed once: the arrays never change after planning)."""
        if self._starts is None:
            change = self.key_ids[1:] != self.key_ids[:-1]
            if self.run_ids is not None:
                change |= self.run_ids[1:] != self.run_ids[:-1]
            self._starts = np.flatnonzero(np.r_[True, change]) if len(self.key_ids) else np.empty(0, np.int64)
        return self._starts

    def ends(self) -> np.ndarray:
        ends: np.ndarray = np.r_[self.starts()[1:], len(self.key_ids)]
        return ends


def merge(parts: list[Planned], allow_out_of_order: bool) -> Planned:
    """The batches of one stream as one Planned: concatenated in sequence order, then ordered by key
    (stable: a key's points keep their order) or, out of order, by key then step (ties: later batch
    last). The caller checks the step order of an in-order run on the result."""
    if len(parts) == 1 and parts[0].run_ids is None and _ordered(parts[0], allow_out_of_order):
        return parts[0]
    kid = np.concatenate([p.key_ids for p in parts])
    steps, values, times = (
        np.concatenate([getattr(p, f) for p in parts]) for f in ("steps", "values", "times")
    )
    if allow_out_of_order:
        order = np.lexsort((steps, kid))
    elif len(kid) > 1 and not bool(np.all(kid[1:] >= kid[:-1])):
        order = np.argsort(kid, kind="stable")
    else:
        return Planned(parts[-1].sequence, kid, steps, values, times)
    return Planned(parts[-1].sequence, kid[order], steps[order], values[order], times[order])


def _ordered(p: Planned, allow_out_of_order: bool) -> bool:
    k = p.key_ids
    if len(k) < 2:
        return True
    if not allow_out_of_order:
        return bool(np.all(k[1:] >= k[:-1]))
    return bool(np.all((k[1:] > k[:-1]) | ((k[1:] == k[:-1]) & (p.steps[1:] >= p.steps[:-1]))))


@dataclass
class Part:
    """One accepted batch of a stream in a group: its run, its points (key ids resolved), the segment
    number of the stream's key 0 in the group (a stream's keys get the numbers base .. base + keys - 1,
    streams in group order), whether the run takes steps out of order, and each point's floor (its
    key's highest committed step; None: not checked)."""

    run_pk: int
    points: Planned
    base: int
    out_of_order: bool
    floor: np.ndarray | None


def plan_group(parts: list[Part]) -> Planned | None:
    """The points of several streams (distinct runs; each stream's batches in sequence order) in one
    Planned ordered by stream, key and, for out-of-order runs, step (stable: ties keep batch order).
    None when a run that is not out of order would store a step lower than one before it (the
    caller then checks that group's batches one at a time)."""
    if not parts:
        empty = np.empty(0, np.int64)
        return Planned(0, empty, empty, np.empty(0), np.empty(0), empty)
    lengths = [len(p.points.key_ids) for p in parts]
    kid, steps, values, times = (
        np.concatenate([getattr(p.points, f) for p in parts]) for f in ("key_ids", "steps", "values", "times")
    )
    segment = np.repeat(np.array([p.base for p in parts], dtype=np.int64), lengths) + kid
    ooo = np.repeat(np.array([p.out_of_order for p in parts], dtype=bool), lengths)
    if bool(ooo.any()):
        order = np.lexsort((np.where(ooo, steps, 0), segment))
    elif len(segment) and int(segment.max()) < 1 << 16:
        order = np.argsort(segment.astype(np.uint16), kind="stable")  # a radix sort
    else:
        order = np.argsort(segment, kind="stable")
    run = np.repeat(np.array([p.run_pk for p in parts], dtype=np.int64), lengths)[order]
    g = Planned(0, kid[order], steps[order], values[order], times[order], run)
    if len(order) == 0:
        return g
    starts = g.starts()
    ooo = ooo[order]
    inner = np.ones(len(order), dtype=bool)
    inner[starts] = False  # point i continues the (run, key) segment of point i - 1
    if bool(np.any(inner[1:] & ~ooo[1:] & (g.steps[1:] < g.steps[:-1]))):
        return None
    floor = np.concatenate(
        [p.floor if p.floor is not None else np.full(n, -1) for p, n in zip(parts, lengths, strict=True)]
    )[order[starts]]
    return None if bool(np.any(~ooo[starts] & (g.steps[starts] < floor))) else g


@dataclass
class RunPart:
    """One run's share of a planned group: its keys, their highest steps, points, next step."""

    key_ids: np.ndarray
    last_steps: np.ndarray
    points: int
    next_step: int


def per_run(g: Planned) -> dict[int, RunPart]:
    """Split a planned group (run ids set) by run."""
    if len(g.key_ids) == 0:
        return {}
    assert g.run_ids is not None
    starts, ends = g.starts(), g.ends()
    seg_run, seg_kid, seg_last = g.run_ids[starts], g.key_ids[starts], g.steps[ends - 1]
    first = np.flatnonzero(np.r_[True, seg_run[1:] != seg_run[:-1]])
    last = np.r_[first[1:], len(seg_run)]
    points = np.add.reduceat(ends - starts, first).tolist()
    next_steps = (np.maximum.reduceat(seg_last, first) + 1).tolist()
    out = {}
    for i, (a, b) in enumerate(zip(first.tolist(), last.tolist(), strict=True)):
        out[int(seg_run[a])] = RunPart(seg_kid[a:b], seg_last[a:b], points[i], next_steps[i])
    return out


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
        return {f: np.empty(0) for f in ("run_id", *SUMMARY_FIELDS)}
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
        "run_id": p.run_ids[starts] if p.run_ids is not None else np.zeros(len(starts), np.int64),
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


def summary_columns(summary: Summary, names: dict[int, dict[int, str]]) -> list[list[Any]]:
    """The arrays metrics/store.py commit_group takes: run_id, key_id, key (names[run][key_id]), count,
    finite_count, last, last_step, min, min_step, max, max_step, sum."""
    runs = summary["run_id"].astype(np.int64).tolist()
    kids = summary["key_id"].astype(np.int64).tolist()
    columns = [runs, kids, [names[r][k] for r, k in zip(runs, kids, strict=True)]]
    for f in SUMMARY_FIELDS[1:]:
        dtype = np.float64 if f in ("last", "min", "max", "sum") else np.int64
        columns.append(summary[f].astype(dtype).tolist())
    return columns


def build_rows(g: Planned) -> list[tuple[Any, ...]]:
    """One row per (run, key) per ROW_POINTS points: (run_id, key_id, first_step, last_step, n, steps,
    vals, times). `g` holds run ids."""
    if len(g.key_ids) == 0:
        return []
    assert g.run_ids is not None
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
    run = g.run_ids[row_start].tolist()
    return [
        (run[i], kid[i], first[i], last[i], b - a, sb[a * 8 : b * 8], vb[a * 8 : b * 8], tb[a * 8 : b * 8])
        for i, (a, b) in enumerate(zip(row_start.tolist(), row_end.tolist(), strict=True))
    ]
