"""SQL of content-addressed blobs, per-project possession, and possession challenges (SQL only)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def lookup(conn: asyncpg.Connection, project_id: int, shas: Sequence[str]) -> list[asyncpg.Record]:
    """Known blobs among `shas`, with whether this project may use them (`mine`)."""
    return await conn.fetch(
        """SELECT b.sha256, b.size, b.storage_key, pb.project_id IS NOT NULL AS mine
           FROM blobs b LEFT JOIN project_blobs pb ON pb.sha256 = b.sha256 AND pb.project_id = $1
           WHERE b.sha256 = ANY($2::text[])""",
        project_id,
        list(shas),
    )


async def touch(conn: asyncpg.Connection, shas: Sequence[str]) -> dict[str, str]:
    """Spare these blobs from GC for its grace period (clients were told they need not upload them,
    or a commit deduplicates against them); returns sha256 -> storage key of those that exist."""
    if not shas:
        return {}
    rows = await conn.fetch(
        "UPDATE blobs SET touch_time = now() WHERE sha256 = ANY($1::text[]) RETURNING sha256, storage_key",
        sorted(set(shas)),
    )
    return {r["sha256"]: r["storage_key"] for r in rows}


async def exists(conn: asyncpg.Connection, sha256: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM blobs WHERE sha256 = $1", sha256))


async def insert_blob(conn: asyncpg.Connection, sha256: str, size: int, storage_key: str) -> str:
    """Make a blob visible; returns the storage key that now holds it (an older one when it existed)."""
    return (await insert_blobs(conn, [(sha256, size, storage_key)]))[sha256]


async def insert_blobs(conn: asyncpg.Connection, rows: Sequence[tuple[str, int, str]]) -> dict[str, str]:
    """Make blobs (sha256, size, storage_key) visible in one statement; returns sha256 -> the storage
    key that now holds each (an older one when it existed).

    ON CONFLICT DO UPDATE takes the row lock, so a concurrent garbage collection (which deletes rows
    FOR UPDATE after re-checking references) either ran before (then we insert) or waits for us and
    sees the fresh touch_time.
    """
    if not rows:
        return {}
    found = await conn.fetch(
        """INSERT INTO blobs (sha256, size, storage_key)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ORDER BY 1
           ON CONFLICT (sha256) DO UPDATE SET touch_time = now()
           RETURNING sha256, storage_key""",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
    )
    return {r["sha256"]: r["storage_key"] for r in found}


async def grant(conn: asyncpg.Connection, project_id: int, shas: Sequence[str]) -> None:
    """Record that the project uploaded or proved these blobs (it may now reference them)."""
    if shas:
        await conn.execute(
            """INSERT INTO project_blobs (project_id, sha256)
               SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING""",
            project_id,
            sorted(set(shas)),
        )


async def lock_for_reference(
    conn: asyncpg.Connection, project_id: int, shas: Sequence[str]
) -> list[asyncpg.Record]:
    """Lock blob rows FOR SHARE (GC cannot delete them until we commit) and say which the project holds."""
    return await conn.fetch(
        """SELECT b.sha256, b.size, EXISTS (SELECT 1 FROM project_blobs pb
                                           WHERE pb.project_id = $1 AND pb.sha256 = b.sha256) AS mine
           FROM blobs b WHERE b.sha256 = ANY($2::text[]) ORDER BY b.sha256 FOR SHARE OF b""",
        project_id,
        sorted(set(shas)),
    )


async def insert_challenges(
    conn: asyncpg.Connection, project_id: int, challenges: Sequence[tuple[str, bytes]], ttl: float
) -> None:
    await conn.executemany(
        """INSERT INTO blob_challenges (project_id, sha256, nonce, expire_time)
           VALUES ($1, $2, $3, now() + make_interval(secs => $4)) ON CONFLICT DO NOTHING""",
        [(project_id, sha, nonce, ttl) for sha, nonce in challenges],
    )


async def take_challenges(
    conn: asyncpg.Connection, project_id: int, answers: Sequence[tuple[str, bytes]]
) -> list[asyncpg.Record]:
    """Consume (delete) the unexpired challenges matching the answers; returns the ones found."""
    if not answers:
        return []
    return await conn.fetch(
        """DELETE FROM blob_challenges c
           USING unnest($2::text[], $3::bytea[]) AS a(sha256, nonce)
           WHERE c.project_id = $1 AND c.sha256 = a.sha256 AND c.nonce = a.nonce
             AND c.expire_time > now()
           RETURNING c.sha256, c.nonce""",
        project_id,
        [a[0] for a in answers],
        [a[1] for a in answers],
    )


async def purge_challenges(conn: asyncpg.Connection) -> int:
    result = await conn.execute("DELETE FROM blob_challenges WHERE expire_time < now()")
    return int(result.split()[-1])
