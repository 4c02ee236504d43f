"""SQL of accounts: users, teams, memberships, service accounts. API keys are written and read by
common/auth/store.py, the one place for key SQL."""

from __future__ import annotations

from typing import cast

import asyncpg

from ...common.db import Conn

_ENTITY = "id, name, kind, display_name, email, server_admin, create_time"
_SA = """sa.id, sa.team_id, t.name AS team, sa.name, sa.description, sa.role, sa.create_time,
         ARRAY(SELECT 'entities/' || e.name || '/projects/' || p.name FROM projects p JOIN entities e ON e.id = p.entity_id
               WHERE p.id = ANY(sa.project_ids) ORDER BY 1) AS projects"""


async def insert_entity(
    conn: Conn, name: str, kind: str, display_name: str, email: str, server_admin: bool
) -> asyncpg.Record | None:
    """None when the name is taken (users and teams share one namespace)."""
    return await conn.fetchrow(
        f"""INSERT INTO entities (name, kind, display_name, email, server_admin)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING {_ENTITY}""",
        name,
        kind,
        display_name,
        email,
        server_admin,
    )


async def get_entity(conn: Conn, name: str, kind: str | None = None) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_ENTITY} FROM entities WHERE name = $1 AND ($2::text IS NULL OR kind = $2)", name, kind
    )


async def get_entity_by_id(conn: Conn, entity_id: int | None) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_ENTITY} FROM entities WHERE id = $1", entity_id)


async def list_entities(
    conn: Conn, kind: str, after: str, limit: int, member_id: int | None = None
) -> list[asyncpg.Record]:
    """Entities of a kind ordered by name; with member_id, only teams that user belongs to."""
    return await conn.fetch(
        f"""SELECT {_ENTITY} FROM entities e WHERE kind = $1 AND name > $2
            AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM team_members m
                                               WHERE m.team_id = e.id AND m.user_id = $4))
            ORDER BY name LIMIT $3""",
        kind,
        after,
        limit,
        member_id,
    )


async def insert_member(conn: Conn, team_id: int, user_id: int, role: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING role, create_time""",
        team_id,
        user_id,
        role,
    )


async def lock_members(conn: Conn, team_id: int) -> dict[int, int]:
    """{user id: role} of a team, rows locked: concurrent changes to one team run one at a time, so
    the last-admin check cannot be raced."""
    rows = await conn.fetch(
        "SELECT user_id, role FROM team_members WHERE team_id = $1 ORDER BY user_id FOR UPDATE", team_id
    )
    return {r["user_id"]: r["role"] for r in rows}


async def set_member_role(conn: Conn, team_id: int, user_id: int, role: int) -> asyncpg.Record:
    row = await conn.fetchrow(
        "UPDATE team_members SET role = $3 WHERE team_id = $1 AND user_id = $2 RETURNING role, create_time",
        team_id,
        user_id,
        role,
    )
    return cast(asyncpg.Record, row)  # RETURNING: a row inserted, or one known to exist


async def delete_member(conn: Conn, team_id: int, user_id: int) -> None:
    await conn.execute("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2", team_id, user_id)


async def list_members(conn: Conn, team_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT u.name AS user_name, m.role, m.create_time FROM team_members m
           JOIN entities u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY u.name""",
        team_id,
    )


async def memberships(conn: Conn, user_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT t.name AS team_name, m.role, m.create_time FROM team_members m
           JOIN entities t ON t.id = m.team_id WHERE m.user_id = $1 ORDER BY t.name""",
        user_id,
    )


async def insert_service_account(
    conn: Conn, team_id: int, name: str, description: str, role: int, project_ids: list[int]
) -> asyncpg.Record | None:
    sa_id = await conn.fetchval(
        """INSERT INTO service_accounts (team_id, name, description, role, project_ids)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id, name) DO NOTHING RETURNING id""",
        team_id,
        name,
        description,
        role,
        project_ids,
    )
    return await get_service_account_by_id(conn, sa_id) if sa_id is not None else None


async def get_service_account_by_id(conn: Conn, sa_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_SA} FROM service_accounts sa JOIN entities t ON t.id = sa.team_id WHERE sa.id = $1", sa_id
    )


async def get_service_account(conn: Conn, team: str, name: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {_SA} FROM service_accounts sa JOIN entities t ON t.id = sa.team_id
            WHERE t.name = $1 AND sa.name = $2""",
        team,
        name,
    )


async def list_service_accounts(conn: Conn, team_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_SA} FROM service_accounts sa JOIN entities t ON t.id = sa.team_id
            WHERE sa.team_id = $1 ORDER BY sa.name""",
        team_id,
    )


async def project_ids(conn: Conn, entity_id: int, names: list[str]) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT name, id FROM projects WHERE entity_id = $1 AND name = ANY($2::text[])", entity_id, names
    )
    return {r["name"]: r["id"] for r in rows}
