"""The client spool: an append-only, checksummed log of everything a run sends, so that a crashed
training process, a server outage or offline mode loses nothing.

Layout: `<spool_dir>/<project>/<run_id>/<stream_id>/`
  control.log     run records: CREATE (CreateRunRequest), UPDATE (UpdateRunRequest), FINISH
                  (FinishRunRequest), in order; never truncated
  seg-NNNNNNNN.log  metric batches (MetricBatch bytes with their sequence number), in sequence order;
                  a segment is deleted once every batch in it is acknowledged and a newer one exists
  lock            flock()ed by the process that writes the spool; `strata sync` skips locked spools

Record: u32 LE payload length | u32 LE crc32c(type + payload) | u8 type | payload. A reader stops at
the first short or corrupt record (the torn tail of a crash); everything before it is intact. A later
BATCH record with the same sequence replaces an earlier one (the sender does that when the server
rejects a batch for good: it is replaced by an empty batch so the sequence stays gap-free).
Every record, and every new segment's directory entry, is fsynced before the write returns, so a
spooled batch survives a power cut or a killed VM, not only a crashed process. STRATA_SPOOL_FSYNC=0
turns that off (records then survive the process, not the machine's power).
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import google_crc32c

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, sync trusts the user
    fcntl = None  # type: ignore[assignment]

from strata.sdk._wire import batch_sequence

CREATE, UPDATE, FINISH, BATCH = 1, 2, 3, 4
_HEADER = struct.Struct("<IIB")
SEGMENT_BYTES = 64 * 1024 * 1024


def encode_record(kind: int, payload: bytes) -> bytes:
    crc = google_crc32c.value(bytes((kind,)) + payload)
    return _HEADER.pack(len(payload), crc, kind) + payload


def read_records(path: Path) -> Iterator[tuple[int, bytes, int]]:
    """(type, payload, offset) of each intact record, stopping at a torn or corrupt tail."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    pos = 0
    while pos + _HEADER.size <= len(data):
        length, crc, kind = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        payload = data[start : start + length]
        if len(payload) < length or google_crc32c.value(bytes((kind,)) + payload) != crc:
            return
        yield kind, payload, pos
        pos = start + length


class SpoolLock:
    """An exclusive, non-blocking flock on `<dir>/lock`, released when the process dies."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class _Segment:
    path: Path
    first: int
    last: int


class SpoolWriter:
    """Appends records; tracks segments so acknowledged ones can be deleted."""

    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES, fsync: bool = False) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self._control = open(self.dir / "control.log", "ab")  # kept open for the run
        self._segments: list[_Segment] = []
        self._file: BinaryIO | None = None
        self._size = 0
        self._index = 0
        self._lock = threading.Lock()  # the producer appends; the streamer may append a replacement
        existing = sorted(self.dir.glob("seg-*.log"))
        if existing:
            self._index = int(existing[-1].stem.split("-")[1])

    def control(self, kind: int, payload: bytes) -> None:
        with self._lock:
            self._control.write(encode_record(kind, payload))
            self._control.flush()
            if self.fsync:
                os.fsync(self._control.fileno())

    def batch(self, sequence: int, payload: bytes) -> tuple[Path, int]:
        """Append a batch; returns where it is (to read it back if it is not kept in memory)."""
        record = encode_record(BATCH, payload)
        with self._lock:
            if self._file is None or self._size >= self.segment_bytes:
                self._roll(sequence)
            assert self._file is not None
            offset = self._size
            self._file.write(record)
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
            self._size += len(record)
            self._segments[-1].last = max(self._segments[-1].last, sequence)
            return self._segments[-1].path, offset

    def _roll(self, sequence: int) -> None:
        if self._file is not None:
            self._file.close()
        self._index += 1
        path = self.dir / f"seg-{self._index:08d}.log"
        self._file = open(path, "ab")  # closed on roll/close
        self._size = path.stat().st_size
        if self.fsync:
            fsync_path(self.dir)  # the new segment's name is durable before its first record
        self._segments.append(_Segment(path, sequence, sequence))

    def acked(self, sequence: int) -> None:
        """Delete closed segments whose batches are all acknowledged."""
        with self._lock:
            while len(self._segments) > 1 and self._segments[0].last <= sequence:
                seg = self._segments.pop(0)
                seg.path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._control.close()


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory: the names in it become durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_at(path: Path, offset: int) -> bytes:
    """The payload of the record at `offset` (written by SpoolWriter.batch)."""
    with open(path, "rb") as f:
        f.seek(offset)
        length, crc, kind = _HEADER.unpack(f.read(_HEADER.size))
        payload = f.read(length)
    if google_crc32c.value(bytes((kind,)) + payload) != crc:
        raise OSError(f"spool record at {path}:{offset} is corrupt")
    return payload


@dataclass
class SpoolContents:
    directory: Path
    create: bytes | None
    updates: list[bytes]
    finish: bytes | None
    batches: dict[int, tuple[Path, int]]  # sequence -> where (the last record of that sequence)


def read_spool(directory: Path) -> SpoolContents:
    contents = SpoolContents(directory, None, [], None, {})
    for kind, payload, _ in read_records(directory / "control.log"):
        if kind == CREATE and contents.create is None:
            contents.create = payload
        elif kind == UPDATE:
            contents.updates.append(payload)
        elif kind == FINISH:
            contents.finish = payload
    for segment in sorted(directory.glob("seg-*.log")):
        for kind, payload, offset in read_records(segment):
            if kind == BATCH:
                contents.batches[batch_sequence(payload)] = (segment, offset)
    return contents


def find_spools(root: Path) -> list[Path]:
    """Spool directories under `root` (or `root` itself)."""
    if (root / "control.log").exists():
        return [root]
    return sorted(p.parent for p in root.rglob("control.log"))
