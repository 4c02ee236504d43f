"""SQL of upload sessions (SQL only; the rules live in domain_upload.py / upload_stream.py).

Every write that records progress is conditional on the stream's `writer_epoch`, so a superseded
stream (an older connection of a resumed upload) can never record parts after a newer one started.
"""

from __future__ import annotations

import json

import asyncpg

OPEN, COMMITTED, ABORTED, EXPIRED = 1, 2, 3, 4  # strata.ingest.v1.UploadState

_COLUMNS = """id, project_id, owner_name, expected_size, expected_sha256, committed_offset, state, storage_key,
    multipart_id, parts::text AS parts, hash_state, writer_epoch, next_part, blob_sha256, create_time,
    expire_time"""


async def insert_session(
    conn: asyncpg.Connection,
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
    return await conn.fetchrow(
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


async def get_session(
    conn: asyncpg.Connection,
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


async def begin_stream(
    conn: asyncpg.Connection, session_id: str, block: int, expiry: float
) -> asyncpg.Record | None:
    """Take over the session for a new stream: bump the epoch and reserve `block` part numbers."""
    return await conn.fetchrow(
        f"""UPDATE upload_sessions
            SET writer_epoch = writer_epoch + 1, next_part = next_part + $2, update_time = now(),
                expire_time = now() + make_interval(secs => $3)
            WHERE id = $1 AND state = {OPEN}
            RETURNING {_COLUMNS}, next_part - $2 AS first_part""",
        session_id,
        block,
        expiry,
    )


async def reserve_parts(conn: asyncpg.Connection, session_id: str, epoch: int, block: int) -> int | None:
    """Reserve `block` more part numbers for the stream holding `epoch`; None when superseded."""
    return await conn.fetchval(
        f"""UPDATE upload_sessions SET next_part = next_part + $3
            WHERE id = $1 AND writer_epoch = $2 AND state = {OPEN}
            RETURNING next_part - $3""",
        session_id,
        epoch,
        block,
    )


async def record_parts(
    conn: asyncpg.Connection,
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
        f"""UPDATE upload_sessions
            SET committed_offset = $4, parts = parts || $5::jsonb, hash_state = $6,
                update_time = now(), expire_time = now() + make_interval(secs => $7)
            WHERE id = $1 AND writer_epoch = $2 AND committed_offset = $3 AND state = {OPEN}""",
        session_id,
        epoch,
        old_offset,
        new_offset,
        json.dumps(parts),
        hash_state,
        expiry,
    )
    return result.endswith(" 1")


async def fence(conn: asyncpg.Connection, session_id: str) -> asyncpg.Record | None:
    """Lock the session row and bump its epoch so no running stream can record parts any more."""
    return await conn.fetchrow(
        f"""UPDATE upload_sessions SET writer_epoch = writer_epoch + 1, update_time = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        session_id,
    )


async def close_session(conn: asyncpg.Connection, session_id: str, state: int) -> None:
    await conn.execute(
        "UPDATE upload_sessions SET state = $2, update_time = now() WHERE id = $1", session_id, state
    )


async def mark_committed(
    conn: asyncpg.Connection, session_id: str, sha256: str, *, keep_multipart: bool
) -> asyncpg.Record:
    """keep_multipart: the parts still need deleting (the digest was already stored elsewhere)."""
    return await conn.fetchrow(
        f"""UPDATE upload_sessions
            SET state = {COMMITTED}, blob_sha256 = $2, update_time = now(),
                multipart_id = CASE WHEN $3 THEN multipart_id ELSE '' END
            WHERE id = $1 RETURNING {_COLUMNS}""",
        session_id,
        sha256,
        keep_multipart,
    )


async def clear_multipart(conn: asyncpg.Connection, session_id: str) -> None:
    await conn.execute("UPDATE upload_sessions SET multipart_id = '' WHERE id = $1", session_id)


async def expire_open_sessions(conn: asyncpg.Connection, limit: int) -> int:
    result = await conn.execute(
        f"""UPDATE upload_sessions SET state = {EXPIRED}, writer_epoch = writer_epoch + 1, update_time = now()
            WHERE id IN (SELECT id FROM upload_sessions WHERE state = {OPEN} AND expire_time < now()
                         ORDER BY expire_time LIMIT $1 FOR UPDATE SKIP LOCKED)""",
        limit,
    )
    return int(result.split()[-1])


async def closed_with_parts(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Closed sessions whose blob-store parts were not deleted yet."""
    return await conn.fetch(
        f"""SELECT id, state, storage_key, multipart_id FROM upload_sessions
            WHERE state <> {OPEN} AND multipart_id <> '' LIMIT $1""",
        limit,
    )


async def delete_old_closed(conn: asyncpg.Connection, older_than: float) -> int:
    result = await conn.execute(
        f"""DELETE FROM upload_sessions WHERE state <> {OPEN} AND multipart_id = ''
            AND update_time < now() - make_interval(secs => $1)""",
        older_than,
    )
    return int(result.split()[-1])
