"""First start in keys mode: with no server admin in the database, create user `admin` (server admin)
and one API key, and write the key to STRATA_ADMIN_KEY_FILE ($STRATA_DATA_DIR/admin-api-key) with
mode 0600, in the same transaction (if the file cannot be written, nothing is created and the server
does not start). Serialized across processes by an advisory lock; later starts do nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from strata._settings import write_private_file

from .. import audit
from ..logging import get_logger
from . import apikeys, store

log = get_logger(__name__)

ADMIN_NAME = "admin"
_BOOTSTRAP_LOCK = 7_268_716_151


async def bootstrap_admin(pool: asyncpg.Pool, pepper: bytes, key_file: Path) -> bool:
    """Returns True when this call created the admin (and wrote `key_file`)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _BOOTSTRAP_LOCK)
        if await store.has_server_admin(conn):
            return False
        key = apikeys.generate(pepper)
        user_id = await store.create_admin_with_key(conn, ADMIN_NAME, key.id, key.prefix, key.secret_hash)
        if user_id is None:
            raise SystemExit(f"cannot bootstrap: entity {ADMIN_NAME!r} exists and is a team")
        target = f"entities/{ADMIN_NAME}"
        await audit.record(
            conn, "user.create", target=target, entity_id=user_id, after={"server_admin": True}
        )
        await audit.record(
            conn,
            "api_key.create",
            target=f"apiKeys/{key.id}",
            entity_id=user_id,
            after={"owner": target, "prefix": key.prefix, "description": "bootstrap admin key"},
        )
        try:
            await asyncio.to_thread(write_private_file, key_file, key.token + "\n")
        except OSError as e:
            raise SystemExit(
                f"cannot write the bootstrap admin key to {key_file} ({e}); set STRATA_ADMIN_KEY_FILE"
            ) from e
    log.warning("bootstrap_admin_created", user=ADMIN_NAME, key_file=str(key_file))
    return True
