"""The error model end to end: status codes, ErrorInfo reasons and details, as a client receives them."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import pytest
from strata.client import Client, RetryPolicy
from strata.errors import Reason, StrataError
from strata.iam.v1 import iam_service_pb2, iam_service_pb2_grpc
from strata.ingest.v1 import ingest_service_pb2
from strata_server.common.deps import Deps
from strata_server.common.errors import InvalidArgument, NotFound, classify, to_status
from strata_server.common.server import ServiceSpec

from tests.fixtures.servers import ServerThread, make_settings


class ExplodingIam(iam_service_pb2_grpc.IamServiceServicer):
    """A service whose handlers fail in the ways real handlers can."""

    async def GetPrincipal(self, request, context):
        raise RuntimeError("secret database password in this message")

    async def GetProject(self, request, context):
        if not request.name:
            raise InvalidArgument("name", Reason.FIELD_REQUIRED, "name is required")
        raise NotFound("project", request.name)

    async def ListUsers(self, request, context):
        raise asyncpg.exceptions.SerializationError("could not serialize access")


def _register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = ExplodingIam()
    iam_service_pb2_grpc.add_IamServiceServicer_to_server(servicer, server)
    return servicer


@pytest.fixture(scope="module")
def exploding(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    spec = ServiceSpec(name="iam", full_name="strata.iam.v1.IamService", register=_register)
    srv = ServerThread(make_settings(tmp_path_factory.mktemp("x"), pg_dsn), specs=[spec]).start()
    yield srv
    srv.stop()


def test_unexpected_exception_is_internal_with_a_generic_message(exploding: ServerThread) -> None:
    with exploding.client() as c, pytest.raises(StrataError) as e:
        c.iam.GetPrincipal(iam_service_pb2.GetPrincipalRequest())
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.INTERNAL, Reason.INTERNAL)
    assert "password" not in e.value.message


def test_invalid_argument_names_the_field_and_reason(exploding: ServerThread) -> None:
    with exploding.client() as c, pytest.raises(StrataError) as e:
        c.iam.GetProject(iam_service_pb2.GetProjectRequest())
    assert (e.value.code, e.value.reason, e.value.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.FIELD_REQUIRED,
        "name",
    )


def test_not_found_carries_the_resource(exploding: ServerThread) -> None:
    from google.rpc import error_details_pb2

    with exploding.client() as c, pytest.raises(StrataError) as e:
        c.iam.GetProject(iam_service_pb2.GetProjectRequest(name="entities/a/projects/b"))
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)
    info = next(d for d in e.value.details if isinstance(d, error_details_pb2.ResourceInfo))
    assert (info.resource_type, info.resource_name) == ("project", "entities/a/projects/b")


def test_serialization_failures_are_aborted_so_clients_retry(exploding: ServerThread) -> None:
    with exploding.client() as c, pytest.raises(StrataError) as e:
        c.iam.ListUsers(iam_service_pb2.ListUsersRequest())
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.ABORTED, Reason.CONFLICT)


def test_rpcs_not_built_yet_say_so(server: ServerThread) -> None:
    with server.client() as c, pytest.raises(StrataError) as e:
        c.ingest.ListRunFiles(ingest_service_pb2.ListRunFilesRequest(run="entities/a/projects/b/runs/c"))
    assert e.value.code in {grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.NOT_FOUND}
    if e.value.code == grpc.StatusCode.UNIMPLEMENTED:
        assert e.value.reason == Reason.NOT_IMPLEMENTED


def test_infrastructure_errors_are_classified() -> None:
    assert (
        classify(asyncpg.exceptions.ConnectionDoesNotExistError("gone")).code == grpc.StatusCode.UNAVAILABLE
    )
    assert classify(ConnectionRefusedError()).code == grpc.StatusCode.UNAVAILABLE
    assert classify(asyncpg.exceptions.DeadlockDetectedError("x")).code == grpc.StatusCode.ABORTED
    assert classify(ValueError("boom")) is None
    status, unexpected = to_status(ValueError("boom"))
    assert unexpected and status.code == grpc.StatusCode.INTERNAL.value[0] and "boom" not in status.message


@dataclass(frozen=True)
class _NotedRetry(RetryPolicy):
    """The retry policy, noting that it was asked to retry a failed attempt."""

    retried: threading.Event = field(default_factory=threading.Event)

    def retries(self, err: StrataError) -> bool:
        retry = super().retries(err)
        if retry:
            self.retried.set()
        return retry


def test_client_retries_unavailable_until_the_server_is_up(pg_dsn: str, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    late = ServerThread(make_settings(tmp_path, pg_dsn, addr=f"127.0.0.1:{port}"))
    # The server starts once the first attempt has failed (not after a fixed delay, which a slow
    # start-up can outlast), and the attempts outlast any start-up: their backoff is at most 0.5 s,
    # but the channel's own reconnect backoff grows (1 s, 1.6 s, 2.6 s, ...) between connection tries.
    policy = _NotedRetry(max_attempts=300, initial_backoff=0.2, max_backoff=0.5)
    starter = threading.Thread(target=lambda: policy.retried.wait(60) and late.start())
    starter.start()
    try:
        with Client(f"127.0.0.1:{port}", retry=policy) as c:
            got = c.iam.GetPrincipal(iam_service_pb2.GetPrincipalRequest(), timeout=5)
        assert got.server_admin and policy.retried.is_set()  # answered after a refused attempt
    finally:
        policy.retried.set()
        starter.join()
        late.stop()


def test_client_gives_up_with_unavailable_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Client(f"127.0.0.1:{port}", retry=RetryPolicy(max_attempts=3, initial_backoff=0.01)) as c:
        with pytest.raises(StrataError) as e:
            c.iam.GetPrincipal(iam_service_pb2.GetPrincipalRequest(), timeout=2)
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.UNAVAILABLE, Reason.BACKEND_UNAVAILABLE)
