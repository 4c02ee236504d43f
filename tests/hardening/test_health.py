"""Health reflects the database and the blob store (NOT_SERVING while either is down, SERVING when both
are back), the embedded PostgreSQL is restarted when it dies, and a server started after a crash
stops the postmaster the crashed one left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from strata.client import Client
from strata.ingest.v1 import ingest_service_pb2 as ingest
from strata_server.common.embedded_pg import backends_left, postmaster_pid

from tests.fixtures.ingest import OwnPostgres
from tests.fixtures.processes import NOT_SERVING, SERVING, ServerProcess, health, wait_health
from tests.fixtures.servers import ServerThread, make_settings

WITHIN = 20.0  # seconds: the probe runs every 2 s, each check bounded by 3 s
INGEST = "strata.ingest.v1.IngestService"


def kill_postmaster(pgdata: Path) -> int:
    pid = postmaster_pid(pgdata)
    assert pid is not None, "no running postmaster"
    os.kill(pid, signal.SIGKILL)
    return pid


def wait_gone(pgdata: Path, timeout: float = 30) -> None:
    """Until the killed postmaster and its backends are gone; then its pid file is stale."""
    deadline = time.monotonic() + timeout
    while postmaster_pid(pgdata) is not None or backends_left(pgdata.resolve()):
        assert time.monotonic() < deadline, "the killed PostgreSQL did not go away"
        time.sleep(0.2)
    with contextlib.suppress(FileNotFoundError):
        (pgdata / "postmaster.pid").unlink()  # an unreaped postmaster keeps its pid taken


@pytest.fixture
def own_pg() -> Iterator[OwnPostgres]:
    pg = OwnPostgres()  # never the shared session PostgreSQL: this one gets killed
    yield pg
    pg.cleanup()


@pytest.fixture
def thread_server(own_pg: OwnPostgres, tmp_path: Path) -> Iterator[ServerThread]:
    srv = ServerThread(make_settings(tmp_path, own_pg.dsn)).start()
    yield srv
    srv.stop()


def test_health_follows_the_database(thread_server: ServerThread, own_pg: OwnPostgres) -> None:
    addr = thread_server.addr
    assert health(addr) == SERVING and health(addr, INGEST) == SERVING
    kill_postmaster(own_pg.datadir)
    wait_health(addr, NOT_SERVING, WITHIN)
    assert health(addr, INGEST) == NOT_SERVING
    wait_gone(own_pg.datadir)
    own_pg.start()
    wait_health(addr, SERVING, WITHIN)
    assert health(addr, INGEST) == SERVING
    with Client(addr) as c:  # and the pool serves again
        run = c.ingest.CreateRun(ingest.CreateRunRequest(parent="entities/h/projects/p", run_id="back")).run
    assert run.name.endswith("/runs/back")


def test_health_follows_the_blob_store(thread_server: ServerThread, tmp_path: Path) -> None:
    blobs = thread_server.settings.blob_dir
    moved = blobs.with_name("blobs-away")
    blobs.rename(moved)
    try:
        wait_health(thread_server.addr, NOT_SERVING, WITHIN)
    finally:
        moved.rename(blobs)
    wait_health(thread_server.addr, SERVING, WITHIN)


@pytest.fixture
def embedded(embedded_data_dir: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(embedded_data_dir, STRATA_AUTH_MODE="open-local")
    yield server
    server.stop()


def test_the_embedded_postgres_is_restarted_when_it_dies(embedded: ServerProcess) -> None:
    embedded.start()
    pgdata = embedded.data_dir / "pg"
    old = kill_postmaster(pgdata)
    deadline = time.monotonic() + 120  # generous: a loaded 2-core machine starts PostgreSQL slowly
    while (pid := postmaster_pid(pgdata)) is None or pid == old:
        assert embedded.proc is not None and embedded.proc.poll() is None, "the server died with PostgreSQL"
        assert time.monotonic() < deadline, "the embedded PostgreSQL was not restarted"
        time.sleep(0.2)
    try:
        wait_health(embedded.addr, SERVING, WITHIN)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{embedded.tail()}") from None
    deadline = time.monotonic() + WITHIN
    while True:  # the pool replaces the connections to the dead postmaster
        try:
            with Client(embedded.addr) as c:
                c.ingest.CreateRun(ingest.CreateRunRequest(parent="entities/h/projects/p", run_id="again"))
            break
        except Exception:
            assert time.monotonic() < deadline, f"calls still fail after the restart\n{embedded.tail()}"
            time.sleep(0.5)


def test_a_server_started_after_a_crash_stops_the_postmaster_it_finds(embedded: ServerProcess) -> None:
    pgdata = embedded.data_dir / "pg"
    embedded.start()
    first = postmaster_pid(pgdata)
    embedded.kill()  # a crash: the postmaster stays
    assert postmaster_pid(pgdata) == first
    embedded.start()  # adopts it
    assert embedded.stop() == 0
    deadline = time.monotonic() + 30
    while postmaster_pid(pgdata) is not None:
        assert time.monotonic() < deadline, "SIGTERM left the postmaster running"
        time.sleep(0.2)
