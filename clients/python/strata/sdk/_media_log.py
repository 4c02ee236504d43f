"""The background side of rich values in run.log: encode, spool, upload, index.

run.log checks a rich value in the caller's thread and puts it on a bounded queue (STRATA_MEDIA_QUEUE
values in the queue or being encoded, default 500; each holds its private copy, e.g. an image's
pixels, so the bound is one on memory too). When the queue is full, run.log waits up to
STRATA_MEDIA_QUEUE_TIMEOUT seconds (default 10) for room, then drops that value with a warning:
training never fails because media cannot keep up, and the metric stream is never held back by it.

The encoder thread encodes each value (PNG, JSON), writes its bytes to the spool as
`media/blobs/<sha256>` and appends its index entry to `media/index.log` (checksummed records, the
metric spool's format), fsynced like the metric spool (a group commit: up to 64 values at a time);
from then on the value survives a crash of the process. The uploader thread (online runs) sends spooled entries in groups: the blobs through the
ordinary upload engine (strata.sdk.transfer: only what the project lacks moves, small blobs batched
with BatchUploadBlobs), then AddMediaEntries. The server keeps an entry already stored as it is, so
`strata sync` of the same spool simply sends everything again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

from strata.client import Client
from strata.common.v1 import blob_pb2
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import media_pb2

from . import transfer
from ._spool import encode_record, fsync_path, read_records
from .media import MAX_IMAGE_BYTES, Media

MEDIA = 5  # record type of an index entry in media/index.log
GROUP = 1000  # entries per upload round / AddMediaEntries call
ENCODE_GROUP = 64  # values encoded, then made durable together
FSYNC_THREADS = 16
UPLOAD_GATHER = 0.1  # seconds the uploader lets entries gather before a round
GROUP_BYTES = 4 * 1024 * 1024  # metadata bytes per AddMediaEntries call
RETRY = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED)

Item = tuple[str, int, int, Media]  # key, step, index, value


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _fsync_pool() -> ThreadPoolExecutor:
    """Threads for group commits: fsyncs issued together cost the disk far less than one by one."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(FSYNC_THREADS, thread_name_prefix="strata-media-fsync")
        return _pool


def queue_size() -> int:
    return max(1, int(os.environ.get("STRATA_MEDIA_QUEUE", "500")))


def queue_timeout() -> float:
    return float(os.environ.get("STRATA_MEDIA_QUEUE_TIMEOUT", "10"))


class MediaLogger:
    """One run's media pipeline (see the module docstring). `put` is called under run.log's lock."""

    def __init__(
        self,
        client: Client | None,
        run_name: str,
        parent: str,
        spool_dir: Path,
        *,
        fsync: bool,
        warn: Callable[[str], None],
    ) -> None:
        self.client, self.run_name, self.parent = client, run_name, parent
        self.dir = spool_dir / "media"
        self.blobs = self.dir / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.fsync, self.warn = fsync, warn
        # a deque and two counters rather than queue.Queue: run.log takes no lock the encoder holds.
        # In the queue or being encoded: queued - spooled (queued is written under run.log's lock,
        # spooled by the encoder thread only); at most `capacity`.
        self._items: deque[Item] = deque()
        self.capacity = queue_size()
        self._wake = threading.Event()  # set by put: values to encode
        self._progress = threading.Event()  # set by the encoder after each group: room in the queue
        self._closing = False
        self._deadline: float | None = None  # set by close(): retries stop there
        self.queued = 0
        self.spooled = 0  # values encoded and durable in the spool (or given up on)
        self._index = open(self.dir / "index.log", "ab")  # closed by close()
        self._pending: list[media_pb2.MediaEntry] = []
        self._lock = threading.Condition()
        self._encoding_done = False
        self.dropped = 0
        self.delivered = 0
        self.failed = False  # an entry could not be delivered (kept in the spool for `strata sync`)
        self._encoder = threading.Thread(target=self._encode_loop, name="strata-media-encoder", daemon=True)
        self._encoder.start()
        self._uploader: threading.Thread | None = None
        if client is not None:
            self._uploader = threading.Thread(
                target=self._upload_loop, name="strata-media-upload", daemon=True
            )
            self._uploader.start()

    # --- the caller's side ---

    def put(self, key: str, step: int, values: Sequence[Media]) -> None:
        for index, value in enumerate(values):
            if self.queued - self.spooled >= self.capacity and not self._wait_for_room():
                self.dropped += 1
                self.warn(
                    f"media queue full for {queue_timeout():.0f}s: dropped {key!r} at step {step} "
                    f"({self.dropped} dropped so far; STRATA_MEDIA_QUEUE sets the queue's length)"
                )
                continue
            self._items.append((key, step, index, value))
            self.queued += 1
        if not self._wake.is_set():
            self._wake.set()

    def _wait_for_room(self) -> bool:
        """The back-pressure: wait up to STRATA_MEDIA_QUEUE_TIMEOUT seconds for the encoder to make
        room; False when there is none by then."""
        self._wake.set()
        deadline = time.monotonic() + queue_timeout()
        while True:
            self._progress.clear()
            if self.queued - self.spooled < self.capacity:
                return True
            left = deadline - time.monotonic()
            if left <= 0 or not self._encoder.is_alive():
                return False
            self._progress.wait(min(left, 0.05))

    def close(self, timeout: float) -> bool:
        """Encode and spool everything queued, then (online) deliver it; True when all was delivered."""
        deadline = time.monotonic() + timeout
        self._deadline = deadline
        self._closing = True
        self._wake.set()
        self._encoder.join(max(0.0, deadline - time.monotonic()))
        if self._uploader is not None:
            self._uploader.join(max(0.0, deadline - time.monotonic()))
        self._index.close()
        with self._lock:
            return not self._pending and not self.failed and not self._encoder.is_alive()

    def wait_spooled(self, timeout: float = 60.0) -> bool:
        """Block until every value queued so far is encoded and in the spool."""
        target = self.queued
        deadline = time.monotonic() + timeout
        while self.spooled < target and time.monotonic() < deadline and self._encoder.is_alive():
            time.sleep(0.005)
        return self.spooled >= target

    # --- the encoder thread ---

    def _encode_loop(self) -> None:
        while True:
            if not self._items:
                if self._closing:
                    break
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            group = [self._items.popleft() for _ in range(min(ENCODE_GROUP, len(self._items)))]
            try:
                self._encode_group(group)
            finally:
                self.spooled += len(group)
                self._progress.set()
        with self._lock:
            self._encoding_done = True
            self._lock.notify_all()

    def _encode_group(self, group: list[Item]) -> None:
        """Encode a group, write its blobs, then make blobs and index records durable together
        (group commit: parallel fsyncs of the new blobs, one of the index)."""
        entries, written = [], []
        for key, step, index, value in group:
            try:
                entry, path = self._encode_one(key, step, index, value)
            except Exception as e:  # one bad value must not stop the others
                self.warn(f"could not encode the value logged under {key!r}: {e!r}")
                continue
            if entry is not None:
                entries.append(entry)
            if path is not None:
                written.append(path)
        if self.fsync and written:
            list(_fsync_pool().map(fsync_path, written))
            fsync_path(self.blobs)
        for entry in entries:
            self._index.write(encode_record(MEDIA, entry.SerializeToString()))
        self._index.flush()
        if self.fsync:
            os.fsync(self._index.fileno())
        with self._lock:
            self._pending += entries
            self._lock.notify_all()

    def _encode_one(
        self, key: str, step: int, index: int, value: Media
    ) -> tuple[media_pb2.MediaEntry | None, Path | None]:
        encoded = value.encode()
        if encoded.type == media_pb2.MEDIA_TYPE_IMAGE and len(encoded.data) > MAX_IMAGE_BYTES:
            self.warn(f"image under {key!r} at step {step} is {len(encoded.data)} bytes encoded: not stored")
            return None, None
        sha = hashlib.sha256(encoded.data).hexdigest()
        entry = media_pb2.MediaEntry(
            key=key,
            step=step,
            index=index,
            type=encoded.type,  # type: ignore[arg-type]
            blob=blob_pb2.BlobDigest(sha256=sha, size=len(encoded.data)),
            metadata_json=json.dumps(encoded.metadata, separators=(",", ":")),
        )
        return entry, self._store_blob(sha, encoded.data)

    def _store_blob(self, sha: str, data: bytes) -> Path | None:
        """Write the blob (not fsynced here); None when it is there already."""
        path = self.blobs / sha
        if path.exists():
            return None
        tmp = path.with_name(f".{sha}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    # --- the uploader thread ---

    def _upload_loop(self) -> None:
        assert self.client is not None
        backoff = 0.5
        while True:
            with self._lock:
                while not self._pending and not self._encoding_done:
                    self._lock.wait(0.5)
                if not self._pending:
                    return
            if len(self._pending) < GROUP and not self._encoding_done:
                time.sleep(UPLOAD_GATHER)  # fewer, fuller rounds: each costs a few round trips
            with self._lock:
                group = self._pending[:GROUP]
            try:
                deliver(self.client, self.run_name, self.parent, group, self.blobs, warn=self.warn)
                backoff = 0.5
            except StrataError as e:
                if e.code in RETRY and (self._deadline is None or time.monotonic() < self._deadline):
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                self.failed = True
                self.warn(f"media not delivered ({e}); they stay in the spool for `strata sync`")
                return
            with self._lock:
                del self._pending[: len(group)]
                self.delivered += len(group)


def deliver(
    client: Client,
    run_name: str,
    parent: str,
    entries: Sequence[media_pb2.MediaEntry],
    blob_dir: Path,
    *,
    warn: Callable[[str], None],
) -> int:
    """Upload the entries' blobs (only what the project lacks) and add the entries; an entry the
    server refuses for good (INVALID_ARGUMENT) is reported and skipped. Returns how many were new."""
    shas = sorted({e.blob.sha256 for e in entries})
    transfer.upload_files(client, parent, [(sha, blob_dir / sha) for sha in shas], progress=False)
    added = 0
    for chunk in _chunks(entries):
        try:
            added += client.ingest.AddMediaEntries(
                pb.AddMediaEntriesRequest(run=run_name, entries=chunk), timeout=60
            ).added
        except StrataError as e:
            if e.code != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            added += _one_by_one(client, run_name, chunk, warn)
    return added


def _one_by_one(
    client: Client, run_name: str, chunk: list[media_pb2.MediaEntry], warn: Callable[[str], None]
) -> int:
    added = 0
    for entry in chunk:
        try:
            request = pb.AddMediaEntriesRequest(run=run_name, entries=[entry])
            added += client.ingest.AddMediaEntries(request, timeout=60).added
        except StrataError as e:
            if e.code != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            warn(f"the server refused the value under {entry.key!r} at step {entry.step}: {e}")
    return added


def _chunks(entries: Sequence[media_pb2.MediaEntry]) -> list[list[media_pb2.MediaEntry]]:
    out: list[list[media_pb2.MediaEntry]] = [[]]
    size = 0
    for e in entries:
        n = len(e.metadata_json) + 200
        if out[-1] and (len(out[-1]) >= GROUP or size + n > GROUP_BYTES):
            out.append([])
            size = 0
        out[-1].append(e)
        size += n
    return [c for c in out if c]


def spooled_entries(spool_dir: Path) -> list[media_pb2.MediaEntry]:
    """The index entries a spool holds (up to a torn tail)."""
    return [
        media_pb2.MediaEntry.FromString(payload)
        for kind, payload, _ in read_records(spool_dir / "media" / "index.log")
        if kind == MEDIA
    ]


def deliver_spool(
    client: Client, run_name: str, parent: str, spool_dir: Path, warn: Callable[[str], None]
) -> int:
    """`strata sync`: deliver every spooled media value of a spool (idempotent)."""
    entries = spooled_entries(spool_dir)
    blob_dir = spool_dir / "media" / "blobs"
    added = 0
    for i in range(0, len(entries), GROUP):
        added += deliver(client, run_name, parent, entries[i : i + GROUP], blob_dir, warn=warn)
    return added
