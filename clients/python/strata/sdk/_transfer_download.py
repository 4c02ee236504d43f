"""The download engine: resumable, verified, atomic fetches of one blob into one destination.

The bytes go to a temp file next to the destination (".<name>.<sha256[:16]>.strata-partial", so any
later process resumes it). After a cut the fetch continues from the temp file's length, hashing what
is already there first. At the end the sha256 must match: a corrupt or tampered temp file is thrown
away and fetched once more from zero; only a verified file is renamed (atomically) onto the
destination, so the destination never holds a truncated or corrupt file. An exclusive lock on the temp
file keeps two processes downloading the same file to the same place from interleaving.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, Protocol

import grpc
from google.protobuf.message import Message

from strata.client import Client
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as ingest_pb
from strata.registry.v1 import registry_service_pb2 as registry_pb

from ._transfer_common import Retrier, bulk_unary_stream, hash_prefix, stream_timeout
from ._transfer_progress import Progress

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process lock on the temp file
    fcntl = None  # type: ignore[assignment]  # reason: typeshed has no "module or None"

PARTIAL_SUFFIX = ".strata-partial"
READ_BLOB = "/strata.registry.v1.RegistryService/ReadBlob"
READ_RUN_FILE = "/strata.ingest.v1.IngestService/ReadRunFile"
PIPELINE_MIN = 8 * 1024 * 1024  # below this, a second thread costs more than it saves


class Source(Protocol):
    """Where a blob's bytes come from: a server-streaming read from an offset."""

    def read(self, offset: int, length: int) -> Iterator[tuple[int, memoryview]]: ...


@dataclass(frozen=True)
class RpcBlob:
    """A blob's bytes from a server-streaming read RPC (ReadBlob, ReadRunFile, ReadMedia): a Source.
    `request` builds the RPC's request naming the blob, given the range (offset=, length=)."""

    client: Client
    method: str
    request: Callable[..., Message]

    def read(self, offset: int, length: int) -> Iterator[tuple[int, memoryview]]:
        req = self.request(offset=offset, length=length)
        return bulk_unary_stream(self.client, self.method, req, stream_timeout(length))


def version_blob(client: Client, version: str, sha256: str) -> RpcBlob:
    """A blob read through an artifact version (or draft) whose manifest lists it (ReadBlob)."""
    return RpcBlob(client, READ_BLOB, partial(registry_pb.ReadBlobRequest, version=version, sha256=sha256))


def run_file_blob(client: Client, run: str, path: str) -> RpcBlob:
    """A run's file (ReadRunFile)."""
    return RpcBlob(client, READ_RUN_FILE, partial(ingest_pb.ReadRunFileRequest, run=run, path=path))


def partial_path(dest: Path, sha256: str) -> Path:
    return dest.with_name(f".{dest.name}.{sha256[:16]}{PARTIAL_SUFFIX}")


def fetch(source: Source, sha256: str, size: int, dest: Path, progress: Progress, retrier: Retrier) -> Path:
    """Download into `dest` (resuming a temp file left by an earlier attempt) and verify it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(dest, sha256)
    with open(tmp, "a+b") as f:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        if not tmp.exists():  # finished by another process while we waited for the lock
            return dest
        resumed = f.seek(0, os.SEEK_END) > 0
        for _attempt in range(2):
            have = f.seek(0, os.SEEK_END)
            if have > size:
                f.truncate(0)
                have = 0
            h = hash_prefix(f, have)
            progress.update(have)
            _stream_into(f, h, have, size, source, progress, retrier)
            if h.hexdigest() == sha256:
                break
            f.truncate(0)  # corrupt or tampered partial file: fetch everything once more
            progress.update(-size)
        else:
            raise StrataError(
                grpc.StatusCode.DATA_LOSS,
                Reason.DIGEST_MISMATCH,
                f"downloaded bytes for {dest} do not match sha256 {sha256} (twice)",
            )
        os.replace(tmp, dest)
    if resumed:  # a cut happened here before: partial files of other versions may be lying around too
        _drop_stale_partials(dest)
    return dest


def _stream_into(
    f: BinaryIO, h: hashlib._Hash, have: int, size: int, source: Source, progress: Progress, retrier: Retrier
) -> None:
    """Append [have, size) to f, hashing as we go; resumes after cuts while they make progress.
    Large remainders are written and hashed on a second thread, overlapping the network."""
    sink = _Sink(f, h, threaded=size - have >= PIPELINE_MIN)
    try:
        while have < size:
            start = have
            try:
                for offset, data in source.read(have, size - have):
                    if offset != have:
                        raise StrataError(
                            grpc.StatusCode.DATA_LOSS,
                            Reason.INTERNAL,
                            f"server sent offset {offset}, expected {have}",
                        )
                    sink.put(data)
                    have += len(data)
                    progress.update(len(data))
                if have < size:
                    raise StrataError(
                        grpc.StatusCode.UNAVAILABLE, Reason.BACKEND_UNAVAILABLE, "stream ended early"
                    )
            except StrataError as e:
                if have > start:
                    retrier.made_progress()
                retrier.backoff(e)
    finally:
        sink.close()


class _Sink:
    """Writes and hashes received pieces in order, inline or on its own thread (bounded queue)."""

    def __init__(self, f: BinaryIO, h: hashlib._Hash, *, threaded: bool) -> None:
        self.f, self.h = f, h
        self.error: BaseException | None = None
        self.queue: queue.Queue[memoryview | None] | None = None
        if threaded:
            self.queue = queue.Queue(maxsize=16)
            self.thread = threading.Thread(target=self._run, name="strata-download-sink", daemon=True)
            self.thread.start()

    def _write(self, data: memoryview) -> None:
        self.f.write(data)
        self.h.update(data)

    def _run(self) -> None:
        assert self.queue is not None
        while (data := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self._write(data)
                except BaseException as e:
                    self.error = e

    def put(self, data: memoryview) -> None:
        if self.error is not None:
            raise self.error
        if self.queue is None:
            self._write(data)
        else:
            self.queue.put(data)

    def close(self) -> None:
        if self.queue is not None:
            self.queue.put(None)
            self.thread.join()
            self.queue = None
        self.f.flush()
        if self.error is not None:
            raise self.error


def _drop_stale_partials(dest: Path) -> None:
    """Partial files of earlier versions of this destination are useless once it is complete."""
    prefix = f".{dest.name}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(dest.parent):
            if entry.name.startswith(prefix) and entry.name.endswith(PARTIAL_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
