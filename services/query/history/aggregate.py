"""AggregateHistory's fold: the curves behind "loss by learning rate": one key across the runs matching a
filter, grouped by a key; per step bucket the mean of the group's runs, and the min/max band.

Buckets are `buckets` equal step ranges over the key's overall step range. Each run contributes its
mean over its finite points in a bucket; a group's band is the mean, min and max of those run means.
Points are streamed run by run through a server-side cursor and folded into per-bucket sums with
np.bincount, so memory is O(runs x buckets), not O(points).
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from ...common.db import Conn
from . import store as sh


@dataclass
class Band:
    value_json: str
    run_count: int
    steps: np.ndarray
    mean: np.ndarray
    min: np.ndarray
    max: np.ndarray


@dataclass
class _Acc:
    """Per-group accumulators over buckets."""

    size: int
    runs: int = 0
    total: np.ndarray = field(init=False)
    count: np.ndarray = field(init=False)
    lo: np.ndarray = field(init=False)
    hi: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.total, self.count = np.zeros(self.size), np.zeros(self.size, dtype=np.int64)
        self.lo, self.hi = np.full(self.size, np.inf), np.full(self.size, -np.inf)

    def add(self, run_means: np.ndarray, valid: np.ndarray) -> None:
        self.runs += 1
        self.total[valid] += run_means[valid]
        self.count += valid
        self.lo[valid] = np.minimum(self.lo[valid], run_means[valid])
        self.hi[valid] = np.maximum(self.hi[valid], run_means[valid])


async def curve_bands(conn: Conn, groups: dict[int, list[str]], key: str, buckets: int) -> list[Band]:
    """One band per group value (groups: run pk -> its group values as JSON text), in value order."""
    lo, hi = await sh.step_range(conn, list(groups), key)
    if lo is None or hi is None:  # both are, or neither
        return []
    width = (hi - lo + 1) / buckets
    accs: dict[str, _Acc] = {}
    async for run, means, valid in _run_means(conn, list(groups), key, lo, width, buckets):
        for value in groups[run]:
            accs.setdefault(value, _Acc(buckets)).add(means, valid)
    return [
        _band(value, acc, lo, width) for value, acc in sorted(accs.items(), key=lambda kv: _sort_key(kv[0]))
    ]


async def _run_means(
    conn: Conn, runs: list[int], key: str, lo: int, width: float, buckets: int
) -> AsyncIterator[tuple[int, np.ndarray, np.ndarray]]:
    """(run, per-bucket mean, bucket has data) for each run with points, streamed."""
    current, sums, counts = None, np.zeros(buckets), np.zeros(buckets)
    async for row in sh.aggregate_cursor(conn, runs, key):
        if row["run_id"] != current:
            if current is not None:
                yield current, *_means(sums, counts)
            current, sums, counts = row["run_id"], np.zeros(buckets), np.zeros(buckets)
        steps, values = np.frombuffer(row["steps"], dtype="<i8"), np.frombuffer(row["vals"], dtype="<f8")
        finite = np.isfinite(values)
        b = np.clip(((steps[finite] - lo) / width).astype(np.int64), 0, buckets - 1)
        sums += np.bincount(b, weights=values[finite], minlength=buckets)
        counts += np.bincount(b, minlength=buckets)
    if current is not None:
        yield current, *_means(sums, counts)


def _means(sums: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = counts > 0
    return np.divide(sums, counts, out=np.zeros_like(sums), where=valid), valid


def _band(value: str, acc: _Acc, lo: int, width: float) -> Band:
    valid = acc.count > 0
    idx = np.flatnonzero(valid)
    return Band(
        value_json=value,
        run_count=acc.runs,
        steps=(lo + np.floor(idx * width)).astype(np.int64),
        mean=acc.total[valid] / acc.count[valid],
        min=acc.lo[valid],
        max=acc.hi[valid],
    )


def _sort_key(value_json: str) -> tuple[int, object]:
    """Groups in value order: numbers, then strings, then anything else, null last."""
    v = json.loads(value_json)
    if v is None:
        return (3, "")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, float(v) if math.isfinite(v) else 0.0)
    if isinstance(v, str):
        return (1, v)
    return (2, value_json)
