"""BatchGetHistory: the sampled history of many runs in a handful of statements.

The answer is exactly what GetHistory gives for each (run, key) (same candidates, same sampling:
read.py and sampling.py), but read set-wise: one statement resolves every run name, one finds the
key ids, one reads every series' chunk headers, one reads the rollups of the dense series, one reads
every chunk the reads need. A series whose rollups cover a chunk that no longer exists (compaction in
between) is read on its own, as GetHistory would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...common.db import Conn
from ...common.errors import NotFound
from ...common.names import parse_run
from . import batch_sampling, read, sampling
from . import batch_store as bs
from . import store as sh
from .sampling import Points

Pair = tuple[int, int]  # (run pk, key_id)


async def resolve_runs(conn: Conn, runs: Sequence[str], timeout: float) -> list[int]:
    """Run pks in the order of `runs`; NOT_FOUND names the first run that does not exist."""
    names = []
    for run in runs:
        parsed = parse_run(run, "runs")
        names.append((parsed.project.entity, parsed.project.project, parsed.run_id))
    found = await bs.run_pks(conn, names, timeout)
    for i, run in enumerate(runs):
        if i not in found:
            raise NotFound("run", run)
    return [found[i] for i in range(len(runs))]


def _headers(rows: Sequence[Any]) -> dict[Pair, sh.Headers]:
    grouped: dict[Pair, list[Any]] = defaultdict(list)
    for r in rows:
        grouped[(r["run_id"], r["key_id"])].append(r)
    return {
        pair: sh.Headers(*(np.array([r[c] for r in rs], dtype=np.int64) for c in ("id", "first_step", "last_step", "n")))
        for pair, rs in grouped.items()
    }  # fmt: skip


def _grouped(rows: Sequence[Any]) -> dict[Pair, list[Any]]:
    out: dict[Pair, list[Any]] = defaultdict(list)
    for r in rows:
        out[(r["run_id"], r["key_id"])].append(r)
    return out


async def sampled(
    conn: Conn, pks: Sequence[int], keys: Sequence[str], samples: int, timeout: float
) -> dict[tuple[int, str], tuple[Points, int]]:
    """(run pk, key) -> (sampled points, stored count) for every pair that has points."""
    ids = {(r["run_id"], r["key"]): r["key_id"] for r in await bs.key_ids(conn, pks, keys, timeout)}
    hdrs = _headers(await bs.headers(conn, [(pk, key_id) for (pk, _), key_id in ids.items()], timeout))
    dense = [p for p, h in hdrs.items() if _is_dense(h, samples)]
    rolls = _grouped(await bs.rollups(conn, dense, timeout)) if dense else {}
    wanted: dict[Pair, list[int]] = {}
    for pair, hdr in hdrs.items():
        if pair in rolls and not _rollups_usable(rolls[pair], hdr):
            rolls.pop(pair)
            wanted[pair] = []  # read on its own below
        elif pair in dense:
            covered = {c for r in rolls.get(pair, []) for c in r["chunk_ids"]}
            wanted[pair] = read.dense_raw_ids(hdr, covered)
        else:
            wanted[pair] = hdr.ids.tolist()
    chunk_ids = [i for v in wanted.values() for i in v]
    pairs = [p for p, v in wanted.items() if v]
    rows = _grouped(await bs.chunk_data(conn, pairs, chunk_ids, timeout)) if pairs else {}
    by_pair = _sample_in_order(hdrs, rows, [p for p in pairs if p not in dense], samples)
    out: dict[tuple[int, str], tuple[Points, int]] = {}
    dense_set = set(dense)
    for (pk, key), key_id in ids.items():
        pair = (pk, key_id)
        found = hdrs.get(pair)
        if found is None:
            continue
        hdr = found
        if pair in by_pair:
            out[(pk, key)] = by_pair[pair]
            continue
        if not wanted[pair]:  # rollups cover a chunk that is gone: the single-series read
            out[(pk, key)] = await read.read_sampled(conn, pk, key_id, samples, None, None)
            continue
        if pair in dense_set:
            points, total = read.dense_points(rows[pair], rolls.get(pair, []), hdr, None, None)
        else:
            points, total = read.raw_points(rows[pair], hdr, None, None)
        out[(pk, key)] = (points.take(sampling.bucket_extremes(points.steps, points.values, samples)), total)
    return out


def _sample_in_order(
    hdrs: dict[Pair, sh.Headers], rows: dict[Pair, list[Any]], raw: list[Pair], samples: int
) -> dict[Pair, tuple[Points, int]]:
    """The raw-read series whose chunks are in step order, sampled all at once (batch_sampling.py)."""
    pairs = [p for p in raw if sampling.in_step_order(hdrs[p].first_steps, hdrs[p].last_steps)]
    if not pairs:
        return {}
    points, counts = batch_sampling.raw_in_order([rows[p] for p in pairs])
    picks = batch_sampling.bucket_extremes_many(points, counts, samples)
    offsets = np.cumsum(counts) - counts
    return {p: (points.take(offsets[j] + picks[j]), int(hdrs[p].counts.sum())) for j, p in enumerate(pairs)}


def _is_dense(hdr: sh.Headers, samples: int) -> bool:
    ordered = sampling.in_step_order(hdr.first_steps, hdr.last_steps)
    return ordered and sampling.is_dense(int(hdr.counts.sum()), samples)


def _rollups_usable(rolls: Sequence[Any], hdr: sh.Headers) -> bool:
    """False when a rollup covers a chunk outside the headers (possibly compacted away): that series
    takes read.read_sampled's path, which checks whether those chunks still exist."""
    covered = {c for r in rolls for c in r["chunk_ids"]}
    return not covered.difference(hdr.ids.tolist())
