"""Fault injection: the ingest server process killed mid-stream, the training process killed before
its batches were acknowledged, PostgreSQL restarted mid-stream. In each case the stored points equal
the logged points exactly: nothing lost, nothing duplicated."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import asyncpg
import grpc
import numpy as np
import pytest
import strata
from strata.cli.main import main as cli
from strata.client import NO_RETRY
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2

from tests.fixtures.ingest import IngestProcess, OwnPostgres, assert_same_points, fetch_points, stored_points
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.processes import kill_once_spooled
from tests.fixtures.servers import ServerThread, make_settings
from tests.fixtures.wait import poll_until

KEYS = [f"layer{i}/grad_norm" for i in range(100)]


pytestmark = pytest.mark.usefixtures("spool")


def log_steps(run: strata.Run, steps: range) -> None:
    offsets = {key: i for i, key in enumerate(KEYS)}
    for step in steps:
        base = step * 0.001
        run.log({key: base + i for key, i in offsets.items()})


def expected(steps: range) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    s = np.arange(steps.start, steps.stop)
    return {key: (s, s * 0.001 + i) for i, key in enumerate(KEYS)}


def wait_for(condition, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    poll_until(condition, timeout=60, interval=0.01, what=what)


@pytest.mark.slow
def test_killing_the_ingest_server_process_mid_stream_loses_and_duplicates_nothing(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """1,000,000 points; the server process is SIGKILLed while batches are in flight and restarted on
    the same port; the client reconnects, resends from the server's high-water mark."""
    dsn = postgres.create_database()
    server = IngestProcess(dsn, tmp_path).start()
    try:
        run = strata.init(project="faults", entity="tester", addr=server.addr)
        log_steps(run, range(0, 5000))
        window = run._window
        wait_for(lambda: window.acked > 0)  # the stream is committing ...
        server.kill()  # ... and the server dies in the middle of it
        log_steps(run, range(5000, 10_000))  # logging goes on while the server is down
        time.sleep(0.5)
        server.start()
        run.finish(timeout=180)
        assert run._streamer.reconnects >= 1
        assert run.committed_points == 1_000_000
    finally:
        server.stop()
    stored = fetch_points(dsn, run.resource_name)
    assert sum(len(s) for s, _ in stored.values()) == 1_000_000
    assert_same_points(stored, expected(range(0, 10_000)))


TRAINER = textwrap.dedent(
    """
    import sys, time, strata
    addr, run_id, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    run = strata.init(project="faults", entity="tester", addr=addr, id=run_id, resume="allow")
    for step in range(first, last):
        run.log({"a": float(step), "b": -float(step)}, step=step)
    assert run.wait_spooled(60)
    print("SPOOLED", run.spool_path, flush=True)
    if sys.argv[5] == "crash":
        time.sleep(600)   # the test kills us here: logged, spooled, not acknowledged
    run.finish(timeout=120)
    print("FINISHED", run.committed_points, flush=True)
    """
)


def trainer(tmp_path: Path, addr: str, run_id: str, steps: range, mode: str) -> subprocess.Popen[str]:
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    return subprocess.Popen(
        [sys.executable, str(script), addr, run_id, str(steps.start), str(steps.stop), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


def crash_after_spooling(
    server: ServerThread, pg_dsn: str, tmp_path: Path, run_id: str, steps: range
) -> Path:
    """Run a trainer while commits are blocked (metric_chunks locked), kill it once its points are
    spooled, then let the server go on. Returns the dead process's spool directory."""
    lock = server.run(asyncpg.connect(pg_dsn))
    server.run(lock.execute("BEGIN; LOCK TABLE metric_chunks IN EXCLUSIVE MODE"))
    try:
        proc = trainer(tmp_path, server.addr, run_id, steps, "crash")
        spool = kill_once_spooled(proc)
    finally:
        server.run(lock.execute("ROLLBACK"))
        server.run(lock.close())
    return spool


def points_of(server: ServerThread, name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    async def go():  # type: ignore[no-untyped-def]
        async with server.deps.pool.acquire() as conn:
            return await stored_points(conn, name)

    return server.run(go())


def ab(steps: range) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    s = np.arange(steps.start, steps.stop)
    return {"a": (s, s.astype(float)), "b": (s, -s.astype(float))}


def test_a_training_process_killed_before_its_acks_is_delivered_by_strata_sync_exactly_once(
    server: ServerThread, pg_dsn: str, tmp_path: Path
) -> None:
    spool_path = crash_after_spooling(server, pg_dsn, tmp_path, "crashy-sync", range(0, 30_000))
    name = "entities/tester/projects/faults/runs/crashy-sync"
    for _ in range(2):  # the second sync finds everything committed and sends nothing
        assert cli(["sync", "--addr", server.addr, str(spool_path)]) == 0
        assert_same_points(points_of(server, name), ab(range(0, 30_000)))
    run = server.client().ingest.GetRun(pb.GetRunRequest(name=name)).run
    assert run.point_count == 60_000 and run.state == run_pb2.RUN_STATE_RUNNING  # no FINISH was spooled


def test_a_training_process_killed_before_its_acks_is_delivered_by_the_next_process_of_the_run(
    server: ServerThread, pg_dsn: str, tmp_path: Path
) -> None:
    crash_after_spooling(server, pg_dsn, tmp_path, "crashy-resume", range(0, 20_000))
    proc = trainer(tmp_path, server.addr, "crashy-resume", range(20_000, 25_000), "finish")
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    name = "entities/tester/projects/faults/runs/crashy-resume"
    assert_same_points(points_of(server, name), ab(range(0, 25_000)))
    run = server.client().ingest.GetRun(pb.GetRunRequest(name=name)).run
    assert run.state == run_pb2.RUN_STATE_FINISHED and run.point_count == 50_000
    spool_root = Path(os.environ["STRATA_SPOOL_DIR"])
    assert not (spool_root / "faults" / "crashy-resume").exists() or not any(
        (spool_root / "faults" / "crashy-resume").iterdir()
    ), "delivered spools are deleted"


@pytest.mark.slow
def test_a_postgresql_restart_mid_stream_answers_unavailable_and_the_client_resumes(tmp_path: Path) -> None:
    pg = OwnPostgres()  # never restart the shared session PostgreSQL
    server = ServerThread(make_settings(tmp_path / "srv", pg.dsn))
    try:
        server.start()
        run = strata.init(project="faults", entity="tester", addr=server.addr)
        log_steps(run, range(0, 3000))
        wait_for(lambda: run._window.acked > 0)
        pg.stop()
        with pytest.raises(StrataError) as e:
            server.client().ingest.GetRun(
                pb.GetRunRequest(name=run.resource_name), retry=NO_RETRY, timeout=10
            )
        assert e.value.code == grpc.StatusCode.UNAVAILABLE
        log_steps(run, range(3000, 6000))
        time.sleep(1.0)
        pg.start()
        run.finish(timeout=180)
        assert run._streamer.reconnects >= 1 and run.committed_points == 600_000
        assert_same_points(points_of(server, run.resource_name), expected(range(0, 6000)))
    finally:
        try:
            server.stop()
        finally:
            pg.cleanup()


def test_a_stream_whose_acks_stall_is_abandoned_and_resumed_without_duplicates(
    server: ServerThread, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits are blocked (metric_chunks locked) longer than STRATA_ACK_TIMEOUT: the client gives the
    call up, reconnects, and once commits go through every point is stored exactly once."""
    monkeypatch.setenv("STRATA_ACK_TIMEOUT", "1")
    lock = server.run(asyncpg.connect(pg_dsn))
    server.run(lock.execute("BEGIN; LOCK TABLE metric_chunks IN EXCLUSIVE MODE"))
    try:
        run = strata.init(project="faults", entity="tester", addr=server.addr)
        log_steps(run, range(0, 500))
        wait_for(lambda: run._streamer.reconnects >= 1)
    finally:
        server.run(lock.execute("ROLLBACK"))
        server.run(lock.close())
    log_steps(run, range(500, 1000))
    run.finish(timeout=120)
    assert run.committed_points == 100_000
    assert_same_points(points_of(server, run.resource_name), expected(range(0, 1000)))
