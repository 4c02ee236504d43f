"""ScanHistory: every stored point of several keys, merged in step order, in fixed-size pages, with
memory bounded by the page size and a few chunks per key (never the whole series).

Each key is read in (first_step, id) order, CHUNK_BATCH rows at a time. Rows of one key may overlap
in step range (out-of-order logging), so a key's point is only *final* once it lies before the key's
frontier: the first_step of the last row read (nothing unread can come before it). Points before the
smallest frontier over all keys are merged across keys by step (ties in write order, then key order)
and sent; the gRPC stream awaits each write, so a slow reader slows the scan instead of filling memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from ...common.db import Conn
from . import store as sh
from .sampling import EMPTY_I8, Points, decode

CHUNK_BATCH = 16
_INF = 2**63 - 1


@dataclass
class _KeyReader:
    key_id: int
    lo: int | None
    hi: int | None
    after: tuple[int, int] = (-(2**63), -(2**63))
    frontier: int = -(2**63)
    done: bool = False
    pending: Points = field(default_factory=Points.empty)
    pending_ids: np.ndarray = field(default_factory=lambda: EMPTY_I8)

    async def fill(self, conn: Conn, run: int) -> None:
        rows = await sh.scan_chunks(conn, run, self.key_id, self.after, self.lo, self.hi, CHUNK_BATCH)
        if rows:
            self.after = (rows[-1]["first_step"], rows[-1]["id"])
            parts = [decode(r["steps"], r["vals"], r["times"]) for r in rows]
            ids = [np.full(len(p), r["id"], dtype=np.int64) for p, r in zip(parts, rows, strict=True)]
            self.pending = Points.concat([self.pending, *parts])
            self.pending_ids = np.concatenate([self.pending_ids, *ids])
        self.done = len(rows) < CHUNK_BATCH
        self.frontier = _INF if self.done else self.after[0]

    def take_before(self, bound: int) -> Points:
        """Remove and return pending points with step < bound (in range), ordered by (step, chunk id)."""
        order = np.lexsort((self.pending_ids, self.pending.steps))
        points, ids = self.pending.take(order), self.pending_ids[order]
        cut = int(np.searchsorted(points.steps, bound, side="left")) if bound != _INF else len(points)
        out = points.take(slice(0, cut))
        self.pending, self.pending_ids = points.take(slice(cut, None)), ids[cut:]
        return out.take(out.in_range(self.lo, self.hi))


async def scan_pages(
    conn: Conn, run: int, key_ids: list[int], size: int, lo: int | None, hi: int | None
) -> AsyncIterator[list[tuple[int, Points]]]:
    """Yields pages: [(key index, its points in this page)], each page `size` points but the last."""
    readers = [_KeyReader(k, lo, hi) for k in key_ids]
    out_steps: list[np.ndarray] = []  # merged, step-ordered, not yet sent
    out_points: list[Points] = []
    out_keys: list[np.ndarray] = []
    buffered = 0
    while readers:
        bound = min(r.frontier for r in readers)
        if bound != _INF and all(r.frontier > -(2**63) for r in readers):
            buffered += _collect(readers, bound, out_steps, out_points, out_keys)
        while buffered >= size:
            yield _page(out_steps, out_points, out_keys, size)
            buffered -= size
        if all(r.done for r in readers):
            buffered += _collect(readers, _INF, out_steps, out_points, out_keys)
            while buffered > 0:
                yield _page(out_steps, out_points, out_keys, min(size, buffered))
                buffered -= min(size, buffered)
            return
        lagging = min((r for r in readers if not r.done), key=lambda r: r.frontier)
        await lagging.fill(conn, run)


def _collect(readers: list[_KeyReader], bound: int, steps: list, points: list, keys: list) -> int:
    parts = [(i, r.take_before(bound)) for i, r in enumerate(readers)]
    parts = [(i, p) for i, p in parts if len(p)]
    if not parts:
        return 0
    merged = Points.concat([p for _, p in parts])
    key_of = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in parts])
    order = np.argsort(merged.steps, kind="stable")
    steps.append(merged.steps[order])
    points.append(merged.take(order))
    keys.append(key_of[order])
    return len(order)


def _page(steps: list, points: list, keys: list, size: int) -> list[tuple[int, Points]]:
    """Pop the first `size` buffered points and split them by key."""
    all_points = Points.concat(points)
    all_keys = np.concatenate(keys)
    head, head_keys = all_points.take(slice(0, size)), all_keys[:size]
    steps.clear()
    points.clear()
    keys.clear()
    if len(all_keys) > size:
        steps.append(all_points.steps[size:])
        points.append(all_points.take(slice(size, None)))
        keys.append(all_keys[size:])
    return [(int(k), head.take(head_keys == k)) for k in np.unique(head_keys)]
