"""SQL of blob reads through artifact versions (SQL only)."""

from __future__ import annotations

import asyncpg

from ...common.db import Conn
from ..model import DELETED


async def blobs_in_version(
    conn: Conn,
    *,
    entity: str,
    project: str,
    artifact: str,
    version: int | None,
    draft_id: str | None,
    sha256s: list[str],
) -> list[asyncpg.Record]:
    """(sha256, size, storage_key) of each digest the (non-deleted) version or draft lists and its
    project holds; digests that fail either condition are absent from the answer."""
    return await conn.fetch(
        """SELECT DISTINCT b.sha256, b.size, b.storage_key
            FROM entities e
            JOIN projects p ON p.entity_id = e.id
            JOIN artifacts a ON a.project_id = p.id
            JOIN artifact_versions v ON v.artifact_id = a.id
            JOIN manifest_entries m ON m.version_id = v.id
            JOIN project_blobs pb ON pb.project_id = p.id AND pb.sha256 = m.sha256
            JOIN blobs b ON b.sha256 = m.sha256
            WHERE e.name = $1 AND p.name = $2 AND a.name = $3
              AND (($4::int IS NOT NULL AND v.version = $4) OR ($4::int IS NULL AND v.draft_id = $5))
              AND v.state <> $7 AND m.sha256 = ANY($6::text[])""",
        entity,
        project,
        artifact,
        version,
        draft_id,
        sha256s,
        DELETED,
    )
