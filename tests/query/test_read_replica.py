"""STRATA_PG_READ_DSN: the query service's reads go through a second pool on the read DSN (here a
read-only role on the same server, standing in for a hot standby); writes stay on the primary."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from strata.errors import StrataError
from strata.query.v1 import query_service_pb2 as q
from strata_server.common.db import migrate

from tests.fixtures import query as fx
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread, make_settings

APP = "strata-read-replica"


def reader_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    netloc = "strata_reader@" + parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, f"{parts.query}&application_name={APP}", ""))


async def prepare(dsn: str) -> None:
    """The schema, and a role that may only read it (a standby accepts nothing else either)."""
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await conn.execute(
            """DO $$ BEGIN
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'strata_reader') THEN
                   CREATE ROLE strata_reader LOGIN;
                 END IF;
               END $$"""
        )
        await conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO strata_reader")
        await conn.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO strata_reader")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def replica_server(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    dsn = postgres.create_database("replica")
    asyncio.run(asyncio.wait_for(prepare(dsn), 120))
    settings = make_settings(tmp_path_factory.mktemp("replica"), dsn, pg_read_dsn=reader_dsn(dsn))
    srv = ServerThread(settings).start()
    try:
        yield srv
    finally:
        srv.stop()


async def grant(pool: asyncpg.Pool, table: str, allowed: bool) -> None:
    async with pool.acquire() as conn:
        verb = "GRANT SELECT ON {} TO strata_reader" if allowed else "REVOKE SELECT ON {} FROM strata_reader"
        await conn.execute(verb.format(table))


def test_reads_go_through_the_read_dsn(replica_server: ServerThread) -> None:
    """With SELECT on a table taken from the read role, the reads of that table fail; given back, they
    answer: so they ran on the read pool, not on the primary's."""
    srv = replica_server
    assert srv.deps.read_pool is not None and srv.deps.reads is srv.deps.read_pool
    project = srv.run(fx.create_project(srv.deps.pool, "rep", "lica"))
    run_pk = srv.run(fx.add_run(srv.deps.pool, project, "r1", config={"lr": 0.1}))
    srv.run(fx.add_series(srv.deps.pool, run_pk, "loss", list(range(100)), [float(i) for i in range(100)]))
    client = srv.client()
    search = q.SearchRunsRequest(
        parent="entities/rep/projects/lica", filter_json=json.dumps({"config.lr": 0.1})
    )
    history = q.GetHistoryRequest(run="entities/rep/projects/lica/runs/r1", keys=["loss"], samples=1000)
    for table, call in (("runs", lambda: client.query.SearchRuns(search)),
                        ("metric_chunks", lambda: client.query.GetHistory(history))):  # fmt: skip
        srv.run(grant(srv.deps.pool, table, False))
        try:
            with pytest.raises(StrataError):
                call()
        finally:
            srv.run(grant(srv.deps.pool, table, True))
    assert [r.run_id for r in client.query.SearchRuns(search).runs] == ["r1"]
    assert len(client.query.GetHistory(history).series[0].steps) == 100
    apps = srv.run(reader_apps(srv.deps.pool))
    assert apps == {("strata_reader", APP)}


async def reader_apps(pool: asyncpg.Pool) -> set[tuple[str, str]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT usename, application_name FROM pg_stat_activity WHERE usename = 'strata_reader'"
        )
        return {(r["usename"], r["application_name"]) for r in rows}


def test_writes_stay_on_the_primary(replica_server: ServerThread) -> None:
    srv = replica_server

    async def try_write() -> None:
        async with srv.deps.reads.acquire() as conn:
            await conn.execute("CREATE TEMP TABLE t (x int)")  # allowed; a real write is not:
            await conn.execute("INSERT INTO entities (name, kind) VALUES ('x', 'user')")

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        srv.run(try_write())
    # a write path of the same process (run creation through ingest) still works
    client = srv.client()
    from strata.ingest.v1 import ingest_service_pb2 as pb

    made = client.ingest.CreateRun(pb.CreateRunRequest(parent="entities/rep/projects/lica", run_id="w1"))
    assert made.run.name.endswith("/runs/w1")


def test_unset_read_dsn_reads_from_the_primary(server: ServerThread) -> None:
    assert server.deps.read_pool is None and server.deps.reads is server.deps.pool
    assert Path(server.settings.data_dir).exists()
