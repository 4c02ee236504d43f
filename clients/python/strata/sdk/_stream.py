"""Delivering metric batches over StreamMetrics, exactly once, across reconnects.

`Window` holds the batches that are produced but not yet acknowledged (in memory up to a bound,
otherwise read back from the spool). `BatchStreamer` is a thread that opens the stream, learns the
server's committed sequence, sends everything after it (at most MAX_INFLIGHT unacknowledged messages on
the wire), and drops batches as acks arrive. The producer spools a small batch every flush; when
several are waiting (the server is slower than the flushes, or `strata sync` replays a spool) they go
as ONE message carrying their sequence range (MetricBatch.last_sequence), so a busy server gets fewer,
bigger messages while the spool keeps every flush. A refused merged message is sent again batch by
batch, so the refusal names the one batch at fault. When the connection or the server's database fails, it
backs off (full jitter, capped) and opens the stream again: the server tells it where to resume and
ignores batches it already committed. A batch the server refuses for good (or keeps failing on,
alone) is quarantined: replaced by an empty batch of the same sequence, with a warning, so one poison
batch never blocks the points after it.
"""

from __future__ import annotations

import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import numpy as np

from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.sdk._spool import read_at
from strata.sdk._wire import batch_request, encode_batch, merge_batches

if TYPE_CHECKING:
    from strata.client import Client

METHOD = "/strata.ingest.v1.IngestService/StreamMetrics"
MAX_INFLIGHT = 4  # unacknowledged messages; batches produced meanwhile are merged into the next one
MERGE_BYTES = 1 << 20  # a merged message stays under ~1 MB (~50,000 points; the server takes 100,000)
MERGE_BATCHES = 10_000  # and carries at most this many batches (the server takes ranges of 100,000)
MAX_MEMORY_BYTES = 256 * 1024 * 1024
# The server or the network is busy or away: retried without limit, with backoff.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)
# A failure that names no culprit, possibly a batch the server can never commit (a server bug):
# retried MAX_SERVER_ERRORS times, the suspect batch alone on the wire after the first, then that
# batch is quarantined. Failures before any batch was sent stop the stream instead.
SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DATA_LOSS,
    }
)
MAX_SERVER_ERRORS = 5
# About the caller or the run, not a batch: the stream stops; the spool keeps every batch for
# `strata sync`. Any other code (INVALID_ARGUMENT, OUT_OF_RANGE, ...) answering a batch quarantines it.
STOP_CODES = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


def empty_batch(seq: int) -> bytes:
    """A batch without points: it only moves the stream's high-water mark."""
    empty = np.empty(0)
    return encode_batch(seq, [], empty, empty, empty, empty)


class Window:
    """Produced-but-unacknowledged batches, shared by the producer and the streamer."""

    def __init__(self, acked: int = 0) -> None:
        self.cond = threading.Condition()
        self._entries: dict[int, tuple[bytes | None, Path | None, int, int]] = {}
        self.produced = acked
        self.acked = acked
        self.closed = False
        self.committed_points = 0
        self._memory = 0
        self.on_ack: Callable[[int], None] | None = None  # e.g. delete acknowledged spool segments

    def add(self, seq: int, payload: bytes | None, where: tuple[Path, int] | None, points: int) -> None:
        """Add batch `seq`; its payload stays in memory within MAX_MEMORY_BYTES, else it is read back
        from the spool (`where`) when sent."""
        with self.cond:
            keep = payload is not None and (where is None or self._memory + len(payload) <= MAX_MEMORY_BYTES)
            path, offset = where if where is not None else (None, 0)
            self._entries[seq] = (payload if keep else None, path, offset, points)
            if keep:
                self._memory += len(payload)  # type: ignore[arg-type]
            self.produced = seq
            self.cond.notify_all()

    def payload(self, seq: int) -> bytes:
        with self.cond:
            payload, path, offset, _ = self._entries[seq]
        if payload is None:
            assert path is not None
            payload = read_at(path, offset)
        return payload

    def replace(self, seq: int, payload: bytes) -> None:
        with self.cond:
            old = self._entries[seq][0]
            self._memory += len(payload) - (len(old) if old is not None else 0)
            self._entries[seq] = (payload, None, 0, 0)

    def ack(self, seq: int, committed_points: int | None = None) -> None:
        with self.cond:
            for s in range(self.acked + 1, seq + 1):
                entry = self._entries.pop(s, None)
                if entry is not None:
                    if entry[0] is not None:
                        self._memory -= len(entry[0])
            self.acked = max(self.acked, seq)
            if committed_points is not None:
                self.committed_points = committed_points
            self.cond.notify_all()
        if self.on_ack is not None:
            self.on_ack(seq)

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    @property
    def pending(self) -> tuple[int, int]:
        """(batches, points) not yet acknowledged."""
        with self.cond:
            return len(self._entries), sum(e[3] for e in self._entries.values())

    def drained(self) -> bool:
        return self.closed and self.acked >= self.produced


class BatchStreamer(threading.Thread):
    """Sends a Window's batches over StreamMetrics until the window is closed and drained."""

    def __init__(
        self,
        client: Client,
        run_name: str,
        stream_id: str,
        window: Window,
        *,
        on_rejected: Callable[[int, bytes], object] | None = None,
        warn: Callable[[str], None] = print,
        max_backoff: float = 5.0,
    ) -> None:
        super().__init__(name=f"strata-stream-{stream_id}", daemon=True)
        self.client, self.run_name, self.stream_id, self.window = client, run_name, stream_id, window
        self.on_rejected = on_rejected
        self.warn = warn
        self.max_backoff = max_backoff
        self.ack_timeout = float(os.environ.get("STRATA_ACK_TIMEOUT") or 120)
        self.reconnects = 0
        self.messages = 0  # messages sent (all sessions)
        self._sent_upto = 0  # highest sequence sent in the current session
        self._ranges: dict[int, int] = {}  # first -> last sequence of each message of this session
        self._single_until = 0  # send batch by batch (no merging) until this sequence is acknowledged
        self._peeked: tuple[int, bytes] | None = None  # (sequence, bytes) read but left for the next message
        self._suspect: tuple[int | None, int] = (None, 0)  # (batch, consecutive server errors)
        self._stopping = threading.Event()
        channel = client.channel_for(METHOD)
        self._call = channel.stream_stream(
            METHOD, request_serializer=lambda b: b, response_deserializer=pb.StreamMetricsResponse.FromString
        )

    def stop(self) -> None:
        self._stopping.set()
        with self.window.cond:
            self.window.cond.notify_all()

    def run(self) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            try:
                self._session()
                if self.window.drained():
                    return
                backoff = 0.05
            except StrataError as e:
                if not self._handle(e):
                    return
                self.reconnects += 1
                self._stopping.wait(random.uniform(backoff / 2, backoff))
                backoff = min(self.max_backoff, backoff * 2)

    def _handle(self, e: StrataError) -> bool:
        """True to reconnect, False to give up (the spool keeps the data for `strata sync`). Never
        retries forever on a code that says something is wrong with a batch."""
        if self._stopping.is_set():
            return False  # our own cancellation
        if e.code in RETRYABLE or e.reason == Reason.SEQUENCE_GAP:
            return True
        culprit = self.window.acked + 1 if self._sent_upto > self.window.acked else None
        merged_to = self._ranges.get(culprit, 0) if culprit is not None else 0
        if culprit is not None and merged_to > culprit and e.code not in STOP_CODES:
            # a merged message failed on what may be one batch's fault: its batches go one by one,
            # so the next failure names the batch (and only that one is retried alone or quarantined)
            self._single_until = max(self._single_until, merged_to)
            return True
        if e.code in SERVER_ERRORS and self._strike(culprit) < MAX_SERVER_ERRORS:
            return True
        if e.code in STOP_CODES or culprit is None:
            self.warn(f"metric stream stopped: {e}; the points stay in the spool for `strata sync`")
            return False
        self._quarantine(culprit, e)
        return True

    def _strike(self, seq: int | None) -> int:
        """Count consecutive server errors against the same oldest unacknowledged batch."""
        suspect, count = self._suspect
        self._suspect = (seq, count + 1 if suspect == seq else 1)
        return self._suspect[1]

    def _quarantine(self, seq: int, e: StrataError) -> None:
        self.warn(
            f"the server rejected metric batch {seq} ({e.code.name} {e.reason}: {e.message}); "
            "its points are dropped"
        )
        empty = empty_batch(seq)
        if self.on_rejected is not None:
            self.on_rejected(seq, empty)  # e.g. record the replacement in the spool
        self.window.replace(seq, empty)
        self._suspect = (None, 0)

    def _session(self) -> None:
        requests: queue.Queue[bytes | None] = queue.Queue()
        opening = pb.StreamMetricsRequest(open=pb.StreamOpen(run=self.run_name, stream_id=self.stream_id))
        requests.put(opening.SerializeToString())
        md = self.client.call_metadata()
        self._sent_upto = 0
        self._ranges = {}
        self._peeked = None  # a batch may have been replaced (quarantined) since it was read
        call = self._call(iter(requests.get, None), metadata=md)
        state: dict[str, object] = {"done": False, "error": None}
        reader = None
        try:
            try:
                opened = next(call).opened
            except grpc.RpcError as e:
                raise StrataError.from_rpc_error(e) from None
            except StopIteration:
                raise StrataError(
                    grpc.StatusCode.UNAVAILABLE, Reason.BACKEND_UNAVAILABLE, "stream closed"
                ) from None
            self.window.ack(opened.committed_sequence)
            reader = threading.Thread(target=self._read_acks, args=(call, state), daemon=True)
            reader.start()
            self._send(requests, opened.committed_sequence + 1, state)
            if self._stopping.is_set():
                call.cancel()  # stopped from outside (drained, or the caller gave up): do not wait
            reader.join()
        finally:
            requests.put(None)
            if not state["done"]:
                call.cancel()
            if reader is not None:
                reader.join(timeout=10)
        if state["error"] is not None:
            raise state["error"]  # type: ignore[misc]

    def _send(self, requests: queue.Queue[bytes | None], next_seq: int, state: dict[str, object]) -> None:
        w = self.window
        sent_at: dict[int, float] = {}
        while True:
            with w.cond:
                while not (state["done"] or self._stopping.is_set()):
                    self._forget_acked(sent_at, w.acked)
                    # a suspect batch (see SERVER_ERRORS) goes alone, so the server commits it alone
                    limit = 1 if self._suspect[0] == w.acked + 1 else MAX_INFLIGHT
                    if next_seq <= w.produced and len(sent_at) < limit:
                        break
                    if w.closed and next_seq > w.produced:
                        requests.put(None)  # half-close: the server commits what it has and ends the call
                        return
                    w.cond.wait(0.5)
                    self._check_progress(sent_at, w.acked)
                if state["done"] or self._stopping.is_set():
                    return
                alone = self._suspect[0] == w.acked + 1 or w.acked < self._single_until
                produced = next_seq if alone else w.produced
            last, payload = self._message(next_seq, produced)
            requests.put(batch_request(payload))
            self.messages += 1
            sent_at[next_seq] = time.monotonic()
            self._ranges[next_seq] = last
            self._sent_upto = last
            next_seq = last + 1

    def _message(self, first: int, produced: int) -> tuple[int, bytes]:
        """The next message: batch `first`, merged with the batches after it that are produced already
        (up to `produced`), as long as the message stays under MERGE_BYTES."""
        payloads = [self._payload(first)]
        size = len(payloads[0])
        last = first
        while last < produced and last - first + 1 < MERGE_BATCHES:
            after = self._payload(last + 1)
            if size + len(after) > MERGE_BYTES:
                self._peeked = (last + 1, after)  # the next message starts with it: read it once
                break
            payloads.append(after)
            size += len(after)
            last += 1
        if last == first:
            return first, payloads[0]
        return last, merge_batches(payloads, first, last)

    def _payload(self, seq: int) -> bytes:
        """Batch `seq`'s bytes: the one read last time and left out of its message, else the window's."""
        peeked, self._peeked = self._peeked, None
        return peeked[1] if peeked is not None and peeked[0] == seq else self.window.payload(seq)

    def _forget_acked(self, sent_at: dict[int, float], acked: int) -> None:
        """Drop the acknowledged messages (acks fall on message boundaries: a message is acknowledged
        whole), so `sent_at` holds the messages in flight."""
        for first in [s for s in sent_at if s <= acked]:
            del sent_at[first]
            self._ranges.pop(first, None)

    def _check_progress(self, sent_at: dict[int, float], acked: int) -> None:
        """A message unacknowledged for ack_timeout seconds means a stuck call: give it up and reconnect
        (the server keeps exactly-once; keepalives only catch dead connections, not stuck servers)."""
        self._forget_acked(sent_at, acked)
        oldest = sent_at.get(acked + 1)
        if oldest is not None and time.monotonic() - oldest > self.ack_timeout:
            raise StrataError(
                grpc.StatusCode.DEADLINE_EXCEEDED, Reason.INTERNAL, f"no ack for {self.ack_timeout:.0f}s"
            )

    def _read_acks(self, call: Iterator[pb.StreamMetricsResponse], state: dict[str, object]) -> None:
        try:
            for response in call:
                if response.WhichOneof("kind") == "ack":
                    self.window.ack(response.ack.sequence, response.ack.committed_points)
        except grpc.RpcError as e:
            state["error"] = StrataError.from_rpc_error(e)
        except Exception as e:  # pragma: no cover - defensive: never die silently
            state["error"] = StrataError(grpc.StatusCode.UNKNOWN, Reason.INTERNAL, repr(e))
        finally:
            state["done"] = True
            with self.window.cond:
                self.window.cond.notify_all()


def wait_drained(
    window: Window,
    timeout: float,
    progress: Callable[[float], None] | None = None,
    *,
    alive: Callable[[], bool] | None = None,
) -> bool:
    """Wait until every produced batch is acknowledged; calls progress(elapsed) about once a second.
    Stops waiting early when `alive()` (the streamer) says nobody will deliver the rest."""
    start = time.monotonic()
    with window.cond:
        while not (window.acked >= window.produced):
            elapsed = time.monotonic() - start
            if elapsed >= timeout or (alive is not None and not alive()):
                return False
            window.cond.wait(min(1.0, timeout - elapsed))
            if progress is not None and window.acked < window.produced:
                window.cond.release()
                try:
                    progress(time.monotonic() - start)
                finally:
                    window.cond.acquire()
    return True
