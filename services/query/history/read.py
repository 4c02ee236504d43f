"""Reading one key's points for sampled history: raw from metric_chunks, or (dense ranges of keys
logged in step order) from the rollups plus the raw chunks they do not cover. Both give the same
answer (sampling.py); the rollup only makes it cheaper."""

from __future__ import annotations

from typing import Any

import asyncpg
import numpy as np

from ...common.db import Conn
from . import sampling
from . import store as sh
from .sampling import Points


async def read_raw(
    conn: Conn, run: int, key_id: int | None, lo: int | None, hi: int | None
) -> tuple[Points, int]:
    """Every point in [lo, hi], one per step (last write wins), and the stored count in range."""
    if key_id is None:
        return Points.empty(), 0
    return await _raw(conn, run, key_id, await sh.headers(conn, run, key_id, lo, hi), lo, hi)


async def _raw(
    conn: Conn, run: int, key_id: int, hdr: sh.Headers, lo: int | None, hi: int | None
) -> tuple[Points, int]:
    if len(hdr.ids) == 0:
        return Points.empty(), 0
    return raw_points(await sh.chunk_data(conn, run, key_id, hdr.ids.tolist()), hdr, lo, hi)


def raw_points(rows: list[Any], hdr: sh.Headers, lo: int | None, hi: int | None) -> tuple[Points, int]:
    """_raw's answer from the key's chunk rows (every chunk of hdr, in (first_step, id) order)."""
    if sampling.in_step_order(hdr.first_steps, hdr.last_steps):
        points, lengths = sampling.decode_rows(rows)
        mask = points.in_range(lo, hi)
        deduped, _ = sampling.dedupe_in_order(points, lengths)
        return deduped.take(deduped.in_range(lo, hi)), int(mask.sum())
    points, _ = sampling.decode_rows(sorted(rows, key=lambda r: r["id"]))  # write order, for last-write-wins
    mask = points.in_range(lo, hi)
    return sampling.dedupe_any(points.take(mask)), int(mask.sum())


async def read_sampled(
    conn: Conn, run: int, key_id: int | None, samples: int, lo: int | None, hi: int | None,
    *, by_time: bool = False,
) -> tuple[Points, int]:  # fmt: skip
    """Sampled points of one key in [lo, hi] and the stored count in range (see sampling.py)."""
    if key_id is None:
        return Points.empty(), 0
    hdr = await sh.headers(conn, run, key_id, lo, hi)
    if len(hdr.ids) == 0:
        return Points.empty(), 0
    ordered = sampling.in_step_order(hdr.first_steps, hdr.last_steps)
    if ordered and sampling.is_dense(int(hdr.counts.sum()), samples):
        points, total = await _dense_candidates(conn, run, key_id, hdr, lo, hi)
    else:
        points, total = await _raw(conn, run, key_id, hdr, lo, hi)  # the headers read above
    x = points.times if by_time else points.steps
    return points.take(sampling.bucket_extremes(x, points.values, samples)), total


async def _usable_rollups(
    conn: Conn, run: int, key_id: int, hdr: sh.Headers, lo: int | None, hi: int | None
) -> tuple[list[asyncpg.Record], set[int]]:
    """Rollup rows meeting the range, unless one covers a chunk that no longer exists (compaction):
    then none are used (the job rebuilds them) and the read is raw."""
    rows = await sh.rollups(conn, run, key_id, lo, hi)
    covered = {c for r in rows for c in r["chunk_ids"]}
    outside = covered.difference(hdr.ids.tolist())
    if outside and await sh.count_existing(conn, run, key_id, sorted(outside)) != len(outside):
        return [], set()
    return rows, covered


async def _dense_candidates(
    conn: Conn, run: int, key_id: int, hdr: sh.Headers, lo: int | None, hi: int | None
) -> tuple[Points, int]:
    rolls, covered = await _usable_rollups(conn, run, key_id, hdr, lo, hi)
    rows = await sh.chunk_data(conn, run, key_id, dense_raw_ids(hdr, covered))
    return dense_points(rows, rolls, hdr, lo, hi)


def dense_raw_ids(hdr: sh.Headers, covered: set[int]) -> list[int]:
    """The chunks a dense read takes raw: those no rollup covers, and the first and last."""
    boundary = {int(hdr.ids[0]), int(hdr.ids[-1])}
    return [i for i in hdr.ids.tolist() if i not in covered or i in boundary]


def dense_points(
    rows: list[Any], rolls: list[Any], hdr: sh.Headers, lo: int | None, hi: int | None
) -> tuple[Points, int]:
    """The candidates of a dense read from its raw chunk rows (dense_raw_ids) and rollup rows."""
    boundary = {int(hdr.ids[0]), int(hdr.ids[-1])}
    raw, lengths = sampling.decode_rows(rows)
    raw, lengths = sampling.dedupe_in_order(raw, lengths)
    parts = [raw.take(sampling.cell_extremes(raw.values, lengths))]
    parts += [sampling.decode(r["steps"], r["vals"], r["times"]) for r in rolls]
    total = int(hdr.counts.sum())
    for edge in (rows[0], rows[-1]) if rows[0]["id"] != rows[-1]["id"] else (rows[0],):
        if edge["id"] not in boundary:
            continue
        pts = sampling.decode(edge["steps"], edge["vals"], edge["times"])
        inside = pts.in_range(lo, hi)
        total -= len(pts) - int(inside.sum())
        deduped, _ = sampling.dedupe_in_order(pts, np.array([len(pts)]))
        deduped = deduped.take(deduped.in_range(lo, hi))
        if len(deduped):
            parts.append(deduped.take([0, -1]))  # the exact first / last point in range
    merged = Points.concat(parts)
    merged = merged.take(merged.in_range(lo, hi))
    _, first = np.unique(merged.steps, return_index=True)  # same point from two sources: keep one
    return merged.take(first), total
