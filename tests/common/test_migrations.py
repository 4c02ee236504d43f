"""Versioned migrations: applied once, safe when many processes start at once, immutable once applied."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import pytest
from strata_server.common.db import discover_migrations, migrate

from tests.fixtures.postgres import PostgresServer


async def test_concurrent_starts_apply_each_migration_exactly_once(postgres: PostgresServer) -> None:
    dsn = await asyncio.to_thread(postgres.create_database)
    conns = [await asyncpg.connect(dsn) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        applied = [name for r in results for name in r]
        expected = [f"{m.service}/{m.name}" for m in discover_migrations()]
        assert sorted(applied) == sorted(expected)  # each once, across all four
        assert await conns[0].fetchval("SELECT count(*) FROM schema_migrations") == len(expected)
        assert await migrate(conns[0]) == []  # a later start is a no-op
    finally:
        for c in conns:
            await c.close()


async def test_a_modified_applied_migration_stops_the_start(postgres: PostgresServer) -> None:
    dsn = await asyncio.to_thread(postgres.create_database)
    conn = await asyncpg.connect(dsn)
    try:
        migrations = discover_migrations()
        await migrate(conn, migrations)
        tampered = [replace(migrations[0], sql=migrations[0].sql + "\n-- changed"), *migrations[1:]]
        with pytest.raises(RuntimeError, match="was modified"):
            await migrate(conn, tampered)
    finally:
        await conn.close()


async def test_audit_log_rejects_updates_and_deletes(postgres: PostgresServer) -> None:
    dsn = await asyncio.to_thread(postgres.create_database)
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await conn.execute("INSERT INTO audit_events (actor_name, actor_kind, action) VALUES ('a', 1, 'x.y')")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE audit_events SET action = 'z'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM audit_events")
    finally:
        await conn.close()
