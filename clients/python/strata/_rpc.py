"""How one call of the low-level client runs: defaults, retries and error conversion.

The generated typed wrappers (`strata/<package>/v1/*_service_client.py`, written by `make proto`) call
these four functions, one per call shape, so every RPC behaves the same way:
  * keyword-only `timeout` (default: the client's), `metadata` (added after the API key) and `retry`;
  * unary calls retry with exponential backoff and full jitter on UNAVAILABLE (the server answers
    UNAVAILABLE only when nothing was committed, so a retry is safe), waiting at least the server's
    RetryInfo delay; likewise on RESOURCE_EXHAUSTED with reason TOO_MANY_CONCURRENT_CALLS (the
    server's per-caller limit refuses such a call before its handler runs);
  * client-streaming calls are never retried (their requests are consumed once); server-streaming
    calls are not retried either: the SDK's senders resume them from their own checkpoints;
  * every failure surfaces as `strata.errors.StrataError`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import grpc

from strata.errors import StrataError

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Metadata = Sequence[tuple[str, str]]
CallMetadata = tuple[tuple[str, str], ...]


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
    #: reasons that make a call retryable whatever its code: refusals made before any work was done
    retryable_reasons: frozenset[str] = frozenset({"TOO_MANY_CONCURRENT_CALLS"})

    def retries(self, err: StrataError) -> bool:
        return err.code in self.retryable or err.reason in self.retryable_reasons

    def delays(self) -> Iterator[float]:
        backoff = self.initial_backoff
        for _ in range(self.max_attempts - 1):
            yield random.uniform(0, backoff)
            backoff = min(self.max_backoff, backoff * self.multiplier)


NO_RETRY = RetryPolicy(max_attempts=1)


class CallDefaults(Protocol):
    """What the wrappers need from `strata.client.Client`: its channel and per-call defaults."""

    channel: grpc.Channel
    timeout: float
    retry: RetryPolicy

    def call_metadata(self, extra: Metadata | None = None) -> CallMetadata: ...


def unary_unary(
    defaults: CallDefaults,
    fn: grpc.UnaryUnaryMultiCallable[Req, Resp],
    request: Req,
    timeout: float | None,
    metadata: Metadata | None,
    retry: RetryPolicy | None,
) -> Resp:
    md, deadline = defaults.call_metadata(metadata), _timeout(defaults, timeout)
    return _with_retry(lambda: fn(request, timeout=deadline, metadata=md), retry or defaults.retry)


def stream_unary(
    defaults: CallDefaults,
    fn: grpc.StreamUnaryMultiCallable[Req, Resp],
    requests: Iterable[Req],
    timeout: float | None,
    metadata: Metadata | None,
    retry: RetryPolicy | None,
) -> Resp:
    """`retry` is accepted for a uniform signature and ignored: the requests are consumed once."""
    md, deadline = defaults.call_metadata(metadata), _timeout(defaults, timeout)
    return _with_retry(lambda: fn(iter(requests), timeout=deadline, metadata=md), NO_RETRY)


def unary_stream(
    defaults: CallDefaults,
    fn: grpc.UnaryStreamMultiCallable[Req, Resp],
    request: Req,
    timeout: float | None,
    metadata: Metadata | None,
    retry: RetryPolicy | None,
) -> Iterator[Resp]:
    """`retry` is ignored: a stream is resumed by its caller, which knows where it stopped."""
    md, deadline = defaults.call_metadata(metadata), _timeout(defaults, timeout)
    return _wrap_stream(fn(request, timeout=deadline, metadata=md))


def stream_stream(
    defaults: CallDefaults,
    fn: grpc.StreamStreamMultiCallable[Req, Resp],
    requests: Iterable[Req],
    timeout: float | None,
    metadata: Metadata | None,
    retry: RetryPolicy | None,
) -> Iterator[Resp]:
    """`retry` is ignored, as for `unary_stream`."""
    md, deadline = defaults.call_metadata(metadata), _timeout(defaults, timeout)
    return _wrap_stream(fn(iter(requests), timeout=deadline, metadata=md))


def _timeout(defaults: CallDefaults, timeout: float | None) -> float:
    return defaults.timeout if timeout is None else timeout


def _with_retry(call: Callable[[], Resp], policy: RetryPolicy) -> Resp:
    delays = policy.delays()
    while True:
        try:
            return call()
        except grpc.RpcError as e:
            err = StrataError.from_rpc_error(e)
            delay = next(delays, None) if policy.retries(err) else None
            if delay is None:
                raise err from None
            time.sleep(max(delay, err.retry_delay or 0.0))


def _wrap_stream(responses: Iterator[Resp]) -> Iterator[Resp]:
    try:
        yield from responses
    except grpc.RpcError as e:
        raise StrataError.from_rpc_error(e) from None
    finally:
        cancel = getattr(responses, "cancel", None)
        if cancel is not None:
            cancel()
