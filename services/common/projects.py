"""Projects and entities as every service sees them: resolve a project name to its row, creating it
on first use when the caller may (W&B creates a project the first time a run logs to it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from . import audit
from .db import Conn
from .errors import NotFound
from .names import ProjectName


@dataclass(frozen=True)
class Project:
    id: int
    entity_id: int
    name: ProjectName
    visibility: int
    default_ttl: timedelta | None
    protected_aliases: tuple[str, ...]


_SELECT = """SELECT p.id, p.entity_id, e.name AS entity, p.name, p.visibility, p.default_ttl, p.protected_aliases
             FROM projects p JOIN entities e ON e.id = p.entity_id"""


def _row(r: asyncpg.Record) -> Project:
    return Project(
        r["id"],
        r["entity_id"],
        ProjectName(r["entity"], r["name"]),
        r["visibility"],
        r["default_ttl"],
        tuple(r["protected_aliases"]),
    )


async def get_project(conn: Conn, name: ProjectName) -> Project:
    r = await conn.fetchrow(_SELECT + " WHERE e.name = $1 AND p.name = $2", name.entity, name.project)
    if r is None:
        raise NotFound("project", str(name))
    return _row(r)


async def get_project_by_id(conn: Conn, project_id: int) -> Project:
    r = await conn.fetchrow(_SELECT + " WHERE p.id = $1", project_id)
    if r is None:
        raise NotFound("project", f"id {project_id}")
    return _row(r)


async def ensure_project(conn: Conn, name: ProjectName, *, create_entity: bool) -> Project:
    """Get the project, creating it (and, when allowed, its entity as a user entity) if missing.

    Authorization to create was decided before this call (permissions: PROJECT_WRITE on a missing
    project needs write access to the entity); `create_entity` is true only in open local mode. A
    project created here gets a "project.create" audit event on `conn` (call it in the action's
    transaction, so the event exists exactly when the project does).
    """
    r = await conn.fetchrow(_SELECT + " WHERE e.name = $1 AND p.name = $2", name.entity, name.project)
    if r is not None:
        return _row(r)
    entity_id = await conn.fetchval("SELECT id FROM entities WHERE name = $1", name.entity)
    if entity_id is None:
        if not create_entity:
            raise NotFound("entity", f"entities/{name.entity}")
        entity_id = await ensure_user_entity(conn, name.entity)
    project_id = await conn.fetchval(
        """INSERT INTO projects (entity_id, name) VALUES ($1, $2)
           ON CONFLICT (entity_id, name) DO NOTHING RETURNING id""",
        entity_id,
        name.project,
    )
    if project_id is not None:  # created here: audited with the action that created it
        await audit.record(
            conn, "project.create", target=str(name), project_id=project_id, after={"on_first_use": True}
        )
    return await get_project(conn, name)


async def ensure_user_entity(conn: Conn, name: str) -> int:
    """The id of entity `name`, created as a user if missing (open-local mode's caller)."""
    result: int = await conn.fetchval(
        """INSERT INTO entities (name, kind) VALUES ($1, 'user')
           ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id""",
        name,
    )
    return result
