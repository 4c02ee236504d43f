"""SQL of API keys and of what authorization reads: the one place that writes or reads `api_keys`.

The keys-mode authorizer loads keys, principals, projects and entities here on cache misses (see
keys.py); the first-start bootstrap and the admin_key tool create admins here; the iam service
creates, lists and revokes keys here. The secret never reaches this module: only its keyed hash
(apikeys.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

import asyncpg
from strata.iam.v1 import iam_pb2

from ..db import Conn

PRIVATE = iam_pb2.PROJECT_VISIBILITY_PRIVATE
PUBLIC_READ = iam_pb2.PROJECT_VISIBILITY_PUBLIC_READ

_KEY = """k.id, k.prefix, k.description, k.create_time, k.expire_time, k.last_use_time, k.revoke_time,
          k.user_id, k.service_account_id,
          CASE WHEN k.user_id IS NOT NULL THEN 'entities/' || u.name
               ELSE 'entities/' || t.name || '/serviceAccounts/' || sa.name END AS owner,
          coalesce(u.id, sa.team_id) AS owner_entity_id"""
_KEY_FROM = """api_keys k LEFT JOIN entities u ON u.id = k.user_id
               LEFT JOIN service_accounts sa ON sa.id = k.service_account_id
               LEFT JOIN entities t ON t.id = sa.team_id"""


@dataclass(frozen=True)
class KeyRow:
    id: str
    secret_hash: bytes
    expire_time: datetime | None
    revoke_time: datetime | None
    last_use_time: datetime | None
    user_id: int | None
    service_account_id: int | None


@dataclass(frozen=True)
class ProjectRef:
    """A project as authorization sees it; `id` is None when only the entity exists."""

    id: int | None
    entity_id: int
    entity_kind: str
    visibility: int


async def load_key(conn: Conn, key_id: str) -> KeyRow | None:
    r = await conn.fetchrow(
        """SELECT id, secret_hash, expire_time, revoke_time, last_use_time, user_id, service_account_id
           FROM api_keys WHERE id = $1""",
        key_id,
    )
    return KeyRow(**dict(r)) if r is not None else None


async def load_user(conn: Conn, user_id: int) -> tuple[str, bool, dict[int, int]] | None:
    """(name, server_admin, {team id: role}) of a user."""
    r = await conn.fetchrow(
        "SELECT name, server_admin FROM entities WHERE id = $1 AND kind = 'user'", user_id
    )
    if r is None:
        return None
    rows = await conn.fetch("SELECT team_id, role FROM team_members WHERE user_id = $1", user_id)
    return r["name"], r["server_admin"], {m["team_id"]: m["role"] for m in rows}


async def load_service_account(conn: Conn, sa_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT sa.id, sa.name, sa.role, sa.project_ids, sa.team_id, t.name AS team
           FROM service_accounts sa JOIN entities t ON t.id = sa.team_id WHERE sa.id = $1""",
        sa_id,
    )


async def find_project(conn: Conn, entity: str, project: str) -> ProjectRef | None:
    """The project, else its entity (id None), else None."""
    r = await conn.fetchrow(
        """SELECT p.id, e.id AS entity_id, e.kind, coalesce(p.visibility, $3) AS visibility
           FROM entities e LEFT JOIN projects p ON p.entity_id = e.id AND p.name = $2
           WHERE e.name = $1""",
        entity,
        project,
        PRIVATE,
    )
    return ProjectRef(r["id"], r["entity_id"], r["kind"], r["visibility"]) if r is not None else None


async def find_entity(conn: Conn, name: str) -> tuple[int, str] | None:
    r = await conn.fetchrow("SELECT id, kind FROM entities WHERE name = $1", name)
    return (r["id"], r["kind"]) if r is not None else None


async def find_service_account(conn: Conn, team: str, name: str) -> tuple[int, int] | None:
    """(service account id, team id)."""
    r = await conn.fetchrow(
        """SELECT sa.id, sa.team_id FROM service_accounts sa JOIN entities t ON t.id = sa.team_id
           WHERE t.name = $1 AND sa.name = $2""",
        team,
        name,
    )
    return (r["id"], r["team_id"]) if r is not None else None


async def key_owner(conn: Conn, key_id: str) -> tuple[int | None, int | None, int | None] | None:
    """(user id, service account id, service account's team id) of a key."""
    r = await conn.fetchrow(
        """SELECT k.user_id, k.service_account_id, sa.team_id FROM api_keys k
           LEFT JOIN service_accounts sa ON sa.id = k.service_account_id WHERE k.id = $1""",
        key_id,
    )
    return (r["user_id"], r["service_account_id"], r["team_id"]) if r is not None else None


async def projects_by_id(conn: Conn, ids: list[int]) -> dict[int, ProjectRef]:
    rows = await conn.fetch(
        """SELECT p.id, p.entity_id, e.kind, p.visibility FROM projects p JOIN entities e ON e.id = p.entity_id
           WHERE p.id = ANY($1::bigint[])""",
        ids,
    )
    return {r["id"]: ProjectRef(r["id"], r["entity_id"], r["kind"], r["visibility"]) for r in rows}


async def touch_key(conn: Conn, key_id: str) -> None:
    """last_use_time moves at most once a minute, whichever process sees the key."""
    await conn.execute(
        """UPDATE api_keys SET last_use_time = now()
           WHERE id = $1 AND (last_use_time IS NULL OR last_use_time < now() - interval '1 minute')""",
        key_id,
    )


async def check_pepper(conn: Conn, fingerprint: bytes) -> bool:
    """Record the pepper's fingerprint on first start; False when this process's pepper differs."""
    await conn.execute(
        "INSERT INTO iam_settings (key, value) VALUES ('api_key_pepper', $1) ON CONFLICT (key) DO NOTHING",
        fingerprint,
    )
    stored = await conn.fetchval("SELECT value FROM iam_settings WHERE key = 'api_key_pepper'")
    return bytes(stored) == fingerprint


async def has_server_admin(conn: Conn) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM entities WHERE kind = 'user' AND server_admin)")
    )


async def create_admin_with_key(
    conn: Conn, name: str, key_id: str, prefix: str, secret_hash: bytes
) -> int | None:
    """Create (or promote) user `name` as server admin with one key; None if `name` is a team."""
    user_id: int | None = await conn.fetchval(
        """INSERT INTO entities (name, kind, display_name, server_admin) VALUES ($1, 'user', $1, true)
           ON CONFLICT (name) DO UPDATE SET server_admin = true WHERE entities.kind = 'user'
           RETURNING id""",
        name,
    )
    if user_id is None:
        return None
    await insert_key(
        conn,
        key_id,
        prefix,
        secret_hash,
        user_id=user_id,
        service_account_id=None,
        description="bootstrap admin key",
        expire_time=None,
    )
    return user_id


# --- API keys as the iam service manages them ---


async def insert_key(
    conn: Conn,
    key_id: str,
    prefix: str,
    secret_hash: bytes,
    *,
    user_id: int | None,
    service_account_id: int | None,
    description: str,
    expire_time: datetime | None,
) -> asyncpg.Record:
    """Add a key owned by a user or a service account; returns it as `get_key` does."""
    await conn.execute(
        """INSERT INTO api_keys (id, user_id, service_account_id, secret_hash, prefix, description, expire_time)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        key_id,
        user_id,
        service_account_id,
        secret_hash,
        prefix,
        description,
        expire_time,
    )
    return cast(asyncpg.Record, await get_key(conn, key_id))  # just inserted


async def get_key(conn: Conn, key_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    """A key with its owner's resource name (never its hash)."""
    suffix = " FOR UPDATE OF k" if lock else ""
    return await conn.fetchrow(f"SELECT {_KEY} FROM {_KEY_FROM} WHERE k.id = $1{suffix}", key_id)


async def list_keys(
    conn: Conn, *, user_id: int | None, service_account_id: int | None, show_revoked: bool
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_KEY} FROM {_KEY_FROM}
            WHERE (k.user_id = $1 OR k.service_account_id = $2) AND ($3 OR k.revoke_time IS NULL)
            ORDER BY k.create_time, k.id""",
        user_id,
        service_account_id,
        show_revoked,
    )


async def revoke_key(conn: Conn, key_id: str) -> None:
    await conn.execute(
        "UPDATE api_keys SET revoke_time = now() WHERE id = $1 AND revoke_time IS NULL", key_id
    )
