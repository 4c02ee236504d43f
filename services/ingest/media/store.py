"""SQL of the media index (SQL only)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ...common.db import Conn


async def insert_entries(conn: Conn, run_id: int, entries: Sequence[tuple]) -> int:
    """Insert (key, step, idx, media_type, sha256, size, metadata dict) rows; an entry already stored
    (same key, step and idx) is left as it is. Returns how many were new."""
    rows = await conn.fetch(
        """INSERT INTO media_entries (run_id, key, step, idx, media_type, sha256, size, metadata)
           SELECT $1, e.key, e.step, e.idx, e.media_type, e.sha256, e.size, e.metadata::jsonb
           FROM unnest($2::text[], $3::bigint[], $4::int[], $5::smallint[], $6::text[], $7::bigint[],
                       $8::text[]) AS e(key, step, idx, media_type, sha256, size, metadata)
           ON CONFLICT (run_id, key, step, idx) DO NOTHING
           RETURNING 1""",
        run_id,
        [e[0] for e in entries],
        [e[1] for e in entries],
        [e[2] for e in entries],
        [e[3] for e in entries],
        [e[4] for e in entries],
        [e[5] for e in entries],
        [json.dumps(e[6]) for e in entries],
    )
    return len(rows)


async def scalar_keys_among(conn: Conn, run_id: int, keys: Sequence[str]) -> list[str]:
    """Which of `keys` hold scalar series in the run."""
    rows = await conn.fetch(
        "SELECT key FROM metric_keys WHERE run_id = $1 AND key = ANY($2::text[]) ORDER BY key",
        run_id,
        list(keys),
    )
    return [r["key"] for r in rows]


async def media_keys_among(conn: Conn, run_id: int, keys: Sequence[str]) -> list[str]:
    """Which of `keys` hold media values in the run."""
    rows = await conn.fetch(
        """SELECT k.key FROM unnest($2::text[]) AS k(key)
           WHERE EXISTS (SELECT 1 FROM media_entries m WHERE m.run_id = $1 AND m.key = k.key)
           ORDER BY k.key""",
        run_id,
        list(keys),
    )
    return [r["key"] for r in rows]
