"""SQL of the media read path (SQL only)."""

from __future__ import annotations

import asyncpg

from ...common.db import Conn

_COLUMNS = "key, step, idx, media_type, sha256, size, metadata::text AS metadata, create_time"


async def list_keys(conn: Conn, run_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT key, count(*) AS count, min(step) AS first_step, max(step) AS last_step,
                  (array_agg(media_type ORDER BY step DESC, idx DESC))[1] AS media_type
           FROM media_entries WHERE run_id = $1 GROUP BY key ORDER BY key""",
        run_id,
    )


async def list_entries(
    conn: Conn,
    run_id: int,
    key: str,
    lo: int,
    hi: int,
    after: tuple[int, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Entries of `key` with lo <= step <= hi, latest step first then by idx, after the (step, idx)
    position of the previous page."""
    if after is None:
        return await conn.fetch(
            f"""SELECT {_COLUMNS} FROM media_entries
                WHERE run_id = $1 AND key = $2 AND step BETWEEN $3 AND $4
                ORDER BY step DESC, idx LIMIT $5""",
            run_id,
            key,
            lo,
            hi,
            limit,
        )
    return await conn.fetch(
        f"""SELECT {_COLUMNS} FROM media_entries
            WHERE run_id = $1 AND key = $2 AND step BETWEEN $3 AND $4
              AND (step < $5 OR (step = $5 AND idx > $6))
            ORDER BY step DESC, idx LIMIT $7""",
        run_id,
        key,
        lo,
        hi,
        after[0],
        after[1],
        limit,
    )


async def find_entry(conn: Conn, run_id: int, key: str, step: int | None, idx: int) -> asyncpg.Record | None:
    """The entry at (key, step, idx), or the latest step's entry at idx when step is None."""
    if step is None:
        return await conn.fetchrow(
            f"""SELECT {_COLUMNS} FROM media_entries WHERE run_id = $1 AND key = $2 AND idx = $3
                ORDER BY step DESC LIMIT 1""",
            run_id,
            key,
            idx,
        )
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM media_entries WHERE run_id = $1 AND key = $2 AND step = $3 AND idx = $4",
        run_id,
        key,
        step,
        idx,
    )


async def storage_key(conn: Conn, run_id: int, sha256: str) -> asyncpg.Record | None:
    """The blob of one of the run's media values (None when the run has no value with that digest)."""
    return await conn.fetchrow(
        """SELECT b.storage_key, b.size FROM blobs b
           WHERE b.sha256 = $2 AND EXISTS (SELECT 1 FROM media_entries m WHERE m.run_id = $1 AND m.sha256 = $2)""",
        run_id,
        sha256,
    )
