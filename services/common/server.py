"""The service chassis: one way to build, start and stop a Strata gRPC server.

A server hosts one or more services (`ServiceSpec`s): each service alone for Kubernetes
(`python -m strata_server.ingest`), or all of them in one process on one port (the embedded default,
`python -m strata_server` / `strata server` / `make run`). Every server also has the standard gRPC
health service (one status per service plus "") and server reflection, the interceptor from
interceptors.py, and graceful shutdown on SIGTERM/SIGINT: stop accepting, let in-flight calls finish
within STRATA_GRACE_SECONDS, stop background tasks, close the pool and the blob store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from . import logging as slog
from . import tracing
from .access import AccessInterceptor
from .admission import AdmissionInterceptor
from .auth import make_authorizer
from .blobstore import make_blob_store
from .config import Settings
from .db import create_pool
from .decoding import DecodingInterceptor
from .deps import Deps
from .embedded_pg import EmbeddedPostgres, EmbeddedPostgresMissing, embedded_available
from .health import HealthProbe
from .interceptors import StrataServerInterceptor
from .limits import HeavyCallLimiter
from .metrics import MetricsEndpoint

log = slog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    """How to mount one service: its proto full name, how to register it, its background tasks."""

    name: str  # short name: "ingest"
    full_name: str  # "strata.ingest.v1.IngestService"
    register: Callable[[grpc.aio.Server, Deps], object]
    background: tuple[Callable[[Deps], Awaitable[None]], ...] = ()


def server_credentials(s: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials from STRATA_TLS_CERT / STRATA_TLS_KEY (both or neither), else None (plaintext)."""
    if s.tls_cert_file is None and s.tls_key_file is None:
        return None
    if s.tls_cert_file is None or s.tls_key_file is None:
        raise ValueError("STRATA_TLS_CERT and STRATA_TLS_KEY go together: set both or neither")
    try:
        chain, key = s.tls_cert_file.read_bytes(), s.tls_key_file.read_bytes()
    except OSError as e:
        raise ValueError(f"cannot read the TLS certificate or key: {e}") from e
    return grpc.ssl_server_credentials([(key, chain)])


def connection_age_options(s: Settings) -> list[tuple[str, int]]:
    """GOAWAY after STRATA_GRPC_MAX_CONNECTION_AGE, close after the grace (0: no limit, gRPC's default)."""
    options = []
    if s.grpc_max_connection_age > 0:
        options.append(("grpc.max_connection_age_ms", int(s.grpc_max_connection_age * 1000)))
    if s.grpc_max_connection_age_grace > 0:
        options.append(("grpc.max_connection_age_grace_ms", int(s.grpc_max_connection_age_grace * 1000)))
    return options


class StrataServer:
    def __init__(self, specs: Sequence[ServiceSpec], settings: Settings) -> None:
        self.specs = list(specs)
        self.settings = settings
        self.port: int | None = None
        self.deps: Deps | None = None
        self.dsn: str | None = None  # the PostgreSQL in use, once started
        self._server: grpc.aio.Server | None = None
        self._health = health.aio.HealthServicer() if hasattr(health, "aio") else health.HealthServicer()
        self._embedded: EmbeddedPostgres | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._watchers: list[asyncio.Task[None]] = []  # health probe, embedded PostgreSQL supervision
        self.metrics = MetricsEndpoint(settings.metrics_addr)  # GET /metrics; .port once started

    async def start(self) -> int:
        s = self.settings
        if not structlog.is_configured():  # embedded (benchmarks, tools): not structlog's dev defaults,
            slog.configure(s.log_level, s.log_format)  # which re-bind and pretty-print every line
        credentials = server_credentials(s)  # a TLS misconfiguration fails before anything starts
        dsn = s.pg_dsn
        if dsn is None:
            self._embedded = EmbeddedPostgres(s.data_dir / "pg")
            dsn = await asyncio.to_thread(self._embedded.start)
        self.dsn = dsn
        pool = await create_pool(
            dsn, min_size=s.pg_pool_min, max_size=s.pg_pool_max, statement_timeout=s.pg_statement_timeout
        )
        blobs = make_blob_store(s)
        await blobs.start()
        authorizer = make_authorizer(s, pool, dsn)
        await authorizer.start()
        self.deps = Deps(settings=s, pool=pool, blobs=blobs, authorizer=authorizer)
        if s.pg_read_dsn and any(spec.name == "query" for spec in self.specs):
            self.deps.read_pool = await create_pool(
                s.pg_read_dsn,
                min_size=1,
                max_size=s.pg_pool_max,
                statement_timeout=s.pg_statement_timeout,
                apply_migrations=False,
            )

        options = [
            ("grpc.max_receive_message_length", s.max_message_bytes),
            ("grpc.max_send_message_length", s.max_message_bytes),
            ("grpc.so_reuseport", 0),
        ]
        options += connection_age_options(s)
        if s.grpc_stream_window > 0:  # a fixed window instead of BDP probing (see STRATA_GRPC_STREAM_WINDOW)
            options += [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", s.grpc_stream_window)]
        limits = HeavyCallLimiter.for_settings(s)
        admission = AdmissionInterceptor(authorizer, s.max_request_bytes, s.max_message_bytes)
        # outermost first: refuse unauthenticated or oversized calls before their body is read, then
        # turn undecodable bytes into INVALID_ARGUMENT, then authorize, limit and run the handler
        # (tracing and the access log / RPC metrics wrap all of them, so refused calls are seen too)
        interceptors = [
            *tracing.server_interceptors(),
            AccessInterceptor(s.access_log_level),
            admission,
            DecodingInterceptor(),
            StrataServerInterceptor(authorizer, limits),
        ]
        server = grpc.aio.server(interceptors=interceptors, options=options)
        for spec in self.specs:
            spec.register(server, self.deps)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        names = [spec.full_name for spec in self.specs]
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
        if credentials is None:
            self.port = server.add_insecure_port(s.addr)
        else:
            self.port = server.add_secure_port(s.addr, credentials)
        if not self.port:
            raise SystemExit(f"cannot listen on {s.addr}")
        await server.start()
        self._server = server
        self.metrics.start()
        await self._set_health(health_pb2.HealthCheckResponse.SERVING)
        self._watchers.append(
            asyncio.create_task(HealthProbe(self.deps, self._set_health).run(), name="health")
        )
        if self._embedded is not None:
            self._watchers.append(asyncio.create_task(self._embedded.supervise(), name="embedded-postgres"))
        for spec in self.specs:
            for task_fn in spec.background:
                self._tasks.append(
                    asyncio.create_task(_supervised(task_fn, self.deps), name=task_fn.__name__)
                )
        log.info(
            "server_started",
            addr=self.address,
            services=[sp.name for sp in self.specs],
            postgres="embedded" if self._embedded else "external",
            blobs=type(blobs).__name__,
            auth=authorizer.mode,
            tls=credentials is not None,
            metrics_port=self.metrics.port,
            tracing=tracing.enabled(),
        )
        return self.port

    async def _set_health(self, status: int) -> None:
        for name in ["", *[spec.full_name for spec in self.specs]]:
            await _maybe_await(self._health.set(name, status))

    @property
    def address(self) -> str:
        host = self.settings.addr.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    async def stop(self, grace: float | None = None) -> None:
        grace = self.settings.grace_seconds if grace is None else grace
        if self.deps is not None:
            self.deps.stopping.set()
        await _cancel(self._watchers)  # the health probe and PostgreSQL supervision end first
        if self._server is not None:
            await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
            await self._server.stop(grace)
            self._server = None
        self.metrics.stop()
        await _cancel(self._tasks)
        if self.deps is not None:
            await self.deps.authorizer.stop()
            await self.deps.pool.close()
            if self.deps.read_pool is not None:
                await self.deps.read_pool.close()
            await self.deps.blobs.close()
            self.deps = None
        if self._embedded is not None:
            await asyncio.to_thread(self._embedded.stop)
            self._embedded = None
        log.info("server_stopped")

    async def serve_until_signal(self, console: bool = False) -> None:
        """Serve until SIGTERM/SIGINT; with `console`, the web console runs beside (STRATA_WEB_ADDR)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        web = None
        if console and self.settings.web_addr != "off":
            from ..web.server import start_beside  # the console is optional: only the all-in-one starts it

            try:
                settings = replace(self.settings, pg_dsn=self.dsn)  # the console keeps its sessions there
                web, url = await start_beside(self.address, settings)
            except (OSError, SystemExit) as e:  # e.g. the port is taken: the services still serve
                log.warning("console_not_started", web_addr=self.settings.web_addr, error=str(e))
        print(self.banner(), file=sys.stderr, flush=True)
        if web is not None:
            print(f"  console: {url}  (open it in a browser)", file=sys.stderr, flush=True)
        await stop.wait()
        log.info("shutdown_requested", grace_seconds=self.settings.grace_seconds)
        if web is not None:
            await web.stop()
        await self.stop()

    def banner(self) -> str:
        s = self.settings
        pg = (
            f"embedded PostgreSQL in {s.data_dir / 'pg'}" if self._embedded else "PostgreSQL at STRATA_PG_DSN"
        )
        blobs = f"S3 {s.s3.endpoint}/{s.s3.bucket}" if s.s3 else f"blob folder {s.blob_dir}"
        services = ", ".join(sp.name for sp in self.specs)
        auth = self.deps.authorizer.describe() if self.deps is not None else s.auth_mode
        return (
            f"Strata is serving {services} on {self.address}\n"
            f"  storage: {pg}; {blobs}\n  auth: {auth}\n"
            f"  clients: export STRATA_ADDR={self.address}\n{self._metrics_line()}  stop: Ctrl-C (or SIGTERM)"
        )

    def _metrics_line(self) -> str:
        if self.metrics.port is None:
            return ""
        return f"  metrics: http://{self.metrics.addr.rpartition(':')[0]}:{self.metrics.port}/metrics\n"


async def _maybe_await(value: object) -> None:
    if asyncio.iscoroutine(value):
        await value


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    tasks.clear()


async def _supervised(fn: Callable[[Deps], Awaitable[None]], deps: Deps) -> None:
    """Run a background task forever, restarting it (with a pause) if it fails."""
    while True:
        try:
            await fn(deps)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background_task_failed", task=fn.__name__)
            await asyncio.sleep(5)


def parse_args(argv: Sequence[str] | None, description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--addr", help="listen address (default $STRATA_ADDR or 127.0.0.1:50051)")
    parser.add_argument(
        "--data-dir", help="data folder of the embedded default (default $STRATA_DATA_DIR or ./.strata)"
    )
    parser.add_argument(
        "--log-format", choices=["json", "console"], help="log format (default $STRATA_LOG_FORMAT)"
    )
    parser.add_argument(
        "--web-addr",
        help="all-in-one only: web console address, or off (default $STRATA_WEB_ADDR or 127.0.0.1:8080)",
    )
    return parser.parse_args(argv)


def run_main(
    specs: Sequence[ServiceSpec],
    argv: Sequence[str] | None = None,
    description: str = "",
    console: bool = False,
) -> None:
    """Entry point used by `python -m strata_server[.<service>]` and `strata server` (with `console`)."""
    args = parse_args(argv, description)
    overrides: dict[str, Any] = {}
    if args.addr:
        overrides["addr"] = args.addr
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
        if not os.environ.get("STRATA_BLOB_DIR"):
            overrides["blob_dir"] = Path(args.data_dir) / "blobs"
    if args.log_format:
        overrides["log_format"] = args.log_format
    if args.web_addr:
        overrides["web_addr"] = args.web_addr
    settings = Settings.from_env()
    settings = replace(settings, **overrides)
    slog.configure(settings.log_level, settings.log_format)
    if settings.pg_dsn is None and not embedded_available():
        raise SystemExit(f"strata-server: {EmbeddedPostgresMissing()}")
    tracing.configure_from_env()
    asyncio.run(StrataServer(specs, settings).serve_until_signal(console=console))
