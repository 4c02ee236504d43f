"""A property-based fuzzer over every RPC of every Strata service, from the service descriptors.

For each RPC, Hypothesis draws request messages (tests/hardening/fuzz_strategies.py) and raw bytes,
and sends them with the admin's key to a keys-mode server. Every answer must be a result or a
canonical error carrying an ErrorInfo (never INTERNAL or UNKNOWN), and the server must still answer
its health check SERVING afterwards. Streaming RPCs get a few fuzzed messages each and a short
deadline (a watcher that waits for news is not a failure).

CI runs a few examples per RPC (well under a minute on two cores); `make fuzz` sets
STRATA_FUZZ_EXAMPLES to run many more.
"""

from __future__ import annotations

import importlib
import os

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.bad_input_helpers import error_info
from tests.hardening.fuzz_strategies import messages, raw_requests
from tests.registry.helpers import log_version

SERVICE_MODULES = [
    "strata.iam.v1.iam_service_pb2",
    "strata.ingest.v1.ingest_service_pb2",
    "strata.registry.v1.registry_service_pb2",
    "strata.query.v1.query_service_pb2",
    "strata.lineage.v1.lineage_service_pb2",
]
EXAMPLES = int(os.environ.get("STRATA_FUZZ_EXAMPLES", "3"))
UNARY_TIMEOUT, STREAM_TIMEOUT = 20.0, 1.0
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
pytestmark = pytest.mark.timeout(120 + 60 * EXAMPLES)


def _methods() -> list:
    out = []
    for name in SERVICE_MODULES:
        for service in importlib.import_module(name).DESCRIPTOR.services_by_name.values():
            out.extend(service.methods)
    return out


METHODS = _methods()


@pytest.fixture(scope="module")
def target(keys_server):  # type: ignore[no-untyped-def]
    """The server, a channel to it, the admin's metadata and the names of resources that exist."""
    keys_server.project("admin", "fuzz")
    with keys_server.client() as c:
        done = log_version(
            keys_server.thread, c, "admin", "fuzz", "model", {"m.bin": b"m"}, aliases=["production"]
        )
    from strata.ingest.v1 import ingest_service_pb2 as ingest

    with keys_server.client() as c:
        run = c.ingest.CreateRun(
            ingest.CreateRunRequest(parent="entities/admin/projects/fuzz", run_id="r1")
        ).run
    seeds = [
        "entities/admin",
        "entities/admin/projects/fuzz",
        run.name,
        done.version.name,
        done.version.name.rsplit(":", 1)[0] if ":" in done.version.name else done.version.name,
        "entities/admin/projects/fuzz/artifacts/model",
        "production",
        "loss",
        "m.bin",
        "a" * 64,
    ]
    channel = grpc.insecure_channel(keys_server.addr)
    yield keys_server, channel, [("authorization", f"Bearer {keys_server.admin_key}")], seeds
    channel.close()


def _call(channel: grpc.Channel, method, metadata, bodies: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    """Send `bodies` (one for a unary request) to `method`; assert the answer is a result or a
    canonical error with an ErrorInfo."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    kind = (method.client_streaming, method.server_streaming)
    plain = {"request_serializer": None, "response_deserializer": None}
    try:
        if kind == (False, False):
            channel.unary_unary(path, **plain)(bodies[0], metadata=metadata, timeout=UNARY_TIMEOUT)
        elif kind == (True, False):
            channel.stream_unary(path, **plain)(iter(bodies), metadata=metadata, timeout=UNARY_TIMEOUT)
        elif kind == (False, True):
            for _ in zip(  # noqa: B905 (stop after 50 answers)
                range(50),
                channel.unary_stream(path, **plain)(bodies[0], metadata=metadata, timeout=STREAM_TIMEOUT),
            ):
                pass
        else:
            for _ in zip(  # noqa: B905 (stop after 50 answers)
                range(50),
                channel.stream_stream(path, **plain)(iter(bodies), metadata=metadata, timeout=STREAM_TIMEOUT),
            ):
                pass
    except grpc.RpcError as err:
        code = err.code()  # type: ignore[attr-defined]
        if code == grpc.StatusCode.DEADLINE_EXCEEDED and method.server_streaming:
            return  # our short deadline on a stream that waits for more
        assert code not in NEVER, f"{path}: {code} {err.details()}"  # type: ignore[attr-defined]
        assert error_info(err) is not None, f"{path}: {code} without ErrorInfo: {err.details()}"  # type: ignore[attr-defined]


def _healthy(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    answer = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def _fuzz(channel: grpc.Channel, method, metadata, bodies: st.SearchStrategy[list[bytes]]) -> None:  # type: ignore[no-untyped-def]
    """Send request lists drawn from `bodies` to `method`, each answered as _call asserts; the server
    still serves afterwards."""

    @FUZZ_SETTINGS
    @given(bodies)
    def check(drawn: list[bytes]) -> None:
        _call(channel, method, metadata, drawn)

    check()
    _healthy(channel)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_fuzzed_requests(target, method) -> None:  # type: ignore[no-untyped-def]
    _, channel, metadata, seeds = target
    count = 3 if method.client_streaming else 1
    _fuzz(channel, method, metadata, st.lists(messages(method.input_type, seeds), min_size=1, max_size=count))


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_raw_bytes(target, method) -> None:  # type: ignore[no-untyped-def]
    _, channel, metadata, _ = target
    _fuzz(channel, method, metadata, st.lists(raw_requests(), min_size=1, max_size=2))


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_without_a_key(target, method) -> None:  # type: ignore[no-untyped-def]
    """An unauthenticated caller gets a canonical error with an ErrorInfo for valid, empty and
    malformed requests alike."""
    _, channel, _, _ = target
    for body in [b"", b"\x0a\x03\xff\xfe\xfd", b"\x0a\x20abc"]:
        _call(channel, method, [], [body])
    _healthy(channel)
