"""The blob store contract every backend fulfils (tests/common/test_blobstore.py runs it against both)."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ..errors import NotFound, Unavailable
from .buffers import Buffer, Pieces

DEFAULT_READ_CHUNK = 1 << 20


class BlobNotFound(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__("blob", key)


class BlobStoreUnavailable(Unavailable):
    pass


@dataclass(frozen=True)
class Part:
    number: int  # 1-based and increasing with offset (not necessarily contiguous)
    offset: int  # byte offset of the part within the object; parts are contiguous in offset
    size: int
    etag: str


class BlobStore(abc.ABC):
    """Async object storage. Every method may raise BlobStoreUnavailable when the backend is down."""

    #: smallest size of a non-final multipart part the backend accepts
    min_part_size: int = 1
    #: largest part number the backend accepts (None: no limit)
    max_part_number: int | None = None

    async def start(self) -> None:
        """Prepare the backend (create folder or bucket). Idempotent."""

    async def close(self) -> None:
        """Release clients and threads."""

    @abc.abstractmethod
    async def put(self, key: str, data: bytes) -> None:
        """Store a small object in one call (replaces an existing one atomically)."""

    @abc.abstractmethod
    def read(
        self, key: str, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> AsyncIterator[bytes]:
        """Stream bytes [offset, offset+length) in chunks of at most chunk_size. Raises BlobNotFound."""

    @abc.abstractmethod
    async def size(self, key: str) -> int | None:
        """Object size, or None when the key does not exist."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Delete an object; deleting a missing key is not an error."""

    @abc.abstractmethod
    async def start_multipart(self, key: str) -> str:
        """Begin a multipart upload to `key`; returns an upload id that survives process restarts."""

    @abc.abstractmethod
    async def upload_part(
        self, key: str, upload_id: str, number: int, offset: int, data: Buffer | Pieces
    ) -> Part:
        """Store one part: a buffer, or the list of its pieces in order (buffers.Pieces; never joined
        into one copy). Numbers start at 1 and increase with offset; parts are contiguous in offset.
        Re-uploading a number replaces that part."""

    @abc.abstractmethod
    async def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> None:
        """Make the object visible at `key` from `parts` (in order); parts not listed are discarded.
        Raises BlobNotFound when the upload id is unknown (e.g. already completed or aborted)."""

    @abc.abstractmethod
    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Discard an unfinished multipart upload and its parts (idempotent)."""

    async def check(self) -> None:
        """Raise BlobStoreUnavailable when the backend cannot serve requests."""

    async def read_all(self, key: str) -> bytes:
        """Convenience for small objects."""
        return b"".join([chunk async for chunk in self.read(key)])
