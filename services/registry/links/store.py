"""SQL of registry links (the artifact_links table; the link's version row is versions/store.py's)."""

from __future__ import annotations

from ...common.db import Conn
from ..model import COMMITTED


async def source_of(conn: Conn, version_id: int) -> int | None:
    """The version a link points at (None when `version_id` is no link)."""
    result: int | None = await conn.fetchval(
        "SELECT source_version_id FROM artifact_links WHERE version_id = $1", version_id
    )
    return result


async def existing_link(conn: Conn, artifact_id: int, source_id: int) -> int | None:
    """The live link of `artifact_id`'s collection to `source_id`, if there is one."""
    result: int | None = await conn.fetchval(
        """SELECT v.id FROM artifact_links l JOIN artifact_versions v ON v.id = l.version_id
           WHERE v.artifact_id = $1 AND l.source_version_id = $2 AND v.state = $3
           ORDER BY v.version DESC LIMIT 1""",
        artifact_id,
        source_id,
        COMMITTED,
    )
    return result


async def insert_link(conn: Conn, version_id: int, source_id: int) -> None:
    await conn.execute(
        "INSERT INTO artifact_links (version_id, source_version_id) VALUES ($1, $2)", version_id, source_id
    )


async def producer_run_id(conn: Conn, version_id: int) -> int | None:
    result: int | None = await conn.fetchval(
        "SELECT producer_run_id FROM artifact_versions WHERE id = $1", version_id
    )
    return result


async def grant_blobs(conn: Conn, project_id: int, source_id: int) -> None:
    """The registry project holds the source's stored blobs from now on (reads check project_blobs)."""
    await conn.execute(
        """INSERT INTO project_blobs (project_id, sha256)
           SELECT DISTINCT $1::bigint, sha256 FROM manifest_entries WHERE version_id = $2 AND sha256 IS NOT NULL
           ON CONFLICT DO NOTHING""",
        project_id,
        source_id,
    )
