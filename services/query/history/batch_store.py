"""SQL of BatchGetHistory: each statement covers every run of the batch (no per-run round trips)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ...common.db import Conn
from ...common.runs import RUN_FROM


async def run_pks(conn: Conn, names: Sequence[tuple[str, str, str]], timeout: float) -> dict[int, int]:
    """Position in `names` (entity, project, run_id) -> run pk, for the runs that exist."""
    rows = await conn.fetch(
        f"""SELECT u.i, r.id FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(e, p, rid, i)
            JOIN {RUN_FROM} ON e.name = u.e AND p.name = u.p AND r.run_id = u.rid""",
        [n[0] for n in names],
        [n[1] for n in names],
        [n[2] for n in names],
        timeout=timeout,
    )
    return {r["i"] - 1: r["id"] for r in rows}


async def key_ids(
    conn: Conn, runs: Sequence[int], keys: Sequence[str], timeout: float
) -> list[asyncpg.Record]:
    """(run_id, key, key_id) of the keys the runs have."""
    return await conn.fetch(
        "SELECT run_id, key, key_id FROM metric_keys WHERE run_id = ANY($1::int8[]) AND key = ANY($2::text[])",
        list(runs),
        list(keys),
        timeout=timeout,
    )


_PAIRS = "unnest($1::int8[], $2::int4[]) AS s(run_id, key_id)"


async def headers(conn: Conn, series: Sequence[tuple[int, int]], timeout: float) -> list[asyncpg.Record]:
    """Chunk headers of every (run pk, key_id), ordered by (run_id, key_id, first_step, id)."""
    return await conn.fetch(
        f"""SELECT c.run_id, c.key_id, c.id, c.first_step, c.last_step, c.n FROM {_PAIRS}
            JOIN metric_chunks c ON c.run_id = s.run_id AND c.key_id = s.key_id
            ORDER BY c.run_id, c.key_id, c.first_step, c.id""",
        [s[0] for s in series],
        [s[1] for s in series],
        timeout=timeout,
    )


async def chunk_data(
    conn: Conn, series: Sequence[tuple[int, int]], ids: Sequence[int], timeout: float
) -> list[asyncpg.Record]:
    """Rows (run_id, key_id, id, first_step, n, steps, vals, times) of the given chunks of those
    series, ordered by (run_id, key_id, first_step, id)."""
    return await conn.fetch(
        f"""SELECT c.run_id, c.key_id, c.id, c.first_step, c.n, c.steps, c.vals, c.times FROM {_PAIRS}
            JOIN metric_chunks c ON c.run_id = s.run_id AND c.key_id = s.key_id
            WHERE c.id = ANY($3::int8[]) ORDER BY c.run_id, c.key_id, c.first_step, c.id""",
        [s[0] for s in series],
        [s[1] for s in series],
        list(ids),
        timeout=timeout,
    )


async def rollups(conn: Conn, series: Sequence[tuple[int, int]], timeout: float) -> list[asyncpg.Record]:
    """Rollup rows (run_id, key_id, chunk_ids, steps, vals, times) of those series, in step order."""
    return await conn.fetch(
        f"""SELECT m.run_id, m.key_id, m.chunk_ids, m.steps, m.vals, m.times FROM {_PAIRS}
            JOIN metric_rollups m ON m.run_id = s.run_id AND m.key_id = s.key_id
            ORDER BY m.run_id, m.key_id, m.first_step""",
        [s[0] for s in series],
        [s[1] for s in series],
        timeout=timeout,
    )
