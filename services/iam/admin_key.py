"""Break glass: mint a new API key for a server admin straight in the database, for when the bootstrap
key file is lost, or on Kubernetes where the first start wrote it inside some pod.

    python -m strata_server.iam.admin_key [--user admin] [--output FILE] [--data-dir DIR]

Uses STRATA_PG_DSN (else the embedded PostgreSQL of --data-dir / $STRATA_DATA_DIR) and the same pepper
as the servers (STRATA_API_KEY_PEPPER, else $STRATA_DATA_DIR/api-key-pepper). Creates the user if
missing, makes it a server admin, adds a key and audits both as the system. Anyone who can run this can
already write to the database, so it grants nothing new.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import asyncpg
from strata._settings import write_private_file

from ..common import audit
from ..common.auth import apikeys, store
from ..common.config import Settings
from ..common.embedded_pg import EmbeddedPostgres


async def mint(dsn: str, pepper: bytes, user: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        if not await store.check_pepper(conn, apikeys.fingerprint(pepper)):
            raise SystemExit("the pepper differs from the servers': set STRATA_API_KEY_PEPPER")
        key = apikeys.generate(pepper)
        async with conn.transaction():
            user_id = await store.create_admin_with_key(conn, user, key.id, key.prefix, key.secret_hash)
            if user_id is None:
                raise SystemExit(f"{user!r} is a team, not a user")
            after = {"owner": f"entities/{user}", "prefix": key.prefix, "description": "admin_key tool"}
            await audit.record(
                conn, "api_key.create", target=f"apiKeys/{key.id}", entity_id=user_id, after=after
            )
        return key.token
    finally:
        await conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mint an API key for a server admin (break glass).")
    parser.add_argument("--user", default="admin", help="user to make server admin (default admin)")
    parser.add_argument("--output", help="write the key to this file (0600) instead of stdout")
    parser.add_argument("--data-dir", help="data folder (default $STRATA_DATA_DIR or ./.strata)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.data_dir:
        settings = replace(settings, data_dir=Path(args.data_dir))
    pepper = apikeys.load_pepper(settings.api_key_pepper, settings.pepper_file)
    embedded = EmbeddedPostgres(settings.data_dir / "pg") if settings.pg_dsn is None else None
    dsn = embedded.start() if embedded is not None else settings.pg_dsn
    assert dsn is not None  # STRATA_PG_DSN, or the embedded server's
    try:
        token = asyncio.run(mint(dsn, pepper, args.user))
    finally:
        if embedded is not None:
            embedded.stop()
    if args.output:
        write_private_file(Path(args.output), token + "\n")
        print(f"wrote a new key for {args.user} to {args.output} (mode 0600)", file=sys.stderr)
    else:
        print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
