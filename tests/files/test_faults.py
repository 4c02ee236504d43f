"""Transfers survive faults: a killed client process, a killed and restarted server process, an S3
outage, a cut download. Each resumes and moves only the missing bytes, and the result verifies.
Clients are throttled (test-only patches in the client process) so the fault lands mid-transfer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from strata.client import Client, RetryPolicy
from strata.errors import StrataError
from strata.sdk import _transfer_upload, transfer

from tests.fixtures.files import MiB, make_version, random_file, sql, stats
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.processes import free_port, wait_serving
from tests.fixtures.seaweed import SeaweedS3
from tests.fixtures.servers import ServerThread, make_settings
from tests.fixtures.wait import poll_until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("client_dirs")]

PARENT = "entities/faults/projects/p"

UPLOADER = """
import os, sys, time
from pathlib import Path
from strata.client import Client
from strata.sdk import _transfer_plan as plan, _transfer_upload as up, transfer
up.CHUNK = 1 << 20
plan.SPECULATE_MIN = int(os.environ.get("SPECULATE_MIN", plan.SPECULATE_MIN))
delay = float(os.environ.get("THROTTLE", "0"))
original = up.LargeUpload._requests
def throttled(self, name, offset, chunk):
    for request in original(self, name, offset, chunk):
        yield request
        time.sleep(delay)
up.LargeUpload._requests = throttled
transfer.upload_files(Client(sys.argv[1]), sys.argv[2], [("big.bin", Path(sys.argv[3]))], progress=False)
print("DONE", flush=True)
"""

DOWNLOADER = """
import os, sys, time
from pathlib import Path
from strata.client import Client
from strata.sdk import _transfer_download as dl, transfer
original = dl._Sink._write
def throttled(self, data):
    original(self, data)
    time.sleep(0.05)
dl._Sink._write = throttled
sha, size = sys.argv[3], int(sys.argv[4])
transfer.download_blob(Client(sys.argv[1]), sys.argv[2], sha, size, Path(sys.argv[5]), progress=False)
print("DONE", flush=True)
"""


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    poll_until(condition, timeout=timeout, what=what)


def _latest_session(server: ServerThread) -> dict:
    rows = sql(server, "SELECT * FROM upload_sessions ORDER BY create_time DESC LIMIT 1")
    return rows[0] if rows else {}


def _script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _idle(server: ServerThread) -> bool:
    uploads = server.deps.extras.get("uploads")
    return uploads is None or not uploads.active._active


def _blob_sha(server: ServerThread, sha: str) -> list[dict]:
    return sql(server, "SELECT sha256, size FROM blobs WHERE sha256 = $1", sha)


@pytest.fixture
def s3_upload_server(postgres: PostgresServer, s3_settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    server = ServerThread(
        make_settings(tmp_path / "srv", postgres.create_database(), s3=s3_settings, upload_part_size=5 * MiB)
    ).start()
    yield server
    server.stop()


@pytest.mark.parametrize("speculate", [False, True], ids=["hashed-first", "speculative"])
def test_upload_cut_by_killing_the_client_is_resumed_by_a_new_process_sending_only_the_rest(
    s3_upload_server: ServerThread, tmp_path: Path, speculate: bool
) -> None:
    """hashed-first: the client knows the sha256 before sending. speculative: it starts sending while
    another thread hashes (large files it never uploaded before); the resumed session is the same."""
    server = s3_upload_server
    src = tmp_path / "big.bin"
    sha, size = random_file(src, 40 * MiB)
    script = _script(tmp_path, "uploader.py", UPLOADER)
    args = [sys.executable, str(script), server.addr, PARENT, str(src)]
    threshold = {"SPECULATE_MIN": str(MiB if speculate else 1 << 40)}
    first = subprocess.Popen(
        args, env={**os.environ, **threshold, "THROTTLE": "0.08"}, stdout=subprocess.PIPE
    )
    try:
        _wait_for(lambda: _latest_session(server).get("committed_offset", 0) >= size // 2, what="50% durable")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    _wait_for(lambda: _idle(server), what="the cut stream to end")
    committed = _latest_session(server)["committed_offset"]
    assert size // 2 <= committed < size
    before = stats(server).upload_bytes_received
    second = subprocess.run(
        args, env={**os.environ, **threshold, "THROTTLE": "0"}, capture_output=True, text=True, timeout=120
    )
    assert "DONE" in second.stdout, second.stderr[-2000:]
    assert stats(server).upload_bytes_received - before == size - committed
    assert _blob_sha(server, sha) == [{"sha256": sha, "size": size}]
    assert _latest_session(server)["state"] == 2


def test_upload_resumes_after_the_server_process_is_killed_and_restarted(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = postgres.create_database()
    addr = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "STRATA_PG_DSN": dsn,
        "STRATA_DATA_DIR": str(tmp_path / "data"),
        "STRATA_LOG_LEVEL": "info",
    }
    env.update({"STRATA_UPLOAD_PART_SIZE": str(2 * MiB), "STRATA_S3_ENDPOINT": ""})
    src = tmp_path / "big.bin"
    sha, size = random_file(src, 32 * MiB)
    logs = [tmp_path / "server1.log", tmp_path / "server2.log"]

    def start(log: Path) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "strata_server", "--addr", addr],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(log, "wb"),
        )
        wait_serving(addr, proc)
        return proc

    _throttle_uploads(monkeypatch, 0.08)
    server = start(logs[0])
    outcome: list[object] = []
    client = Client(addr, retry=RetryPolicy(max_attempts=80, initial_backoff=0.2, max_backoff=0.5))
    worker = threading.Thread(
        target=lambda: outcome.append(
            _capture(lambda: transfer.upload_files(client, PARENT, [("big.bin", src)]))
        )
    )
    worker.start()
    try:
        _wait_for(lambda: _committed(dsn) >= size * 3 // 10, what="30% durable")
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        time.sleep(1.0)
        server = start(logs[1])
        worker.join(120)
        assert not worker.is_alive()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        client.close()
    assert isinstance(outcome[0], dict) and outcome[0]["big.bin"].sha256 == sha, outcome
    ends = [json.loads(line) for line in logs[1].read_text().splitlines() if '"upload_stream_end"' in line]
    resumed_from = min(e["start_offset"] for e in ends)
    assert resumed_from > 0  # the restarted server continued the session, it did not start over
    assert sum(e["received"] for e in ends) == size - resumed_from


def _throttle_uploads(monkeypatch: pytest.MonkeyPatch, pause: float) -> Callable[..., Any]:
    """Send large uploads in 1 MiB chunks, `pause` seconds apart, so a fault can land mid-upload;
    returns the unthrottled request generator (to restore full speed)."""
    monkeypatch.setattr(_transfer_upload, "CHUNK", MiB)
    original = _transfer_upload.LargeUpload._requests

    def throttled(self, name, offset, chunk):  # type: ignore[no-untyped-def]
        for request in original(self, name, offset, chunk):
            yield request
            time.sleep(pause)

    monkeypatch.setattr(_transfer_upload.LargeUpload, "_requests", throttled)
    return original


def _capture(fn: Callable[[], object]) -> object:
    try:
        return fn()
    except Exception as e:
        return e


def _committed(dsn: str) -> int:
    async def run() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchval("SELECT COALESCE(max(committed_offset), 0) FROM upload_sessions") or 0
        finally:
            await conn.close()

    return asyncio.run(run())


def test_s3_outage_mid_upload_is_unavailable_then_the_upload_resumes(
    s3_upload_server: ServerThread, seaweed: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = s3_upload_server
    src = tmp_path / "big.bin"
    sha, size = random_file(src, 32 * MiB)
    original = _throttle_uploads(monkeypatch, 0.06)
    outcome: list[object] = []
    impatient = Client(server.addr, retry=RetryPolicy(max_attempts=2, initial_backoff=0.1))
    worker = threading.Thread(
        target=lambda: outcome.append(
            _capture(lambda: transfer.upload_files(impatient, PARENT, [("big.bin", src)]))
        )
    )
    worker.start()
    try:
        _wait_for(
            lambda: _latest_session(server).get("committed_offset", 0) >= size * 3 // 10, what="30% durable"
        )
        seaweed.stop()
        worker.join(120)
    finally:
        if seaweed.proc is None:
            seaweed.start()
        impatient.close()
    [error] = outcome
    assert isinstance(error, StrataError) and error.code == grpc.StatusCode.UNAVAILABLE
    _wait_for(lambda: _idle(server), what="streams to end")
    committed = _latest_session(server)["committed_offset"]
    assert 0 < committed < size
    monkeypatch.setattr(_transfer_upload.LargeUpload, "_requests", original)  # full speed again
    before = stats(server).upload_bytes_received
    with server.client() as c:
        digests = transfer.upload_files(c, PARENT, [("big.bin", src)])
    assert digests["big.bin"].sha256 == sha
    assert stats(server).upload_bytes_received - before == size - committed
    assert _blob_sha(server, sha) == [{"sha256": sha, "size": size}]


def test_download_cut_by_killing_the_client_resumes_with_only_the_rest(
    server: ServerThread, tmp_path: Path
) -> None:
    src = tmp_path / "blob.bin"
    sha, size = random_file(src, 32 * MiB)
    with server.client() as c:
        transfer.upload_files(c, PARENT, [("blob.bin", src)])
    version = make_version(server, "faults", "p", "cut", [("blob.bin", sha, size)])
    dest = tmp_path / "out" / "blob.bin"
    partial = dest.with_name(f".blob.bin.{sha[:16]}.strata-partial")
    script = _script(tmp_path, "downloader.py", DOWNLOADER)
    proc = subprocess.Popen([sys.executable, str(script), server.addr, version, sha, str(size), str(dest)])
    try:
        _wait_for(lambda: partial.exists() and partial.stat().st_size >= size // 2, what="half the download")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    counter = stats(server)
    _wait_for(lambda: _stable(lambda: counter.download_bytes_sent), what="the cut stream to end")
    have = partial.stat().st_size
    assert not dest.exists() and size // 2 <= have < size
    before = counter.download_bytes_sent
    with server.client() as c:
        transfer.download_blob(c, version, sha, size, dest)
    assert counter.download_bytes_sent - before == size - have
    assert dest.read_bytes() == src.read_bytes()


def _stable(read: Callable[[], int], pause: float = 0.5) -> bool:
    first = read()
    time.sleep(pause)
    return read() == first
