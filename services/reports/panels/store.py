"""SQL of panel data: metric chunks of many runs' key, read in slices of runs (one round trip per
slice instead of a cursor's round trip per few rows). Reads the tables ingest writes and the query
service indexes; writes nothing."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ...common.db import Conn


async def chunks(conn: Conn, runs: Sequence[int], key: str) -> list[asyncpg.Record]:
    """(run_id, steps, vals) of every chunk of `key` of `runs`, in no particular order."""
    return await conn.fetch(
        """SELECT c.run_id, c.steps, c.vals FROM metric_keys k
           JOIN metric_chunks c ON c.run_id = k.run_id AND c.key_id = k.key_id
           WHERE k.run_id = ANY($1::int8[]) AND k.key = $2""",
        list(runs),
        key,
    )
