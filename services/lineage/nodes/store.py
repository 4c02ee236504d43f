"""SQL of resolving what callers name: a run by name, a version by number or alias.

Version states are formatted into the SQL text from the named constants below (partial indexes
and plans see literals), never restated as numbers.
"""

from __future__ import annotations

import asyncpg

from ...common.db import Conn
from ...common.runs import run_by_name
from ..model import VersionState

COMMITTED, DELETED = int(VersionState.COMMITTED), int(VersionState.DELETED)

_VERSION_FROM = """FROM artifact_versions v
JOIN artifacts a ON a.id = v.artifact_id
JOIN projects p ON p.id = a.project_id
JOIN entities e ON e.id = p.entity_id"""
_VERSION_COLUMNS = "v.id, a.project_id, v.artifact_id, v.version, v.state, v.producer_run_id"


async def find_run(
    conn: Conn, entity: str, project: str, run_id: str, timeout: float
) -> asyncpg.Record | None:
    return await run_by_name(conn, "r.id, r.project_id", entity, project, run_id, timeout=timeout)


async def find_version(
    conn: Conn, entity: str, project: str, artifact: str, version: int, timeout: float
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {_VERSION_COLUMNS} {_VERSION_FROM}
            WHERE e.name = $1 AND p.name = $2 AND a.name = $3 AND v.version = $4
              AND v.state IN ({COMMITTED}, {DELETED})""",
        entity,
        project,
        artifact,
        version,
        timeout=timeout,
    )


async def find_alias(
    conn: Conn, entity: str, project: str, artifact: str, alias: str, timeout: float
) -> asyncpg.Record | None:
    """The version holding an alias. "latest" falls back to the highest committed version when the
    registry keeps no row for it."""
    row = await conn.fetchrow(
        f"""SELECT {_VERSION_COLUMNS} {_VERSION_FROM} JOIN aliases al ON al.version_id = v.id
            WHERE e.name = $1 AND p.name = $2 AND a.name = $3 AND al.alias = $4 AND v.state = {COMMITTED}""",
        entity,
        project,
        artifact,
        alias,
        timeout=timeout,
    )
    if row is not None or alias != "latest":
        return row
    return await conn.fetchrow(
        f"""SELECT {_VERSION_COLUMNS} {_VERSION_FROM}
            WHERE e.name = $1 AND p.name = $2 AND a.name = $3 AND v.state = {COMMITTED}
            ORDER BY v.version DESC LIMIT 1""",
        entity,
        project,
        artifact,
        timeout=timeout,
    )
