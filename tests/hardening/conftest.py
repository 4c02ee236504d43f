"""Fixtures of the data-loss hardening tests: a spool folder of each test's own, a run name on the
module's server, the stored points of a run, and a stand-in StreamMetrics server that answers a
chosen status for a chosen batch (to drive the SDK's retry rules with codes the real server never
sends for a batch)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np
import pytest
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import metric_pb2
from strata.sdk._stream import METHOD
from strata.sdk._wire import encode_batch

from tests.fixtures.servers import ServerThread

POISON_STEP = 2**63 - 1


@pytest.fixture(autouse=True)
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("STRATA_MODE", raising=False)
    return tmp_path / "spool"


def new_run(server: ServerThread, project: str = "hardening") -> str:
    request = pb.CreateRunRequest(parent=f"entities/tester/projects/{project}", run_id=uuid.uuid4().hex[:12])
    return server.client().ingest.CreateRun(request).run.name


def encoded(seq: int, key: str, steps: list[int]) -> bytes:
    """MetricBatch bytes as the SDK writes them: one key, value = step (as a float)."""
    s = np.array(steps, dtype=np.int64)
    values = s.astype(np.float64)
    return encode_batch(seq, [key], np.zeros(len(s), np.int64), s, values, np.full(len(s), 1.7e9))


@dataclass
class StandIn:
    """A StreamMetrics server that commits every batch (or merged range) in memory, except that a
    message holding POISON_STEP is answered with `code` (every time it is sent)."""

    code: grpc.StatusCode
    addr: str = ""
    committed: int = 0
    poison_attempts: int = 0
    sessions: list[list[int]] = field(default_factory=list)  # sequences received, per call
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, requests: Iterator[pb.StreamMetricsRequest], context: grpc.ServicerContext):  # type: ignore[no-untyped-def]
        received: list[int] = []
        with self.lock:
            self.sessions.append(received)
        next(requests)  # the `open` message
        yield pb.StreamMetricsResponse(opened=pb.StreamOpened(committed_sequence=self.committed))
        for request in requests:
            b = request.batch
            received.append(b.sequence)
            if POISON_STEP in b.steps:
                with self.lock:
                    self.poison_attempts += 1
                context.abort(self.code, "stand-in failure")
            if b.sequence == self.committed + 1:
                self.committed = b.last_sequence or b.sequence  # a merged message carries a range
            yield pb.StreamMetricsResponse(ack=metric_pb2.MetricAck(sequence=self.committed))


@pytest.fixture
def stand_in(request: pytest.FixtureRequest) -> Iterator[StandIn]:
    """A real gRPC server on a free port running StandIn(code=request.param)."""
    fake = StandIn(code=request.param)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handler = grpc.stream_stream_rpc_method_handler(
        fake.handle,
        request_deserializer=pb.StreamMetricsRequest.FromString,
        response_serializer=pb.StreamMetricsResponse.SerializeToString,
    )
    service, method = METHOD.rsplit("/", 1)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service[1:], {method: handler}),))
    fake.addr = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    server.start()
    yield fake
    server.stop(grace=None)
