"""SQL of API keys. The secret never reaches this module: only its keyed hash (services/common/apikeys)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

_KEY = """k.id, k.prefix, k.description, k.create_time, k.expire_time, k.last_use_time, k.revoke_time,
          k.user_id, k.service_account_id,
          CASE WHEN k.user_id IS NOT NULL THEN 'entities/' || u.name
               ELSE 'entities/' || t.name || '/serviceAccounts/' || sa.name END AS owner,
          coalesce(u.id, sa.team_id) AS owner_entity_id"""
_FROM = """api_keys k LEFT JOIN entities u ON u.id = k.user_id
           LEFT JOIN service_accounts sa ON sa.id = k.service_account_id
           LEFT JOIN entities t ON t.id = sa.team_id"""


async def insert_key(
    conn: asyncpg.Connection,
    key_id: str,
    prefix: str,
    secret_hash: bytes,
    *,
    user_id: int | None,
    service_account_id: int | None,
    description: str,
    expire_time: datetime | None,
) -> asyncpg.Record:
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
    return await get_key(conn, key_id)


async def get_key(conn: asyncpg.Connection, key_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    suffix = " FOR UPDATE OF k" if lock else ""
    return await conn.fetchrow(f"SELECT {_KEY} FROM {_FROM} WHERE k.id = $1{suffix}", key_id)


async def list_keys(
    conn: asyncpg.Connection, *, user_id: int | None, service_account_id: int | None, show_revoked: bool
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_KEY} FROM {_FROM}
            WHERE (k.user_id = $1 OR k.service_account_id = $2) AND ($3 OR k.revoke_time IS NULL)
            ORDER BY k.create_time, k.id""",
        user_id,
        service_account_id,
        show_revoked,
    )


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> None:
    await conn.execute(
        "UPDATE api_keys SET revoke_time = now() WHERE id = $1 AND revoke_time IS NULL", key_id
    )
