"""SQL of retroactive lineage edges: lock a version, find its producers, insert an edge once."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import asyncpg

from ...common.db import Conn
from ..model import EdgeKind


async def lock_version(conn: Conn, version_id: int, timeout: float) -> asyncpg.Record:
    """Serialize edge changes of one version (two links racing to become its producer)."""
    row = await conn.fetchrow(
        "SELECT id, state, producer_run_id FROM artifact_versions WHERE id = $1 FOR UPDATE",
        version_id,
        timeout=timeout,
    )
    return cast(asyncpg.Record, row)  # RETURNING: a row inserted, or one known to exist


async def producer_runs(conn: Conn, version_id: int, timeout: float) -> list[int]:
    rows = await conn.fetch(
        "SELECT run_id FROM lineage_edges WHERE version_id = $1 AND kind = $2",
        version_id,
        int(EdgeKind.PRODUCED),
        timeout=timeout,
    )
    return [r["run_id"] for r in rows]


async def set_producer_if_unset(conn: Conn, version_id: int, run_id: int, timeout: float) -> None:
    await conn.execute(
        "UPDATE artifact_versions SET producer_run_id = $2 WHERE id = $1 AND producer_run_id IS NULL",
        version_id,
        run_id,
        timeout=timeout,
    )


async def insert_edge(
    conn: Conn, run_id: int, version_id: int, kind: int, timeout: float
) -> tuple[datetime, bool]:
    """Insert the edge once; returns (create_time, existed)."""
    created = await conn.fetchval(
        """INSERT INTO lineage_edges (run_id, version_id, kind) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING create_time""",
        run_id,
        version_id,
        kind,
        timeout=timeout,
    )
    if created is not None:
        return created, False
    existing = await conn.fetchval(
        "SELECT create_time FROM lineage_edges WHERE run_id = $1 AND version_id = $2 AND kind = $3",
        run_id,
        version_id,
        kind,
        timeout=timeout,
    )
    return existing, True
