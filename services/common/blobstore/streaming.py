"""Serving blob bytes over gRPC streams: read-ahead and transfer counters.

`read_ahead()` overlaps the blob store read of the next chunks (S3 GET in a thread, or disk) with
sending the current one, through a small bounded queue: throughput approaches the slower of the two
instead of their sum, and memory stays at `depth` chunks per stream.

`TransferStats` counts bytes received by uploads and sent by downloads in this process (logged, and
used by tests to prove a resumed transfer moved only the missing bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

from ..metrics import count_transfer
from .base import DEFAULT_READ_CHUNK, BlobStore


@dataclass
class TransferStats:
    upload_bytes_received: int = 0
    download_bytes_sent: int = 0

    def __setattr__(self, name: str, value: int) -> None:
        count_transfer(name, value - getattr(self, name, 0))  # strata_upload/download_bytes_total
        super().__setattr__(name, value)


def transfer_stats(extras: dict[str, object]) -> TransferStats:
    """The process-wide counters kept in Deps.extras."""
    stats = extras.get("transfer_stats")
    if not isinstance(stats, TransferStats):
        stats = TransferStats()
        extras["transfer_stats"] = stats
    return stats


_END = object()


async def read_ahead(
    store: BlobStore,
    key: str,
    offset: int = 0,
    length: int | None = None,
    *,
    chunk_size: int = DEFAULT_READ_CHUNK,
    depth: int = 4,
) -> AsyncIterator[bytes]:
    """store.read() with up to `depth` chunks fetched ahead of the consumer."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=depth)

    async def produce() -> None:
        try:
            async for chunk in store.read(key, offset, length, chunk_size):
                await queue.put(chunk)
            await queue.put(_END)
        except Exception as e:  # handed to the consumer, which re-raises it
            await queue.put(e)

    producer = asyncio.create_task(produce())
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, Exception):
                raise item
            yield cast(bytes, item)  # what is left is a chunk
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await producer


def check_range(size: int, offset: int, length: int) -> int:
    """Validate a read window of a blob of `size` bytes; returns the number of bytes to send."""
    from ..errors import InvalidArgument, Reason

    if offset < 0 or offset > size:
        raise InvalidArgument("offset", Reason.OUT_OF_RANGE, f"offset must be within 0..{size}")
    if length < 0:
        raise InvalidArgument("length", Reason.OUT_OF_RANGE, "length must be >= 0 (0: to the end)")
    return size - offset if length == 0 else min(length, size - offset)


async def serve_range(
    store: BlobStore,
    key: str,
    offset: int,
    count: int,
    stats: TransferStats,
    message_size: int = DEFAULT_READ_CHUNK,
    read_size: int = 4 * DEFAULT_READ_CHUNK,
) -> AsyncIterator[tuple[int, memoryview]]:
    """(offset, data) messages of at most message_size bytes covering [offset, offset+count); the
    store is read ahead in larger pieces (fewer thread hops and S3 reads per byte)."""
    if count <= 0:
        return
    position = offset
    async for chunk in read_ahead(store, key, offset, count, chunk_size=max(read_size, message_size)):
        view = memoryview(chunk)
        for start in range(0, len(view), message_size):
            piece = view[start : start + message_size]  # a view: the encoder copies it once
            yield position, piece
            position += len(piece)
            stats.download_bytes_sent += len(piece)
