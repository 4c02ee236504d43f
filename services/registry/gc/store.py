"""SQL of TTL expiry, garbage collection and storage accounting.

A blob is referenced (kept alive) by: a manifest entry of a draft or committed version, a run file, or an
open upload session expecting or holding its digest. GC deletes a blob row only inside a transaction
that (1) locks the row FOR UPDATE SKIP LOCKED (a committer holding it FOR SHARE makes GC skip it) with
the grace condition re-evaluated on the locked row, (2) re-checks the references in a NEW statement
(READ COMMITTED: it sees everything committed before the lock was granted), (3) deletes. The bytes are
deleted only after that transaction commits, by their storage_key (unique per upload, so a concurrent
re-upload of the same digest wrote different bytes that stay).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import cast

import asyncpg

from ...common.db import Conn
from ..model import COMMITTED, DRAFT, UPLOAD_OPEN

# Formatted with the blob table's alias `b` and the numbers of two parameters the query binds:
# `live` to LIVE_STATES and `open` to UPLOAD_OPEN.
REFERENCED = """(
    EXISTS (SELECT 1 FROM manifest_entries me JOIN artifact_versions v ON v.id = me.version_id
            WHERE me.sha256 = {b}.sha256 AND v.state = ANY({live}::smallint[]))
 OR EXISTS (SELECT 1 FROM run_files rf WHERE rf.sha256 = {b}.sha256)
 OR EXISTS (SELECT 1 FROM media_entries mx WHERE mx.sha256 = {b}.sha256)
 OR EXISTS (SELECT 1 FROM upload_sessions us WHERE us.state = {open}
            AND (us.expected_sha256 = {b}.sha256 OR us.blob_sha256 = {b}.sha256)))"""
LIVE_STATES = [DRAFT, COMMITTED]  # versions whose manifests keep their blobs alive


def _grace(t: str) -> str:
    """Neither created nor touched within the grace period ($2)."""
    return f"{t}.touch_time < clock_timestamp() - $2::interval AND {t}.create_time < clock_timestamp() - $2::interval"


# The committed state is written into the text, not bound: the partial index artifact_versions_expiry
# (WHERE state = <committed>) is usable only when the planner sees the constant, including in the
# generic plans asyncpg's prepared statements end up with.
_COMMITTED_SQL = str(int(COMMITTED))


async def expired_versions(conn: Conn, limit: int | None) -> list[int]:
    """Committed versions past their expire_time, except holders of a protected alias."""
    rows = await conn.fetch(
        f"""SELECT v.id FROM artifact_versions v
           JOIN artifacts a ON a.id = v.artifact_id JOIN projects p ON p.id = a.project_id
           WHERE v.state = {_COMMITTED_SQL} AND v.expire_time <= now()
             AND NOT EXISTS (SELECT 1 FROM aliases al
                             WHERE al.version_id = v.id AND al.alias = ANY(p.protected_aliases))
           ORDER BY v.expire_time, v.id LIMIT $1""",
        limit,
    )
    return [r["id"] for r in rows]


async def still_expired(conn: Conn, version_id: int) -> bool:
    """Re-check under the artifact lock (a TTL edit or a protected alias may have arrived)."""
    return bool(
        await conn.fetchval(
            f"""SELECT 1 FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id
               JOIN projects p ON p.id = a.project_id
               WHERE v.id = $1 AND v.state = {_COMMITTED_SQL} AND v.expire_time <= now()
                 AND NOT EXISTS (SELECT 1 FROM aliases al
                                 WHERE al.version_id = v.id AND al.alias = ANY(p.protected_aliases))""",
            version_id,
        )
    )


async def idle_drafts(conn: Conn, idle_seconds: float, limit: int | None) -> list[int]:
    rows = await conn.fetch(
        """SELECT id FROM artifact_versions WHERE state = $3 AND update_time < now() - $1::interval
           ORDER BY id LIMIT $2""",
        _interval(idle_seconds),
        limit,
        DRAFT,
    )
    return [r["id"] for r in rows]


async def candidates(conn: Conn, grace_seconds: float, after: str, limit: int) -> list[tuple[str, int]]:
    """Unreferenced blobs past the grace period, in digest order after `after` (no locks taken)."""
    rows = await conn.fetch(
        f"""SELECT b.sha256, b.size FROM blobs b
            WHERE b.sha256 > $1 AND {_grace("b")}
              AND NOT {REFERENCED.format(b="b", live="$4", open="$5")}
            ORDER BY b.sha256 LIMIT $3""",
        after,
        _interval(grace_seconds),
        limit,
        LIVE_STATES,
        UPLOAD_OPEN,
    )
    return [(r["sha256"], r["size"]) for r in rows]


async def delete_unreferenced(
    conn: Conn, digests: Sequence[str], grace_seconds: float
) -> list[tuple[str, int, str]]:
    """In the caller's transaction: lock, re-check, delete. Returns (sha256, size, storage_key) deleted."""
    locked = await conn.fetch(
        f"""SELECT sha256 FROM blobs b WHERE sha256 = ANY($1::text[]) AND {_grace("b")}
            ORDER BY sha256 FOR UPDATE SKIP LOCKED""",
        list(digests),
        _interval(grace_seconds),
    )
    if not locked:
        return []
    rows = await conn.fetch(
        f"""DELETE FROM blobs b WHERE b.sha256 IN (
              SELECT x.sha256 FROM unnest($1::text[]) AS x(sha256)
              WHERE NOT {REFERENCED.format(b="x", live="$2", open="$3")})
            RETURNING b.sha256, b.size, b.storage_key""",
        [r["sha256"] for r in locked],
        LIVE_STATES,
        UPLOAD_OPEN,
    )
    return [(r["sha256"], r["size"], r["storage_key"]) for r in rows]


async def enqueue_deletions(conn: Conn, deleted: Sequence[tuple[str, int, str]]) -> None:
    """In the row deletion's transaction: remember the bytes to delete (blob_deletions)."""
    if not deleted:
        return
    await conn.execute(
        """INSERT INTO blob_deletions (sha256, size, storage_key)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING""",
        [d[0] for d in deleted],
        [d[1] for d in deleted],
        [d[2] for d in deleted],
    )


async def pending_deletions(conn: Conn, limit: int) -> list[tuple[str, int, str]]:
    """Deletions not yet confirmed by the blob store, oldest first."""
    rows = await conn.fetch(
        "SELECT sha256, size, storage_key FROM blob_deletions ORDER BY enqueue_time, storage_key LIMIT $1",
        limit,
    )
    return [(r["sha256"], r["size"], r["storage_key"]) for r in rows]


async def deletions_done(conn: Conn, keys: Sequence[str]) -> None:
    await conn.execute("DELETE FROM blob_deletions WHERE storage_key = ANY($1::text[])", list(keys))


async def deletions_failed(conn: Conn, failed: dict[str, str]) -> None:
    """Count one more failed attempt, with its error, for each storage key of `failed` (one statement)."""
    await conn.execute(
        """UPDATE blob_deletions d SET attempts = attempts + 1, last_error = f.error
           FROM unnest($1::text[], $2::text[]) AS f(storage_key, error) WHERE d.storage_key = f.storage_key""",
        list(failed),
        list(failed.values()),
    )


async def storage_usage(conn: Conn, project_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(
        """WITH live AS (SELECT v.id FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact_id
                         WHERE a.project_id = $1 AND v.state = $2),
                used AS (SELECT DISTINCT me.sha256 FROM manifest_entries me
                         WHERE me.version_id IN (SELECT id FROM live) AND me.sha256 IS NOT NULL)
           SELECT (SELECT count(*) FROM live) AS version_count,
                  (SELECT coalesce(sum(me.size), 0)::bigint FROM manifest_entries me
                    WHERE me.version_id IN (SELECT id FROM live) AND me.sha256 IS NOT NULL) AS logical_bytes,
                  (SELECT count(*) FROM used) AS blob_count,
                  (SELECT coalesce(sum(b.size), 0)::bigint FROM blobs b WHERE b.sha256 IN (SELECT sha256 FROM used))
                    AS stored_bytes""",
        project_id,
        COMMITTED,
    )
    return cast(asyncpg.Record, row)  # RETURNING: a row inserted, or one known to exist


def _interval(seconds: float) -> timedelta:
    return timedelta(seconds=max(0.0, seconds))
