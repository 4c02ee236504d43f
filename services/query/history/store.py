"""SQL of history reads (metric_chunks, metric_rollups) and of the rollup job.

Reads follow the metric_chunks contract: rows of one (run_id, key_id), ordered by (first_step, id),
may overlap in step range; bytea columns are little-endian int64/float64 arrays. Only the columns a
read needs are selected, so TOASTed arrays that are not needed are never fetched.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass

import asyncpg
import numpy as np

from ...common.db import Conn
from ...common.runs import run_by_name

# Rows whose step range meets [lo, hi]; PostgreSQL bigint bounds stand in for "no bound".
LO, HI = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Headers:
    """Chunk headers of one key, ordered by (first_step, id)."""

    ids: np.ndarray
    first_steps: np.ndarray
    last_steps: np.ndarray
    counts: np.ndarray


async def run_pk(conn: Conn, entity: str, project: str, run_id: str, timeout: float) -> int | None:
    row = await run_by_name(conn, "r.id", entity, project, run_id, timeout=timeout)
    return None if row is None else int(row["id"])


async def metric_keys(conn: Conn, run: int, timeout: float) -> list[asyncpg.Record]:
    """A run's keys with point counts and step range (the range comes from chunk headers)."""
    return await conn.fetch(
        """SELECT k.key, k.count, c.min_step, c.max_step FROM metric_keys k
           LEFT JOIN (SELECT key_id, min(first_step) AS min_step, max(last_step) AS max_step
                      FROM metric_chunks WHERE run_id = $1 GROUP BY key_id) c ON c.key_id = k.key_id
           WHERE k.run_id = $1 ORDER BY k.key""",
        run,
        timeout=timeout,
    )


async def key_ids(conn: Conn, run: int, keys: Sequence[str]) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT key, key_id FROM metric_keys WHERE run_id = $1 AND key = ANY($2::text[])", run, list(keys)
    )
    return {r["key"]: r["key_id"] for r in rows}


async def headers(conn: Conn, run: int, key_id: int, lo: int | None, hi: int | None) -> Headers:
    rows = await conn.fetch(
        """SELECT id, first_step, last_step, n FROM metric_chunks
           WHERE run_id = $1 AND key_id = $2 AND first_step <= $4 AND last_step >= $3
           ORDER BY first_step, id""",
        run,
        key_id,
        LO if lo is None else lo,
        HI if hi is None else hi,
    )
    cols = list(zip(*[tuple(r) for r in rows], strict=True)) if rows else [(), (), (), ()]
    return Headers(*(np.array(c, dtype=np.int64) for c in cols))


async def chunk_data(conn: Conn, run: int, key_id: int, ids: Sequence[int]) -> list[asyncpg.Record]:
    """Rows (id, first_step, n, steps, vals, times) of the given chunks, ordered by (first_step, id)."""
    return await conn.fetch(
        """SELECT id, first_step, n, steps, vals, times FROM metric_chunks
           WHERE run_id = $1 AND key_id = $2 AND id = ANY($3::int8[]) ORDER BY first_step, id""",
        run,
        key_id,
        list(ids),
    )


async def rollups(conn: Conn, run: int, key_id: int, lo: int | None, hi: int | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT chunk_ids, steps, vals, times FROM metric_rollups
           WHERE run_id = $1 AND key_id = $2 AND first_step <= $4 AND last_step >= $3 ORDER BY first_step""",
        run,
        key_id,
        LO if lo is None else lo,
        HI if hi is None else hi,
    )


async def count_existing(conn: Conn, run: int, key_id: int, ids: Sequence[int]) -> int:
    result: int = await conn.fetchval(
        "SELECT count(*) FROM metric_chunks WHERE run_id = $1 AND key_id = $2 AND id = ANY($3::int8[])",
        run,
        key_id,
        list(ids),
    )
    return result


async def scan_chunks(
    conn: Conn,
    run: int,
    key_id: int,
    after: tuple[int, int],
    lo: int | None,
    hi: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The next `limit` chunks after (first_step, id) = `after`, in (first_step, id) order."""
    return await conn.fetch(
        """SELECT id, first_step, steps, vals, times FROM metric_chunks
           WHERE run_id = $1 AND key_id = $2 AND (first_step, id) > ($3, $4)
             AND first_step <= $6 AND last_step >= $5
           ORDER BY first_step, id LIMIT $7""",
        run,
        key_id,
        after[0],
        after[1],
        LO if lo is None else lo,
        HI if hi is None else hi,
        limit,
    )


async def step_range(conn: Conn, runs: Sequence[int], key: str) -> tuple[int | None, int | None]:
    row = await conn.fetchrow(
        """SELECT min(c.first_step), max(c.last_step) FROM metric_keys k
           JOIN metric_chunks c ON c.run_id = k.run_id AND c.key_id = k.key_id
           WHERE k.run_id = ANY($1::int8[]) AND k.key = $2""",
        list(runs),
        key,
    )
    assert row is not None  # an aggregate yields one row
    return row[0], row[1]


def aggregate_cursor(conn: Conn, runs: Sequence[int], key: str) -> AsyncIterable[asyncpg.Record]:
    """Chunks of one key for many runs, run by run (a server-side cursor: constant memory)."""
    return conn.cursor(
        """SELECT c.run_id, c.steps, c.vals FROM metric_keys k
           JOIN metric_chunks c ON c.run_id = k.run_id AND c.key_id = k.key_id
           WHERE k.run_id = ANY($1::int8[]) AND k.key = $2 ORDER BY c.run_id, c.first_step, c.id""",
        list(runs),
        key,
        prefetch=64,
    )


# --- the rollup job ------------------------------------------------------------------------------


async def last_chunk_id(conn: Conn) -> int:
    """The newest chunk id handed out (committed or not): the upper end of a pass's id window."""
    result: int = await conn.fetchval("SELECT last_value FROM metric_chunks_id_seq")
    return result


async def lock_key_state(conn: Conn, run: int, key_id: int) -> None:
    """Serialize rollups of one key (two replicas' passes, or a pass and a test)."""
    await conn.execute(
        "SELECT 1 FROM metric_rollup_state WHERE run_id = $1 AND key_id = $2 FOR UPDATE", run, key_id
    )


async def add_pending(conn: Conn, after_id: int, upto_id: int) -> list[asyncpg.Record]:
    """Add the points of chunks with after_id < id <= upto_id (found through the BRIN index) to their
    keys' pending_points; returns (run_id, key_id, pending_points) of those keys."""
    return await conn.fetch(
        """INSERT INTO metric_rollup_state (run_id, key_id, pending_points)
           SELECT c.run_id, c.key_id, sum(c.n) FROM metric_chunks c JOIN runs r ON r.id = c.run_id
           WHERE c.id > $1 AND c.id <= $2 GROUP BY c.run_id, c.key_id
           ON CONFLICT (run_id, key_id) DO UPDATE
               SET pending_points = metric_rollup_state.pending_points + EXCLUDED.pending_points,
                   update_time = now()
           RETURNING run_id, key_id, pending_points""",
        after_id,
        upto_id,
    )


async def watermark(conn: Conn) -> tuple[int, int]:
    row = await conn.fetchrow("SELECT chunk_id, previous_chunk_id FROM metric_rollup_progress")
    return (row[0], row[1]) if row else (0, 0)


async def set_watermark(conn: Conn, chunk_id: int, previous: int) -> None:
    await conn.execute(
        """INSERT INTO metric_rollup_progress (singleton, chunk_id, previous_chunk_id) VALUES (true, $1, $2)
           ON CONFLICT (singleton) DO UPDATE SET chunk_id = $1, previous_chunk_id = $2, update_time = now()""",
        chunk_id,
        previous,
    )


async def covered_ids(conn: Conn, run: int, key_id: int) -> list[int]:
    result: list[int] = await conn.fetchval(
        "SELECT COALESCE(array_agg(c), '{}') FROM metric_rollups, unnest(chunk_ids) AS c WHERE run_id = $1 AND key_id = $2",
        run,
        key_id,
    )
    return result


async def drop_rollups(conn: Conn, run: int, key_id: int) -> None:
    await conn.execute("DELETE FROM metric_rollups WHERE run_id = $1 AND key_id = $2", run, key_id)
    await _rolled(conn, run, key_id)


async def _rolled(conn: Conn, run: int, key_id: int) -> None:
    """Nothing of the key is pending any more (metric_rollup_state's rolled_points and in_order
    columns are not maintained: readers derive step order from the chunk headers)."""
    await conn.execute(
        "UPDATE metric_rollup_state SET pending_points = 0, update_time = now() WHERE run_id = $1 AND key_id = $2",
        run,
        key_id,
    )


async def insert_rollup(
    conn: Conn, run: int, key_id: int, chunk_ids: Sequence[int], steps: np.ndarray,
    values: np.ndarray, times: np.ndarray,
) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO metric_rollups (run_id, key_id, first_step, last_step, chunk_ids, n, steps, vals, times)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        run,
        key_id,
        int(steps[0]),
        int(steps[-1]),
        list(chunk_ids),
        len(steps),
        steps.astype("<i8").tobytes(),
        values.astype("<f8").tobytes(),
        times.astype("<f8").tobytes(),
    )
    await _rolled(conn, run, key_id)
