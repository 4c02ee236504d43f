"""metric_chunks is hash-partitioned by run_id: on a new database, and on an existing one whose rows the
migration carries over (ids, bytes, the id sequence and the indexes the readers use)."""

from __future__ import annotations

import asyncio

import asyncpg
import numpy as np
from strata_server.common.db import discover_migrations, migrate

from tests.fixtures.postgres import PostgresServer

PARTITIONING = "ingest/0005_partition_metric_chunks.sql"


async def _partitions(conn: asyncpg.Connection) -> tuple[str | None, int]:
    strategy = await conn.fetchval(
        "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'metric_chunks'::regclass"
    )
    count = await conn.fetchval(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'metric_chunks'::regclass"
    )
    return strategy, count


def test_new_database_has_partitioned_metric_chunks(pg_dsn: str, server: object) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(pg_dsn)
        try:
            assert await _partitions(conn) == ("h", 16)
            indexes = {r["indexname"] for r in await conn.fetch(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'metric_chunks'"
            )}  # fmt: skip
            assert {"metric_chunks_run_key_step", "metric_chunks_id_brin"} <= indexes
        finally:
            await conn.close()

    asyncio.run(asyncio.wait_for(go(), 60))


async def _fill(conn: asyncpg.Connection, runs: int, keys: int) -> list[asyncpg.Record]:
    steps = np.arange(320, dtype="<i8")
    rows = [
        (run, key, 0, 319, 320, steps.tobytes(), (steps * 0.5 + run).astype("<f8").tobytes(), b"t" * 2560)
        for run in range(1, runs + 1)
        for key in range(keys)
    ]
    cols = ("run_id", "key_id", "first_step", "last_step", "n", "steps", "vals", "times")
    await conn.copy_records_to_table("metric_chunks", records=rows, columns=cols)
    return await conn.fetch("SELECT * FROM metric_chunks ORDER BY id")


def test_migration_carries_existing_rows_over(postgres: PostgresServer) -> None:
    dsn = postgres.create_database("part")
    every = discover_migrations()
    # an existing database: every other migration (the query service's BRIN index included), then data
    before = [m for m in every if f"{m.service}/{m.name}" != PARTITIONING]
    assert len(before) == len(every) - 1

    async def go() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn, before)
            assert await _partitions(conn) == (None, 0)
            old = await _fill(conn, runs=40, keys=5)
            applied = await migrate(conn, every)
            assert applied == [PARTITIONING]
            assert await _partitions(conn) == ("h", 16)
            new = await conn.fetch("SELECT * FROM metric_chunks ORDER BY id")
            assert [dict(r) for r in new] == [dict(r) for r in old]
            spread = await conn.fetchval(
                "SELECT count(DISTINCT tableoid) FROM metric_chunks"
            )  # rows went to their hash partitions, not to one
            assert spread > 1
            next_id = await conn.fetchval(
                """INSERT INTO metric_chunks (run_id, key_id, first_step, last_step, n, steps, vals, times)
                   VALUES (7, 0, 320, 320, 1, '\\x00', '\\x00', '\\x00') RETURNING id"""
            )
            assert next_id == old[-1]["id"] + 1  # the sequence continues; the rollup watermark holds
            plan = await conn.fetchval(
                "EXPLAIN (FORMAT JSON) SELECT * FROM metric_chunks WHERE run_id = 7 AND key_id = 0"
            )
            assert plan.count('"Relation Name"') == 1, plan  # one run reads one partition
            brin = await conn.fetchval(
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'metric_chunks_id_brin'"
            )
            assert brin == 1
        finally:
            await conn.close()

    asyncio.run(asyncio.wait_for(go(), 120))
