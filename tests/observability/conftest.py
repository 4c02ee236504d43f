"""Fixtures of the observability tests: a server with its /metrics endpoint on a free port, a scrape
of it, the structlog events written while a test runs, and an isolated SDK spool and cache."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families
from strata_server.common import access, tracing
from strata_server.common.config import S3Settings

from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread, make_settings
from tests.fixtures.wait import poll_until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def start_observed(postgres: PostgresServer, s3: S3Settings, data_dir: Path) -> ServerThread:
    """All services, blobs on S3, /metrics on a free port."""
    settings = make_settings(data_dir, postgres.create_database(), s3=s3, metrics_addr="127.0.0.1:0")
    return ServerThread(settings).start()


def scrape(server: ServerThread) -> Samples:
    """GET /metrics of the server: {(sample name, sorted labels): value}."""
    url = f"http://127.0.0.1:{server.server.metrics.port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def settled(server: ServerThread) -> Samples:
    """A scrape taken once no RPC is in flight in this process: a caller may see its answer before the
    server has finished recording the call (its access line and counters follow the response).

    The scrape that sees nothing in flight is not the one returned: a scrape is no snapshot (it reads
    the families one after another, in registration order, while the server's thread goes on), so it
    may have read `strata_rpc_calls_total` just before a call was counted and `strata_rpc_in_flight`
    just after that call left it. Every call that had left the gauge by then is fully recorded, so the
    next scrape, which starts later, holds all of it."""

    def idle() -> bool:
        samples = scrape(server)
        return sum(v for (name, _), v in samples.items() if name == "strata_rpc_in_flight") == 0

    poll_until(idle, timeout=20, interval=0.05, what="no RPC in flight")
    return scrape(server)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def sdk_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STRATA_QUIET", "1")
    monkeypatch.delenv("STRATA_MODE", raising=False)
    return tmp_path


@pytest.fixture
def log_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    """Every structlog event at info or above while the test runs (with the server's processors that
    add context: call context variables and the trace ids)."""
    capture = structlog.testing.LogCapture()
    previous = structlog.get_config()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, tracing.add_trace_ids, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=False,
    )
    monkeypatch.setattr(access, "log", structlog.get_logger("strata.access"))  # not a cached one
    try:
        yield capture.entries
    finally:
        structlog.configure(**previous)
