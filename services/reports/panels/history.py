"""The points a LinePlot folds, for all of a panel's runs and keys in ONE query.

A long series is read through the query service's rollups (services/query/history/rollup.py): for
every chunk a rollup covers, its cell extremes (the minimum and maximum of each run of 16 points, plus
the chunk's first and last point) stand in for its points, about 1/8 of them; chunks no rollup covers
yet (the newest, or every chunk of a short series) are read raw. A rollup that names a chunk which no
longer exists (ingest compacted the key) is ignored with every other rollup of its key, and the key is
read raw: the answer is never stale, only slower. Memory is O(points read), never a row per point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...common.db import Conn

# Rollup and chunk headers first (no bytea is read for a chunk a usable rollup covers), then the data.
# Only joins, semi-joins and anti-joins (NOT EXISTS, never NOT IN, which cannot be hashed once a
# prepared statement switches to its generic plan: it was quadratic in chunks, minutes at 1,000 runs).
_SQL = """
WITH k AS MATERIALIZED (
    SELECT run_id, key_id, key FROM metric_keys WHERE run_id = ANY($1::int8[]) AND key = ANY($2::text[])
), c AS MATERIALIZED (
    SELECT ch.id, ch.run_id, ch.key_id FROM metric_chunks ch JOIN k USING (run_id, key_id)
), r AS MATERIALIZED (
    SELECT ro.id, ro.run_id, ro.key_id, ro.chunk_ids FROM metric_rollups ro JOIN k USING (run_id, key_id)
), cov AS MATERIALIZED (
    SELECT r.id AS rollup, r.run_id, r.key_id, u.id FROM r, unnest(r.chunk_ids) AS u(id)
), stale AS (
    SELECT DISTINCT cov.run_id, cov.key_id FROM cov LEFT JOIN c USING (id) WHERE c.id IS NULL
), covered AS (
    SELECT cov.rollup, cov.id FROM cov
    WHERE NOT EXISTS (SELECT 1 FROM stale s WHERE s.run_id = cov.run_id AND s.key_id = cov.key_id)
)
SELECT k.key, ro.run_id, ro.steps, ro.vals{times_ro} FROM metric_rollups ro JOIN k USING (run_id, key_id)
WHERE ro.id IN (SELECT rollup FROM covered)
UNION ALL
SELECT k.key, ch.run_id, ch.steps, ch.vals{times_ch} FROM metric_chunks ch JOIN k USING (run_id, key_id)
WHERE ch.id IN (SELECT c.id FROM c WHERE NOT EXISTS (SELECT 1 FROM covered v WHERE v.id = c.id))
"""


@dataclass(frozen=True)
class KeyPoints:
    """One key's points over all runs, concatenated: `owner` is each point's index in the run list."""

    owner: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    times: np.ndarray | None


async def read_points(
    conn: Conn, runs: Sequence[int], keys: Sequence[str], *, times: bool, timeout: float
) -> dict[str, KeyPoints]:
    """Each key's points (rollup candidates where a rollup exists, raw otherwise) for all `runs`."""
    sql = _SQL.format(times_ro=", ro.times" if times else "", times_ch=", ch.times" if times else "")
    rows = await conn.fetch(sql, list(runs), list(dict.fromkeys(keys)), timeout=timeout)
    index = {run: i for i, run in enumerate(runs)}
    by_key: dict[str, list] = {}
    for row in rows:
        by_key.setdefault(row["key"], []).append(row)
    return {key: _decode(rs, index, times) for key, rs in by_key.items()}


def _decode(rows: list, index: dict[int, int], times: bool) -> KeyPoints:
    steps = np.frombuffer(b"".join(r["steps"] for r in rows), dtype="<i8")
    values = np.frombuffer(b"".join(r["vals"] for r in rows), dtype="<f8")
    lengths = np.fromiter((len(r["vals"]) // 8 for r in rows), dtype=np.int64, count=len(rows))
    owners = np.fromiter((index[r["run_id"]] for r in rows), dtype=np.int64, count=len(rows))
    stamps = np.frombuffer(b"".join(r["times"] for r in rows), dtype="<f8") if times else None
    return KeyPoints(np.repeat(owners, lengths), steps, values, stamps)
