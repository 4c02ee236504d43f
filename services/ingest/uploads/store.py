"""SQL of uploads (SQL only; the rules live in uploads/domain.py and uploads/stream.py): upload
sessions, content-addressed blobs and what each project holds.

Every write that records progress is conditional on the stream's `writer_epoch`, so a superseded
stream (an older connection of a resumed upload) can never record parts after a newer one started.

Session states are bound as parameters from uploads/states.py, except in the expiry and cleanup scans:
they format OPEN into their text, because only a literal lets the planner use the partial indexes
`upload_sessions_open_expiry ... WHERE state = 1` and `upload_sessions_cleanup ... WHERE state <> 1`
(a bound state could get a generic plan that cannot).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import cast

import asyncpg

from ...common.db import Conn
from .states import COMMITTED, EXPIRED, OPEN

_COLUMNS = """id, project_id, owner_name, expected_size, expected_sha256, committed_offset, state, storage_key,
    multipart_id, parts::text AS parts, hash_state, writer_epoch, next_part, blob_sha256, create_time,
    expire_time"""


async def insert_session(
    conn: Conn,
    *,
    session_id: str,
    project_id: int,
    owner: str,
    expected_size: int,
    expected_sha256: str,
    storage_key: str,
    multipart_id: str,
    hash_state: bytes | None,
    expiry: float,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO upload_sessions (id, project_id, owner_name, expected_size, expected_sha256,
                storage_key, multipart_id, hash_state, expire_time)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))
            RETURNING {_COLUMNS}""",
        session_id,
        project_id,
        owner,
        expected_size,
        expected_sha256,
        storage_key,
        multipart_id,
        hash_state,
        expiry,
    )
    return cast(asyncpg.Record, row)  # RETURNING: a row inserted, or one known to exist


async def lock_owner(conn: Conn, owner: str) -> None:
    """Serialize session creation per owner until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('upload_sessions:' || $1, 0))", owner)


async def count_open(conn: Conn, owner: str) -> int:
    return int(
        await conn.fetchval(
            f"SELECT count(*) FROM upload_sessions WHERE owner_name = $1 AND state = {OPEN}", owner
        )
    )


async def get_session(
    conn: Conn,
    session_id: str,
    *,
    in_project: tuple[str, str] | None = None,
    lock: bool = False,
) -> asyncpg.Record | None:
    """The session; with in_project=(entity, project), only if it belongs to that project."""
    suffix = " FOR UPDATE" if lock else ""
    if in_project is None:
        return await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM upload_sessions WHERE id = $1{suffix}", session_id
        )
    return await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM upload_sessions WHERE id = $1 AND project_id = (
                SELECT p.id FROM projects p JOIN entities e ON e.id = p.entity_id
                WHERE e.name = $2 AND p.name = $3){suffix}""",
        session_id,
        *in_project,
    )


async def begin_stream(conn: Conn, session_id: str, block: int, expiry: float) -> asyncpg.Record | None:
    """Take over the session for a new stream: bump the epoch and reserve `block` part numbers."""
    return await conn.fetchrow(
        f"""UPDATE upload_sessions
            SET writer_epoch = writer_epoch + 1, next_part = next_part + $2, update_time = now(),
                expire_time = now() + make_interval(secs => $3)
            WHERE id = $1 AND state = $4
            RETURNING {_COLUMNS}, next_part - $2 AS first_part""",
        session_id,
        block,
        expiry,
        OPEN,
    )


async def reserve_parts(conn: Conn, session_id: str, epoch: int, block: int) -> int | None:
    """Reserve `block` more part numbers for the stream holding `epoch`; None when superseded."""
    result: int | None = await conn.fetchval(
        """UPDATE upload_sessions SET next_part = next_part + $3
           WHERE id = $1 AND writer_epoch = $2 AND state = $4
           RETURNING next_part - $3""",
        session_id,
        epoch,
        block,
        OPEN,
    )
    return result


async def record_parts(
    conn: Conn,
    session_id: str,
    *,
    epoch: int,
    old_offset: int,
    new_offset: int,
    parts: list[dict[str, object]],
    hash_state: bytes | None,
    expiry: float,
) -> bool:
    """Append durable parts and advance committed_offset; False when the stream was superseded."""
    result = await conn.execute(
        """UPDATE upload_sessions
           SET committed_offset = $4, parts = parts || $5::jsonb, hash_state = $6,
               update_time = now(), expire_time = now() + make_interval(secs => $7)
           WHERE id = $1 AND writer_epoch = $2 AND committed_offset = $3 AND state = $8""",
        session_id,
        epoch,
        old_offset,
        new_offset,
        json.dumps(parts),
        hash_state,
        expiry,
        OPEN,
    )
    return result.endswith(" 1")


async def fence(conn: Conn, session_id: str) -> asyncpg.Record | None:
    """Lock the session row and bump its epoch so no running stream can record parts any more."""
    return await conn.fetchrow(
        f"""UPDATE upload_sessions SET writer_epoch = writer_epoch + 1, update_time = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        session_id,
    )


async def close_session(conn: Conn, session_id: str, state: int) -> None:
    await conn.execute(
        "UPDATE upload_sessions SET state = $2, update_time = now() WHERE id = $1", session_id, state
    )


async def mark_committed(conn: Conn, session_id: str, sha256: str, *, keep_multipart: bool) -> asyncpg.Record:
    """keep_multipart: the parts still need deleting (the digest was already stored elsewhere)."""
    row = await conn.fetchrow(
        f"""UPDATE upload_sessions
            SET state = $4, blob_sha256 = $2, update_time = now(),
                multipart_id = CASE WHEN $3 THEN multipart_id ELSE '' END
            WHERE id = $1 RETURNING {_COLUMNS}""",
        session_id,
        sha256,
        keep_multipart,
        COMMITTED,
    )
    return cast(asyncpg.Record, row)  # RETURNING: a row inserted, or one known to exist


async def clear_multipart(conn: Conn, session_id: str) -> None:
    await conn.execute("UPDATE upload_sessions SET multipart_id = '' WHERE id = $1", session_id)


async def expire_open_sessions(conn: Conn, limit: int) -> int:
    result = await conn.execute(
        f"""UPDATE upload_sessions SET state = $2, writer_epoch = writer_epoch + 1, update_time = now()
            WHERE id IN (SELECT id FROM upload_sessions WHERE state = {OPEN} AND expire_time < now()
                         ORDER BY expire_time LIMIT $1 FOR UPDATE SKIP LOCKED)""",
        limit,
        EXPIRED,
    )
    return int(result.split()[-1])


async def closed_with_parts(conn: Conn, limit: int) -> list[asyncpg.Record]:
    """Closed sessions whose blob-store parts were not deleted yet."""
    return await conn.fetch(
        f"""SELECT id, state, storage_key, multipart_id FROM upload_sessions
            WHERE state <> {OPEN} AND multipart_id <> '' LIMIT $1""",
        limit,
    )


async def delete_old_closed(conn: Conn, older_than: float) -> int:
    result = await conn.execute(
        f"""DELETE FROM upload_sessions WHERE state <> {OPEN} AND multipart_id = ''
            AND update_time < now() - make_interval(secs => $1)""",
        older_than,
    )
    return int(result.split()[-1])


# --- blobs and what each project holds ---


async def lookup(conn: Conn, project_id: int, shas: Sequence[str]) -> list[asyncpg.Record]:
    """Known blobs among `shas`, with whether this project may use them (`mine`)."""
    return await conn.fetch(
        """SELECT b.sha256, b.size, b.storage_key, pb.project_id IS NOT NULL AS mine
           FROM blobs b LEFT JOIN project_blobs pb ON pb.sha256 = b.sha256 AND pb.project_id = $1
           WHERE b.sha256 = ANY($2::text[])""",
        project_id,
        list(shas),
    )


async def held_by(conn: Conn, project_id: int, shas: Sequence[str]) -> dict[str, int]:
    """sha256 -> size of the blobs among `shas` this project holds (blobs only other projects hold
    are not looked at, so they cost and answer exactly what an unknown digest does)."""
    rows = await conn.fetch(
        """SELECT b.sha256, b.size FROM project_blobs pb JOIN blobs b ON b.sha256 = pb.sha256
           WHERE pb.project_id = $1 AND pb.sha256 = ANY($2::text[])""",
        project_id,
        list(shas),
    )
    return {r["sha256"]: r["size"] for r in rows}


async def touch(conn: Conn, shas: Sequence[str]) -> dict[str, str]:
    """Spare these blobs from GC for its grace period (clients were told they need not upload them,
    or a commit deduplicates against them); returns sha256 -> storage key of those that exist."""
    if not shas:
        return {}
    rows = await conn.fetch(
        "UPDATE blobs SET touch_time = now() WHERE sha256 = ANY($1::text[]) RETURNING sha256, storage_key",
        sorted(set(shas)),
    )
    return {r["sha256"]: r["storage_key"] for r in rows}


async def exists(conn: Conn, sha256: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM blobs WHERE sha256 = $1", sha256))


async def insert_blob(conn: Conn, sha256: str, size: int, storage_key: str) -> str:
    """Make a blob visible; returns the storage key that now holds it (an older one when it existed)."""
    return (await insert_blobs(conn, [(sha256, size, storage_key)]))[sha256]


async def insert_blobs(conn: Conn, rows: Sequence[tuple[str, int, str]]) -> dict[str, str]:
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


async def grant(conn: Conn, project_id: int, shas: Sequence[str]) -> None:
    """Record that the project uploaded these blobs (it may now reference them)."""
    if shas:
        await conn.execute(
            """INSERT INTO project_blobs (project_id, sha256)
               SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING""",
            project_id,
            sorted(set(shas)),
        )


async def lock_for_reference(conn: Conn, project_id: int, shas: Sequence[str]) -> list[asyncpg.Record]:
    """Lock blob rows FOR SHARE (GC cannot delete them until we commit) and say which the project holds."""
    return await conn.fetch(
        """SELECT b.sha256, b.size, EXISTS (SELECT 1 FROM project_blobs pb
                                           WHERE pb.project_id = $1 AND pb.sha256 = b.sha256) AS mine
           FROM blobs b WHERE b.sha256 = ANY($2::text[]) ORDER BY b.sha256 FOR SHARE OF b""",
        project_id,
        sorted(set(shas)),
    )
