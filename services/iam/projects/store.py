"""SQL of projects as the iam service manages them (other services use services/common/projects.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import asyncpg

from ...common.auth.store import PUBLIC_READ
from ...common.db import Conn

_PROJECT = """p.id, p.entity_id, e.name AS entity, p.name, p.description, p.visibility, p.default_ttl,
              p.protected_aliases, p.create_time"""
_FROM = "projects p JOIN entities e ON e.id = p.entity_id"
UPDATABLE = ("description", "visibility", "default_ttl", "protected_aliases")


async def insert_project(
    conn: Conn,
    entity_id: int,
    name: str,
    description: str,
    visibility: int,
    default_ttl: timedelta | None,
    protected_aliases: list[str],
) -> asyncpg.Record | None:
    """None when the entity already has a project of that name."""
    project_id = await conn.fetchval(
        """INSERT INTO projects (entity_id, name, description, visibility, default_ttl, protected_aliases)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (entity_id, name) DO NOTHING RETURNING id""",
        entity_id,
        name,
        description,
        visibility,
        default_ttl,
        protected_aliases,
    )
    return await get_project_by_id(conn, project_id) if project_id is not None else None


async def get_project_by_id(conn: Conn, project_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_PROJECT} FROM {_FROM} WHERE p.id = $1", project_id)


async def get_project(conn: Conn, entity: str, name: str, *, lock: bool = False) -> asyncpg.Record | None:
    suffix = " FOR UPDATE OF p" if lock else ""
    return await conn.fetchrow(
        f"SELECT {_PROJECT} FROM {_FROM} WHERE e.name = $1 AND p.name = $2{suffix}", entity, name
    )


async def list_projects(
    conn: Conn,
    entity_id: int,
    after: str,
    limit: int,
    *,
    public_only: bool,
    limited_to: list[int] | None,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_PROJECT} FROM {_FROM}
            WHERE p.entity_id = $1 AND p.name > $2
              AND (p.visibility = $6 OR (NOT $4 AND ($5::bigint[] IS NULL OR p.id = ANY($5::bigint[]))))
            ORDER BY p.name LIMIT $3""",
        entity_id,
        after,
        limit,
        public_only,
        limited_to,
        PUBLIC_READ,
    )


async def update_project(conn: Conn, project_id: int, changes: dict[str, Any]) -> asyncpg.Record:
    assignments = ", ".join(f"{column} = ${i + 2}" for i, column in enumerate(changes))
    assert set(changes) <= set(UPDATABLE)
    await conn.execute(f"UPDATE projects SET {assignments} WHERE id = $1", project_id, *changes.values())
    return cast(asyncpg.Record, await get_project_by_id(conn, project_id))  # just updated
