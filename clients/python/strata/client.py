"""The typed low-level client: one channel to one address, one wrapper per service.

    from strata.client import Client
    client = Client()                      # $STRATA_ADDR (default 127.0.0.1:50051), $STRATA_API_KEY
    run = client.ingest.GetRun(ingest_service_pb2.GetRunRequest(name=...), timeout=5).run

Every call takes keyword-only `timeout`, `metadata` and `retry`; failures raise `strata.errors.StrataError`
(`.code`, `.reason`, `.details`). Unary calls are retried with exponential backoff on UNAVAILABLE (the
server answers UNAVAILABLE only when nothing was committed, so a retry is safe). Streaming calls are
not retried here: the SDK's senders resume them from their own checkpoints.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import grpc

from strata.errors import StrataError
from strata.iam.v1 import iam_service_pb2_grpc
from strata.ingest.v1 import ingest_service_pb2_grpc
from strata.lineage.v1 import lineage_service_pb2_grpc
from strata.query.v1 import query_service_pb2_grpc
from strata.registry.v1 import registry_service_pb2_grpc

DEFAULT_ADDR = "127.0.0.1:50051"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter."""

    max_attempts: int = 6
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    retryable: frozenset[grpc.StatusCode] = field(
        default_factory=lambda: frozenset({grpc.StatusCode.UNAVAILABLE})
    )

    def delays(self) -> Iterator[float]:
        backoff = self.initial_backoff
        for _ in range(self.max_attempts - 1):
            yield random.uniform(0, backoff)
            backoff = min(self.max_backoff, backoff * self.multiplier)


NO_RETRY = RetryPolicy(max_attempts=1)

S = TypeVar("S")


def resolve_addr(addr: str | None) -> str:
    return addr or os.environ.get("STRATA_ADDR") or DEFAULT_ADDR


def resolve_api_key(api_key: str | None, addr: str | None = None) -> str | None:
    """The key to send: `api_key` ("" for none), else $STRATA_API_KEY, else the one `strata login`
    stored for this server address."""
    if api_key is not None:
        return api_key or None
    if os.environ.get("STRATA_API_KEY"):
        return os.environ["STRATA_API_KEY"]
    from strata._settings import stored_api_key  # written by `strata login`

    return stored_api_key(resolve_addr(addr))


def channel_options() -> list[tuple[str, Any]]:
    return [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 0),
        ("grpc.enable_retries", 0),  # retries are ours (RetryPolicy), with StrataError semantics
    ]


class _Method:
    def __init__(self, client: Client, name: str, fn: Any) -> None:
        self._client, self._name, self._fn = client, name, fn
        self._streaming_response = isinstance(
            fn, (grpc.UnaryStreamMultiCallable, grpc.StreamStreamMultiCallable)
        )
        self._streaming_request = isinstance(
            fn, (grpc.StreamUnaryMultiCallable, grpc.StreamStreamMultiCallable)
        )

    def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str]] | None = None,
        retry: RetryPolicy | None = None,
    ) -> Any:
        md = self._client.call_metadata(metadata)
        timeout = self._client.timeout if timeout is None else timeout
        if self._streaming_response:
            return _wrap_stream(self._fn(request, timeout=timeout, metadata=md))
        if self._streaming_request:
            retry = NO_RETRY
        policy = retry or self._client.retry
        delays = policy.delays()
        while True:
            try:
                return self._fn(request, timeout=timeout, metadata=md)
            except grpc.RpcError as e:
                err = StrataError.from_rpc_error(e)
                delay = next(delays, None) if err.code in policy.retryable else None
                if delay is None:
                    raise err from None
                time.sleep(max(delay, err.retry_delay or 0.0))


def _wrap_stream(responses: Any) -> Iterator[Any]:
    try:
        yield from responses
    except grpc.RpcError as e:
        raise StrataError.from_rpc_error(e) from None
    finally:
        if hasattr(responses, "cancel"):
            responses.cancel()


class Service(Generic[S]):
    """A service's stub whose methods convert errors and apply the client's defaults."""

    def __init__(self, client: Client, stub: S) -> None:
        self._client, self._stub = client, stub

    def __getattr__(self, name: str) -> _Method:
        fn = getattr(self._stub, name)
        method = _Method(self._client, name, fn)
        setattr(self, name, method)
        return method


class Client:
    """Synchronous client for all Strata services over one channel."""

    def __init__(
        self,
        addr: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        tls: bool | None = None,
        tls_ca: str | Path | None = None,
    ) -> None:
        self.addr = resolve_addr(addr)
        self.api_key = resolve_api_key(api_key, self.addr)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        ca = tls_ca if tls_ca is not None else (os.environ.get("STRATA_TLS_CA") or None)
        use_tls = (
            tls if tls is not None else (ca is not None or os.environ.get("STRATA_TLS", "") in {"1", "true"})
        )
        if use_tls:
            roots = Path(ca).read_bytes() if ca is not None else None  # None: the system's roots
            self.channel = grpc.secure_channel(
                self.addr, grpc.ssl_channel_credentials(root_certificates=roots), options=channel_options()
            )
        else:
            self.channel = grpc.insecure_channel(self.addr, options=channel_options())
        self.ingest: Any = Service(self, ingest_service_pb2_grpc.IngestServiceStub(self.channel))
        self.registry: Any = Service(self, registry_service_pb2_grpc.RegistryServiceStub(self.channel))
        self.lineage: Any = Service(self, lineage_service_pb2_grpc.LineageServiceStub(self.channel))
        self.query: Any = Service(self, query_service_pb2_grpc.QueryServiceStub(self.channel))
        self.iam: Any = Service(self, iam_service_pb2_grpc.IamServiceStub(self.channel))

    def call_metadata(self, extra: Sequence[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
        md = [("authorization", f"Bearer {self.api_key}")] if self.api_key else []
        return md + list(extra or ())

    def wait_ready(self, timeout: float = 10.0) -> None:
        grpc.channel_ready_future(self.channel).result(timeout=timeout)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
