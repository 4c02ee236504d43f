"""OpenTelemetry traces: gRPC server and client, asyncpg, and a span around each S3 call.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and the `otel` extra is installed:
`pip install 'strata-server[otel]'`). Then `configure_from_env()` exports spans through the OTLP/gRPC
exporter (the standard OTEL_* variables apply: headers, service name, sampler), the server adds the
OpenTelemetry server interceptor (it reads the caller's `traceparent`), and gRPC client channels and
asyncpg connections are instrumented, so one trace runs client -> server -> database (and S3).

`add_trace_ids` is a structlog processor: every log line written while a span is active carries its
`trace_id` and `span_id`. Tests call `enable(provider)` with an in-memory exporter instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, MutableMapping
from typing import Any

import structlog

log = structlog.get_logger(__name__)  # not .logging: it imports this module for add_trace_ids

_provider: Any = None  # the TracerProvider while tracing is on


def enabled() -> bool:
    return _provider is not None


def configure_from_env(service_name: str = "strata-server") -> bool:
    """Export traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; returns whether tracing is on."""
    if enabled() or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return enabled()
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("tracing_unavailable", hint="pip install 'strata-server[otel]'")
        return False
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    enable(provider)
    return True


def enable(provider: Any) -> None:
    """Trace with `provider`: instrument gRPC client channels and asyncpg (process-wide)."""
    global _provider
    from opentelemetry import trace
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient

    disable()
    # the gRPC client instrumentation traces with the global provider (it ignores tracer_provider);
    # a process has one global provider: a second enable() keeps the first one there
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)
    GrpcInstrumentorClient().instrument(tracer_provider=provider)
    _provider = provider


def disable() -> None:
    """Undo enable() (tests); servers started afterwards add no tracing interceptor."""
    global _provider
    if _provider is None:
        return
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient

    AsyncPGInstrumentor().uninstrument()
    GrpcInstrumentorClient().uninstrument()
    _provider = None


def server_interceptors() -> list[Any]:
    """The OpenTelemetry server interceptor (outermost) when tracing is on; none otherwise."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=_provider)]


@contextlib.contextmanager
def span(name: str, attributes: dict[str, str] | None = None) -> Iterator[None]:
    """A span around a block (a no-op when tracing is off); an exception marks it as an error."""
    if _provider is None:
        yield
        return
    tracer = _provider.get_tracer("strata_server")
    with tracer.start_as_current_span(name, attributes=attributes):
        yield


def add_trace_ids(_logger: object, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: `trace_id` and `span_id` (hex) of the active span, when there is one."""
    if _provider is None:
        return event
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event.setdefault("trace_id", format(ctx.trace_id, "032x"))
        event.setdefault("span_id", format(ctx.span_id, "016x"))
    return event
