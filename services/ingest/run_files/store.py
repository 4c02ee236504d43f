"""SQL of run files (SQL only)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ...common.db import Conn


async def upsert_files(
    conn: Conn, run_id: int, files: Sequence[tuple[str, str, int]]
) -> list[asyncpg.Record]:
    """Attach (path, sha256, size) files; a path attached again points at the new blob."""
    return await conn.fetch(
        """INSERT INTO run_files (run_id, path, sha256, size)
           SELECT $1, f.path, f.sha256, f.size FROM unnest($2::text[], $3::text[], $4::bigint[]) AS f(path, sha256, size)
           ON CONFLICT (run_id, path) DO UPDATE
             SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, create_time = now()
           RETURNING path, sha256, size, create_time""",
        run_id,
        [f[0] for f in files],
        [f[1] for f in files],
        [f[2] for f in files],
    )


async def list_files(conn: Conn, run_id: int, after: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT path, sha256, size, create_time FROM run_files
           WHERE run_id = $1 AND path > $2 ORDER BY path LIMIT $3""",
        run_id,
        after,
        limit,
    )


async def get_file(conn: Conn, run_id: int, path: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT f.sha256, f.size, b.storage_key FROM run_files f JOIN blobs b ON b.sha256 = f.sha256
           WHERE f.run_id = $1 AND f.path = $2""",
        run_id,
        path,
    )
