"""The rollup job: precomputes, for long series, the cell extremes sampled history reads (sampling.py).

Every STRATA_ROLLUP_INTERVAL seconds (one replica at a time, through an advisory lock):
1. find chunks written since the last pass (id > watermark, via a BRIN index on metric_chunks.id;
   one pass of overlap so a transaction that committed late is still seen) and add their point
   counts to each key's pending_points;
2. for keys with at least ROLLUP_MIN_POINTS pending: read the key's chunk headers; if a chunk covered
   by a rollup is gone (ingest compacted), drop the key's rollups; if the chunks overlap in step range
   (out-of-order logging), drop them and mark the key raw-only; otherwise compute the cell extremes of
   every chunk not covered yet and store them as one rollup row listing those chunk ids.

metric_chunks is never changed or locked; readers combine rollups with the raw chunks they do not
cover, so the job being late only makes reads slower, never stale.
"""

from __future__ import annotations

import asyncpg

from ...common.db import Conn
from ...common.deps import Deps
from ...common.logging import get_logger
from . import sampling
from . import store as sh

log = get_logger(__name__)

ROLLUP_MIN_POINTS = 4096
ID_WINDOW = 500_000  # chunk ids examined per pass


async def rollup_pass(deps: Deps) -> dict[str, int]:
    """One pass over new chunks; returns counters (logged by the background runner)."""
    rolled = points = 0
    async with deps.pool.acquire() as conn:
        seen, previous = await sh.watermark(conn)
        top = min(await sh.last_chunk_id(conn), seen + ID_WINDOW)
        due = []
        for r in await sh.add_pending(conn, previous, top):
            if r["pending_points"] >= ROLLUP_MIN_POINTS:
                due.append((r["run_id"], r["key_id"]))
        await sh.set_watermark(conn, top, seen)
        for run, key_id in due:
            try:
                n = await roll_key(conn, run, key_id)
            except asyncpg.exceptions.ForeignKeyViolationError:
                continue  # the run was deleted meanwhile
            rolled += n > 0
            points += n
    return {"keys_rolled": rolled, "points_rolled": points} if rolled else {}


async def roll_key(conn: Conn, run: int, key_id: int) -> int:
    """Roll up the key's uncovered chunks; returns the source points covered by the new rollup."""
    async with conn.transaction():
        await sh.lock_key_state(conn, run, key_id)
        hdr = await sh.headers(conn, run, key_id, None, None)
        covered = set(await sh.covered_ids(conn, run, key_id))
        present = set(hdr.ids.tolist())
        if covered - present:
            await sh.drop_rollups(conn, run, key_id)
            covered = set()
        if not sampling.in_step_order(hdr.first_steps, hdr.last_steps):
            if covered:
                await sh.drop_rollups(conn, run, key_id)
            return 0
        new_ids = [i for i in hdr.ids.tolist() if i not in covered]
        if not new_ids:
            return 0
        rows = await sh.chunk_data(conn, run, key_id, new_ids)
        points, lengths = sampling.decode_rows(rows)
        deduped, lengths = sampling.dedupe_in_order(points, lengths)
        kept = deduped.take(sampling.cell_extremes(deduped.values, lengths))
        await sh.insert_rollup(conn, run, key_id, new_ids, kept.steps, kept.values, kept.times)
        return len(points)
