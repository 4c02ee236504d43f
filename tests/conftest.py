"""Session-scoped real PostgreSQL and S3 (SeaweedFS); a fresh database and bucket per test module;
a real Strata server per module reached through real channels."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from strata_server.common import logging as slog
from strata_server.common.config import S3Settings

from tests.fixtures.postgres import PostgresServer
from tests.fixtures.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedS3
from tests.fixtures.servers import ServerThread, make_settings

# fixtures defined in tests/fixtures/*: keys_server (all services in keys mode, admin bootstrapped)
pytest_plugins = ["tests.fixtures.iam"]

os.environ.setdefault("STRATA_CONFIG_DIR", "/nonexistent-strata-config")  # never read a developer's key
# Servers the tests start as subprocesses run in open local mode unless a test asks for keys.
os.environ.setdefault("STRATA_AUTH_MODE", "open-local")
# No system/* metrics in runs unless a test asks for them (tests count the keys they log).
os.environ.setdefault("STRATA_SYSTEM_METRICS_INTERVAL", "0")
# ... and without a /metrics endpoint (parallel servers would contend for its default port).
os.environ.setdefault("STRATA_METRICS_ADDR", "")
# All-in-one servers the tests start pick a free port for their web console (never a developer's 8080).
os.environ.setdefault("STRATA_WEB_ADDR", "127.0.0.1:0")
slog.configure("warning", "console")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedS3]:
    server = SeaweedS3()
    yield server
    server.cleanup()


@pytest.fixture
def embedded_data_dir() -> Iterator[Path]:
    """A data folder for a server's embedded PostgreSQL, outside pytest's temporary root: run as root,
    pgserver runs PostgreSQL as a user of its own and opens the folder's parents to it, but any pytest
    session starting meanwhile (another checkout's run on this machine) closes /tmp/pytest-of-<user>
    again (mode 0700), and initdb then fails with "Permission denied"."""
    path = Path(tempfile.mkdtemp(prefix="strata-embedded-"))
    yield path / "data"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_dsn(postgres: PostgresServer) -> str:
    """An empty database of its own for each test module."""
    return postgres.create_database()


@pytest.fixture(scope="module")
def s3_settings(seaweed: SeaweedS3) -> S3Settings:
    """A bucket of its own for each test module (created by the blob store at start)."""
    return S3Settings(
        endpoint=seaweed.endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket=f"m-{uuid.uuid4().hex[:12]}",
        region=None,
        secure=False,
        threads=8,
    )


@pytest.fixture(scope="module")
def server(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """All services in one process on a free port, local blob folder, open local auth."""
    srv = ServerThread(make_settings(tmp_path_factory.mktemp("strata"), pg_dsn)).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def s3_server(
    postgres: PostgresServer, s3_settings: S3Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    """All services with blobs on the real S3 server (its own database and bucket)."""
    srv = ServerThread(
        make_settings(tmp_path_factory.mktemp("strata"), postgres.create_database(), s3=s3_settings)
    ).start()
    yield srv
    srv.stop()
