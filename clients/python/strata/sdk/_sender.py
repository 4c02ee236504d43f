"""The background side of run.log(): turn buffered log entries into columnar batches, spool them,
hand them to the streamer, and send heartbeats.

run.log() only appends (step, time, dict) to a deque. Every FLUSH_INTERVAL the producer thread
drains it, groups consecutive entries that log the same keys (the usual case: the same dict shape
every step), turns each group into a (entries x keys) matrix with one numpy call, and writes the
batch key-major (all points of a key together, in step order) straight into the protobuf wire format.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

import numpy as np

from strata.sdk._spool import SpoolWriter
from strata.sdk._stream import Window
from strata.sdk._wire import encode_batch

FLUSH_INTERVAL = 0.02
BATCH_POINTS = 50_000  # target points per MetricBatch (the server accepts up to 100,000)

Entry = tuple[int, float, dict[str, float]]


def columns(
    entries: list[Entry], key_order: dict[str, int], key_names: list[str]
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(keys, key_indices, steps, values, times) of entries, key-major and in log order per key.
    `key_order` (key -> first-seen rank, `key_names` the inverse) orders the batch's keys so the
    server's key ids increase along the batch (then it need not sort)."""
    shapes = list(map(tuple, map(_values_of, entries)))  # the key tuple of each entry
    parts, start = [], 0
    for keys, run in groupby(shapes):
        count = sum(1 for _ in run)
        if keys:
            parts.append(_group_columns(keys, entries[start : start + count], key_order))
        start += count
    if not parts:
        empty = np.empty(0)
        return [], empty.astype(np.int64), empty.astype(np.int64), empty, empty
    ranks = np.concatenate([p[0] for p in parts])
    steps = np.concatenate([p[1] for p in parts])
    values = np.concatenate([p[2] for p in parts])
    times = np.concatenate([p[3] for p in parts])
    if len(parts) > 1:
        order = np.argsort(ranks, kind="stable")
        ranks, steps, values, times = ranks[order], steps[order], values[order], times[order]
    used = np.unique(np.concatenate([p[4] for p in parts]))
    lookup = np.zeros(int(used[-1]) + 1, dtype=np.int64)
    lookup[used] = np.arange(len(used))
    return [key_names[r] for r in used.tolist()], lookup[ranks], steps, values, times


_steps_of, _times_of, _values_of = itemgetter(0), itemgetter(1), itemgetter(2)


def _group_columns(
    keys: tuple[str, ...], items: list[Entry], key_order: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m, k = len(items), len(keys)
    flat = chain.from_iterable(map(dict.values, map(_values_of, items)))
    matrix = np.fromiter(flat, dtype=np.float64, count=m * k).reshape(m, k)
    key_ranks = np.fromiter(map(key_order.__getitem__, keys), dtype=np.int64, count=k)
    perm = np.argsort(key_ranks, kind="stable")
    steps = np.fromiter(map(_steps_of, items), dtype=np.int64, count=m)
    times = np.fromiter(map(_times_of, items), dtype=np.float64, count=m)
    sorted_ranks = key_ranks[perm]
    return (
        np.repeat(sorted_ranks, m),
        np.tile(steps, k),
        matrix[:, perm].T.ravel(),
        np.tile(times, k),
        sorted_ranks,
    )


class Producer(threading.Thread):
    """Drains the run's buffer into sequenced, spooled batches."""

    def __init__(
        self,
        buffer: deque[Entry],
        key_order: dict[str, int],
        key_names: list[str],
        spool: SpoolWriter,
        window: Window | None,
        *,
        warn: Callable[[str], None] = print,
    ) -> None:
        super().__init__(name="strata-producer", daemon=True)
        self.buffer, self.key_order, self.key_names = buffer, key_order, key_names
        self.spool, self.window = spool, window
        self.next_sequence = 1
        self.warn = warn
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._done = threading.Event()
        self._waiters: list[threading.Event] = []
        self._waiters_lock = threading.Lock()
        self.error: BaseException | None = None

    def run(self) -> None:
        waiters: list[threading.Event] = []
        try:
            while not self._closing.is_set():
                self._wake.wait(FLUSH_INTERVAL)
                self._wake.clear()
                with self._waiters_lock:
                    waiters, self._waiters = self._waiters, []
                self.flush()
                for event in waiters:
                    event.set()
                waiters = []
            self.flush()
        except BaseException as e:  # raised by the next run.log() and by finish(); spooled batches stay
            self.error = e
            self.warn(f"metric producer failed: {e!r}")
        finally:
            if self.window is not None:
                self.window.close()
            with self._waiters_lock:
                self._done.set()
                for event in waiters + self._waiters:
                    event.set()

    def flush(self) -> None:
        """Turn everything buffered now into batches (called in the producer thread). If a batch
        cannot be spooled, its entries and the later ones go back to the front of the buffer before
        the error propagates, so a failure never silently swallows points."""
        buf = self.buffer
        n = len(buf)
        if not n:
            return
        entries = [buf.popleft() for _ in range(n)]
        start, points = 0, 0
        try:
            for i, entry in enumerate(entries):
                points += len(entry[2])
                if points >= BATCH_POINTS:
                    self._emit(entries[start : i + 1])
                    start, points = i + 1, 0
            if start < n:
                self._emit(entries[start:])
                start = n
        except BaseException:
            buf.extendleft(reversed(entries[start:]))
            raise

    def _emit(self, entries: list[Entry]) -> None:
        keys, key_indices, steps, values, times = columns(entries, self.key_order, self.key_names)
        if not len(steps):
            return
        seq = self.next_sequence
        payload = encode_batch(seq, keys, key_indices, steps, values, times)
        where = self.spool.batch(seq, payload)
        self.next_sequence = seq + 1
        if self.window is not None:
            self.window.add(seq, payload, where, len(steps))

    def close(self, timeout: float | None = None) -> None:
        self._closing.set()
        self._wake.set()
        self._done.wait(timeout)

    def kick(self) -> None:
        self._wake.set()

    def sync(self, timeout: float) -> bool:
        """Wait until everything buffered before this call is in the spool."""
        event = threading.Event()
        with self._waiters_lock:
            if self._done.is_set():  # no producer any more: spooled only if nothing is left over
                return self.error is None and not self.buffer
            self._waiters.append(event)
        self._wake.set()
        return event.wait(timeout) and self.error is None


class Heartbeat(threading.Thread):
    """Calls send() every `interval` seconds until stopped."""

    def __init__(self, send: Callable[[], Any], interval: float) -> None:
        super().__init__(name="strata-heartbeat", daemon=True)
        self.send, self.interval = send, interval
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.send()
            except Exception:  # a missed heartbeat is not fatal; the next one may pass
                pass

    def stop(self) -> None:
        self._stopping.set()
