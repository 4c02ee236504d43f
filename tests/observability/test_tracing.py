"""Traces, with the OpenTelemetry SDK's in-memory exporter in this process: the SDK's calls (a
client instrumented here) and the server's spans, its asyncpg queries and S3 calls form one trace per
call, joined by the `traceparent` the client sends; log lines written inside a span carry its ids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import strata
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from strata_server.common import tracing
from strata_server.common.config import S3Settings

from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread

from .conftest import start_observed

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing.enable(provider)
    try:
        yield spans
    finally:
        tracing.disable()


@pytest.fixture(scope="module")
def traced(
    exporter: InMemorySpanExporter,
    postgres: PostgresServer,
    s3_settings: S3Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerThread]:
    srv = start_observed(postgres, s3_settings, tmp_path_factory.mktemp("traced"))
    yield srv
    srv.stop()


def _by_trace(spans: tuple[ReadableSpan, ...]) -> dict[int, list[ReadableSpan]]:
    traces: dict[int, list[ReadableSpan]] = {}
    for s in spans:
        assert s.context is not None
        traces.setdefault(s.context.trace_id, []).append(s)
    return traces


def _is_db(span: ReadableSpan) -> bool:
    return (span.attributes or {}).get("db.system") == "postgresql" or (span.attributes or {}).get(
        "db.system.name"
    ) == "postgresql"


def test_log_artifact_makes_a_trace_from_client_to_server_to_database(
    traced: ServerThread, exporter: InMemorySpanExporter, sdk_dirs: Path, log_events: list[dict[str, object]]
) -> None:
    (sdk_dirs / "data").mkdir()
    (sdk_dirs / "data" / "weights.bin").write_bytes(b"w" * 4096)
    with strata.init(project="traces", entity="tester", addr=traced.addr) as run:
        exporter.clear()
        art = strata.Artifact("traced-model", type="model")
        art.add_dir(str(sdk_dirs / "data"))
        run.log_artifact(art)
        spans = exporter.get_finished_spans()

    complete = []  # traces with a client span, the server span it caused, and a query of that call
    for trace_spans in _by_trace(spans).values():
        clients = [s for s in trace_spans if s.kind is SpanKind.CLIENT and not _is_db(s)]
        servers = [s for s in trace_spans if s.kind is SpanKind.SERVER]
        queries = [s for s in trace_spans if _is_db(s)]
        for server in servers:
            parent = [c for c in clients if server.parent and c.context.span_id == server.parent.span_id]
            below = [q for q in queries if q.parent and q.parent.span_id == server.context.span_id]
            if parent and below:
                complete.append((parent[0].name, server.name))
    assert complete, sorted({(s.name, s.kind.name) for s in spans})
    assert any("RegistryService" in server for _, server in complete)  # the version's calls
    assert any(s.name.startswith("s3 ") for s in spans)  # the blob store's calls have spans too

    server_span_ids = {(s.context.trace_id, s.context.span_id) for s in spans if s.kind is SpanKind.SERVER}
    access = [e for e in log_events if e["event"] == "access"]
    assert access and all("trace_id" in e and "span_id" in e for e in access)
    assert any((int(str(e["trace_id"]), 16), int(str(e["span_id"]), 16)) in server_span_ids for e in access)


def test_log_lines_outside_a_span_carry_no_trace_id(exporter: InMemorySpanExporter) -> None:
    event = tracing.add_trace_ids(None, "info", {"event": "x"})
    assert "trace_id" not in event
    with tracing.span("outer"):
        event = tracing.add_trace_ids(None, "info", {"event": "y"})
    (outer,) = [s for s in exporter.get_finished_spans() if s.name == "outer"]
    assert event["trace_id"] == format(outer.context.trace_id, "032x")
