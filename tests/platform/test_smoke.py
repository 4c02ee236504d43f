"""The processes users and Kubernetes run: the all-in-one server and each service alone, as real
subprocesses, checked over real channels, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2

from tests.fixtures.postgres import PostgresServer
from tests.fixtures.processes import SERVICES, free_port, start, wait_serving


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def test_all_in_one_server_serves_every_service_and_keeps_data_across_restarts(
    tmp_path: Path, embedded_data_dir: Path
) -> None:
    addr = f"127.0.0.1:{free_port()}"
    env = {"STRATA_DATA_DIR": str(embedded_data_dir), "STRATA_PG_DSN": "", "STRATA_S3_ENDPOINT": ""}
    proc = start("strata_server", addr, env, tmp_path / "first.log")
    try:
        health = wait_serving(addr, proc)
        for full_name in SERVICES.values():
            status = health.Check(health_pb2.HealthCheckRequest(service=full_name), timeout=5).status
            assert status == health_pb2.HealthCheckResponse.SERVING, full_name
        import asyncio

        async def mark() -> None:
            conn = await asyncpg.connect(
                host=str(embedded_data_dir / "pg"), user="postgres", database="postgres"
            )
            await conn.execute("INSERT INTO entities (name, kind) VALUES ('smoke-marker', 'user')")
            await conn.close()

        asyncio.run(mark())
    finally:
        code = stop(proc)
    assert code == 0, (tmp_path / "first.log").read_text()[-2000:]
    log = (tmp_path / "first.log").read_text()
    assert "server_stopped" in log and "embedded_postgres_stopped" in log

    proc = start("strata_server", addr, env, tmp_path / "second.log")
    try:
        wait_serving(addr, proc)

        async def check() -> int:
            conn = await asyncpg.connect(
                host=str(embedded_data_dir / "pg"), user="postgres", database="postgres"
            )
            try:
                return await conn.fetchval("SELECT count(*) FROM entities WHERE name = 'smoke-marker'")
            finally:
                await conn.close()

        assert asyncio.run(check()) == 1
    finally:
        assert stop(proc) == 0


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_runs_alone(service: str, postgres: PostgresServer, tmp_path: Path) -> None:
    addr = f"127.0.0.1:{free_port()}"
    env = {"STRATA_PG_DSN": postgres.create_database(), "STRATA_DATA_DIR": str(tmp_path)}
    proc = start(f"strata_server.{service}", addr, env, tmp_path / "alone.log")
    try:
        health = wait_serving(addr, proc)
        mine = health.Check(health_pb2.HealthCheckRequest(service=SERVICES[service]), timeout=5)
        assert mine.status == health_pb2.HealthCheckResponse.SERVING
        other = next(name for key, name in SERVICES.items() if key != service)
        with pytest.raises(grpc.RpcError) as e:
            health.Check(health_pb2.HealthCheckRequest(service=other), timeout=5)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        assert stop(proc) == 0, (tmp_path / "alone.log").read_text()[-2000:]


def test_open_local_mode_refuses_a_non_loopback_address(tmp_path: Path, postgres: PostgresServer) -> None:
    env = {
        "STRATA_PG_DSN": postgres.create_database(),
        "STRATA_DATA_DIR": str(tmp_path),
        "STRATA_AUTH_MODE": "open-local",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "strata_server", "--addr", f"0.0.0.0:{free_port()}"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "loopback" in proc.stderr
