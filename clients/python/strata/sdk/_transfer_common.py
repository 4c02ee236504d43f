"""Pieces shared by uploads and downloads: safe relative paths, hashing, retries that resume."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

import grpc
from google.protobuf.message import Message

from strata.client import Client, RetryPolicy
from strata.errors import Reason, StrataError
from strata.wire.paths import path_problem, printable
from strata.wire.transfer import decode_read_response

T = TypeVar("T")
Resp = TypeVar("Resp")

MiB = 1024 * 1024
HASH_BUFFER = 8 * MiB

# Errors after which a transfer resumes from what is durable: the server or the object store blipped,
# the connection was cut, or a newer stream of the same upload took over (ABORTED).
RESUMABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
    }
)


def safe_relative_path(path: str, field: str = "path") -> str:
    """Check a logical path (in a run or a manifest) against the rule the server applies
    (strata.wire.paths). Raises StrataError INVALID_ARGUMENT: FIELD_REQUIRED when empty, else UNSAFE_PATH."""
    problem = path_problem(path)
    if problem is None:
        return path
    reason = Reason.FIELD_REQUIRED if not path else Reason.UNSAFE_PATH
    message = f"{field} '{printable(path, 200)}' {problem}"
    raise StrataError(grpc.StatusCode.INVALID_ARGUMENT, reason, message, field=field)


class DownloadIncomplete(StrataError):
    """Some files of a download failed and every other file was downloaded. `.failures` holds
    (path, error) for each failed path, `.root` the target folder. `code`, `reason` and `field` are
    those of the first failure that came from Strata (a refused path is INVALID_ARGUMENT /
    UNSAFE_PATH); when every failure is local (the file system refused a name, the disk is full) they
    are UNKNOWN / INTERNAL. The message names each failed path, escaped for a terminal."""

    def __init__(self, root: Path, failures: Sequence[tuple[str, BaseException]]) -> None:
        rpc = [e for _, e in failures if isinstance(e, StrataError)]
        code, reason, field = (
            (rpc[0].code, rpc[0].reason, rpc[0].field)
            if rpc
            else (grpc.StatusCode.UNKNOWN, Reason.INTERNAL, None)
        )
        lines = [f"{len(failures)} file(s) not downloaded into {root}:"]
        lines += [f"  '{printable(path, 200)}': {printable(_short(e), 300)}" for path, e in failures]
        super().__init__(code, reason, "\n".join(lines), field=field)
        self.root = root
        self.failures = list(failures)


def _short(error: BaseException) -> str:
    if isinstance(error, StrataError):
        return f"{error.reason}: {error.message}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return f"{type(error).__name__}: {error}"


def hash_file(path: str | Path) -> tuple[str, int]:
    """(lowercase hex sha256, size) of a file. Files under 8 MiB are read in one call; larger ones in
    8 MiB blocks through one buffer (hashlib releases the GIL, so several files hash in parallel on
    several cores). Allocating (and zeroing) the 8 MiB buffer for every small file used to cost more
    than hashing it: ~170 µs per file, 1.7 s for 10,000 small files."""
    with open(path, "rb", buffering=0) as f:
        if os.fstat(f.fileno()).st_size < HASH_BUFFER:
            data = f.readall()  # to EOF, even if the file grew since fstat
            return hashlib.sha256(data).hexdigest(), len(data)
        h = hashlib.sha256()
        size = 0
        buf = bytearray(HASH_BUFFER)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


def hash_files(paths: Sequence[Path]) -> list[tuple[str, int]]:
    """hash_file of several files in one task (one thread-pool hop for many small files)."""
    return [hash_file(p) for p in paths]


def hash_prefix(f: BinaryIO, length: int) -> hashlib._Hash:
    """sha256 of the first `length` bytes of an open binary file (a partial download)."""
    h = hashlib.sha256()
    f.seek(0)
    remaining = length
    while remaining > 0:
        block = f.read(min(HASH_BUFFER, remaining))
        if not block:
            break
        h.update(block)
        remaining -= len(block)
    return h


class Retrier:
    """Backoff between attempts of a resumable transfer, from the client's RetryPolicy. The budget
    restarts whenever an attempt made progress, so a long transfer over a flaky link keeps going
    while a dead server still fails after the policy's attempts."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._delays: Iterator[float] = policy.delays()

    def made_progress(self) -> None:
        self._delays = self.policy.delays()

    def backoff(self, err: StrataError) -> None:
        """Sleep before the next attempt, or re-raise `err` when it is final or the budget is spent."""
        if err.code not in RESUMABLE:
            raise err
        delay = next(self._delays, None)
        if delay is None:
            raise err
        time.sleep(max(delay, err.retry_delay or 0.0))


def stream_timeout(remaining_bytes: int) -> float:
    """Deadline of one transfer stream: generous (1 MB/s floor); dead connections are found by
    keepalive long before it."""
    return 120.0 + remaining_bytes / 1e6


def bulk_stream_unary(
    client: Client,
    method: str,
    requests: Iterator[bytes],
    response_deserializer: Callable[[bytes], Resp],
    timeout: float,
) -> Resp:
    """A client-streaming call whose requests are already encoded (strata.wire.transfer)."""
    call: grpc.StreamUnaryMultiCallable[bytes, Resp] = client.channel_for(method).stream_unary(
        method, request_serializer=None, response_deserializer=response_deserializer
    )
    try:
        return call(requests, timeout=timeout, metadata=client.call_metadata())
    except grpc.RpcError as e:
        raise StrataError.from_rpc_error(e) from None


def bulk_unary_stream(
    client: Client, method: str, request: Message, timeout: float
) -> Iterator[tuple[int, memoryview]]:
    """A server-streaming read whose (offset, data) responses are decoded without copying the data."""
    call = client.channel_for(method).unary_stream(
        method, request_serializer=type(request).SerializeToString, response_deserializer=decode_read_response
    )
    responses = call(request, timeout=timeout, metadata=client.call_metadata())
    try:
        yield from responses
    except grpc.RpcError as e:
        raise StrataError.from_rpc_error(e) from None
    finally:
        responses.cancel()


def packed(
    items: Iterable[T], size_of: Callable[[T], int], max_items: int, max_bytes: int
) -> Iterator[list[T]]:
    """Consecutive items in batches of at most max_items and max_bytes (an item larger than max_bytes
    goes alone); the batching of hashing, small uploads and batched reads."""
    batch: list[T] = []
    nbytes = 0
    for item in items:
        size = size_of(item)
        if batch and (len(batch) >= max_items or nbytes + size > max_bytes):
            yield batch
            batch, nbytes = [], 0
        batch.append(item)
        nbytes += size
    if batch:
        yield batch
