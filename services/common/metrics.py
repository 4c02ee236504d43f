"""Prometheus metrics of a server process, served on their own port (STRATA_METRICS_ADDR).

Every metric is a module-level object of prometheus_client's default registry, so the code that moves
it needs one line (`metrics.INGEST_POINTS.inc(n)`). Values computed on demand (the database pool, the
database pool) come from `_Collector`, which reads the pools registered with `watch_pool` at scrape
time. The table of names is in
docs/operations.md ("Metrics, traces and logs").
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import asyncpg
import asyncpg.pool
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")

# --- RPCs (ObservabilityInterceptor) ---
RPC_CALLS = Counter("strata_rpc_calls", "Finished RPCs by method and status code.", ["method", "code"])
RPC_SECONDS = Histogram(
    "strata_rpc_duration_seconds",
    "RPC duration from the handler's start to its end (streams: the whole stream), by method.",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
RPC_IN_FLIGHT = Gauge("strata_rpc_in_flight", "RPCs being served now, by method.", ["method"])

# --- metric streams (ingest) ---
INGEST_POINTS = Counter("strata_ingest_points", "Metric points committed by metric streams.")
INGEST_BATCHES = Counter(
    "strata_ingest_batches",
    "Metric batch messages committed by metric streams (a message carrying a merged range of client "
    "batches counts once).",
)
INGEST_REPLAYED = Counter(
    "strata_ingest_batches_replayed",
    "Batches received again after they were committed (client resends from its spool): acknowledged, "
    "nothing written.",
)
INGEST_OPEN_STREAMS = Gauge("strata_ingest_open_streams", "Metric streams open now.")
# seconds, for the ingest histograms: a millisecond commit to a queue half a minute deep
_INGEST_SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
INGEST_ACK_LAG = Histogram(
    "strata_ingest_ack_lag_seconds",
    "From the arrival of a group's oldest batch to its durable acknowledgement.",
    buckets=_INGEST_SECONDS,
)
INGEST_GROUP_STREAMS = Histogram(
    "strata_ingest_group_streams",
    "Streams whose batches one group commit wrote together (one transaction).",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500),
)
INGEST_GROUP_SECONDS = Histogram(
    "strata_ingest_group_commit_seconds",
    "Duration of one group commit's transaction (lock, COPY, marks and counters).",
    buckets=_INGEST_SECONDS,
)
INGEST_RETRIED_ALONE = Counter(
    "strata_ingest_streams_retried_alone",
    "Streams committed in a transaction of their own after their group's transaction failed.",
)

# --- blob store ---
UPLOAD_BYTES = Counter("strata_upload_bytes", "Blob bytes received by uploads (sessions and batches).")
DOWNLOAD_BYTES = Counter("strata_download_bytes", "Blob bytes sent by downloads and run-file reads.")
S3_SECONDS = Histogram(
    "strata_s3_operation_duration_seconds",
    "S3 calls of the blob store by operation.",
    ["operation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)
S3_ERRORS = Counter(
    "strata_s3_operation_errors",
    "S3 calls that failed (S3 error or unreachable), by operation.",
    ["operation"],
)

# --- database pool ---
DB_ACQUIRE_SECONDS = Histogram(
    "strata_db_pool_acquire_seconds",
    "Time to get a connection from the pool.",
    buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
)
DB_ACQUIRE_WAITS = Counter(
    "strata_db_pool_acquire_waits",
    "Pool acquires that found no idle connection (one was opened, or the caller waited for one).",
)

# --- background passes, auth cache, alias watchers ---
JOB_SECONDS = Histogram(
    "strata_background_job_duration_seconds",
    "Duration of background passes (crash detection, upload expiry, GC, rollups), by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800),
)
JOB_LAST_SUCCESS = Gauge(
    "strata_background_job_last_success_timestamp_seconds",
    "Unix time of the task's last pass that ended without an error.",
    ["task"],
)
JOB_FAILURES = Counter("strata_background_job_failures", "Background passes that raised, by task.", ["task"])
AUTH_CACHE = Counter(
    "strata_auth_cache_lookups", "Lookups in the keys-mode caches, by result (hit or miss).", ["result"]
)
ALIAS_WATCHERS = Gauge("strata_alias_watchers", "WatchAlias calls waiting for alias moves now.")


# --- values read at scrape time ---
_pools: list[Any] = []  # asyncpg pools (no weak references: Pool has __slots__); closed ones dropped


class _Collector(Collector):
    def collect(self) -> Iterator[Any]:
        size = GaugeMetricFamily("strata_db_pool_size", "Connections open in the pool.")
        in_use = GaugeMetricFamily("strata_db_pool_in_use", "Pool connections handed out now.")
        limit = GaugeMetricFamily("strata_db_pool_max", "The pool's maximum size (STRATA_PG_POOL_MAX).")
        pools = [p for p in list(_pools) if not p.is_closing()]
        size.add_metric([], sum(p.get_size() for p in pools))
        in_use.add_metric([], sum(p.get_size() - p.get_idle_size() for p in pools))
        limit.add_metric([], sum(p.get_max_size() for p in pools))
        yield from (size, in_use, limit)


REGISTRY.register(_Collector())


def count_transfer(field: str, added: int) -> None:
    """A TransferStats field grew by `added` bytes."""
    if added > 0:
        (UPLOAD_BYTES if field == "upload_bytes_received" else DOWNLOAD_BYTES).inc(added)


def watch_pool(pool: Any) -> None:
    """Report the pool's size and use on /metrics, and time the acquires of every pool."""
    _pools[:] = [p for p in _pools if not p.is_closing()]
    _pools.append(pool)
    _time_acquires()


def _time_acquires() -> None:
    """Wrap asyncpg's Pool._acquire, which `pool.acquire()` (awaited or `async with`) goes through: the
    pool has __slots__, so the wrapper goes on the class (once)."""
    cls = asyncpg.pool.Pool
    acquire = getattr(cls, "_acquire")  # noqa: B009 (private: not in asyncpg's type stubs)
    if getattr(acquire, "_strata_timed", False):
        return

    async def timed_acquire(self: Any, timeout: float | None) -> Any:
        if self.get_idle_size() == 0:
            DB_ACQUIRE_WAITS.inc()
        started = time.perf_counter()
        try:
            return await acquire(self, timeout)
        finally:
            DB_ACQUIRE_SECONDS.observe(time.perf_counter() - started)

    timed_acquire._strata_timed = True  # type: ignore[attr-defined]
    setattr(cls, "_acquire", timed_acquire)  # noqa: B010


async def timed_job(task: str, work: Awaitable[T]) -> T:
    """Await one background pass, recording its duration, its failure or its success time."""
    started = time.perf_counter()
    try:
        result = await work
    except Exception:
        JOB_FAILURES.labels(task).inc()
        raise
    finally:
        JOB_SECONDS.labels(task).observe(time.perf_counter() - started)
    JOB_LAST_SUCCESS.labels(task).set(time.time())
    return result


@contextlib.contextmanager
def s3_operation(operation: str) -> Iterator[None]:
    """Time one S3 call; count it as an error when it raises anything but a missing key."""
    from .blobstore.base import BlobNotFound
    from .tracing import span

    started = time.perf_counter()
    try:
        with span(f"s3 {operation}", {"strata.blob.operation": operation}):
            yield
    except BlobNotFound:
        raise
    except Exception:
        S3_ERRORS.labels(operation).inc()
        raise
    finally:
        S3_SECONDS.labels(operation).observe(time.perf_counter() - started)


class MetricsEndpoint:
    """The HTTP server answering GET /metrics (prometheus_client's, in a daemon thread)."""

    def __init__(self, addr: str) -> None:
        self.addr = addr
        self.port: int | None = None
        self._server: Any = None

    def start(self) -> int | None:
        """Listen on host:port (port 0: a free one); returns the port, None when off or it cannot bind."""
        if not self.addr:
            return None
        host, _, port = self.addr.rpartition(":")
        try:
            self._server, _thread = start_http_server(int(port), addr=host.strip("[]") or "0.0.0.0")
        except (OSError, ValueError) as e:
            log.warning("metrics_endpoint_failed", addr=self.addr, error=str(e))
            return None
        self.port = self._server.server_port
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
