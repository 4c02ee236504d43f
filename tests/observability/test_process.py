"""A service started the way Kubernetes starts it (`python -m strata_server.ingest`) serves /metrics
on STRATA_METRICS_ADDR and, with OTEL_EXPORTER_OTLP_ENDPOINT set, exports its spans over OTLP to a
collector (here a small OTLP trace receiver in the test process); its JSON log lines carry trace ids."""

from __future__ import annotations

import json
import signal
import threading
import urllib.request
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as otlp
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as otlp_grpc
from strata.client import Client
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb

from tests.fixtures.postgres import PostgresServer
from tests.fixtures.processes import free_port, start, wait_serving
from tests.fixtures.wait import poll_until

pytestmark = pytest.mark.timeout(120)


class _Receiver(otlp_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[tuple[str, str]] = []  # (service.name, span name)
        self.lock = threading.Lock()

    def Export(
        self, request: otlp.ExportTraceServiceRequest, context: object
    ) -> otlp.ExportTraceServiceResponse:
        with self.lock:
            for rs in request.resource_spans:
                service = next(
                    (a.value.string_value for a in rs.resource.attributes if a.key == "service.name"), ""
                )
                self.spans += [(service, s.name) for ss in rs.scope_spans for s in ss.spans]
        return otlp.ExportTraceServiceResponse()


@pytest.fixture
def collector() -> Iterator[tuple[str, _Receiver]]:
    receiver = _Receiver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    otlp_grpc.add_TraceServiceServicer_to_server(receiver, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"http://127.0.0.1:{port}", receiver
    server.stop(0)


def test_a_service_process_serves_metrics_and_exports_traces(
    postgres: PostgresServer, tmp_path: Path, collector: tuple[str, _Receiver]
) -> None:
    endpoint, receiver = collector
    addr, metrics_port = f"127.0.0.1:{free_port()}", free_port()
    env = {
        "STRATA_PG_DSN": postgres.create_database(),
        "STRATA_DATA_DIR": str(tmp_path),
        "STRATA_METRICS_ADDR": f"127.0.0.1:{metrics_port}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_SERVICE_NAME": "strata-ingest-test",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "STRATA_LOG_FORMAT": "json",
    }
    log = tmp_path / "server.log"
    proc = start("strata_server.ingest", addr, env, log)
    try:
        wait_serving(addr, proc)
        with Client(addr) as client, pytest.raises(StrataError):
            client.ingest.GetRun(pb.GetRunRequest(name="entities/tester/projects/p/runs/missing"))
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        method = "/strata.ingest.v1.IngestService/GetRun"
        counted = f'strata_rpc_calls_total{{code="NOT_FOUND",method="{method}"}} 1.0'
        text: list[str] = []

        def scraped() -> bool:  # the call is counted just after its answer is sent
            with urllib.request.urlopen(url, timeout=10) as response:
                text[:] = [response.read().decode()]
            return counted in text[0]

        poll_until(scraped, timeout=20, interval=0.1, what="the GetRun call on /metrics")
        assert "strata_db_pool_size" in text[0]

        def exported() -> bool:
            with receiver.lock:
                return ("strata-ingest-test", method) in receiver.spans

        poll_until(exported, timeout=30, interval=0.2, what="the GetRun span at the collector")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    (access,) = [e for e in lines if e.get("event") == "access" and e.get("method") == method]
    assert access["code"] == "NOT_FOUND" and len(access["trace_id"]) == 32 and access["principal"]
