"""The local-folder backend (the embedded default).

Objects are files under `root/objects/<key>`. A multipart upload is one temp file under
`root/multipart/<upload_id>`: each part is written at its offset and fsynced, and completing renames it
into place (atomic on one filesystem). File I/O runs in a small thread pool so it never blocks the loop.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .base import DEFAULT_READ_CHUNK, BlobNotFound, BlobStore, BlobStoreUnavailable, Part
from .buffers import Buffer, Pieces, pieces_of, size_of

_T = TypeVar("_T")


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path, threads: int = 8) -> None:
        self.root = Path(root).resolve()
        self.objects = self.root / "objects"
        self.multipart = self.root / "multipart"
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="blob-local")

    async def _run(self, fn: Callable[..., _T], *args: object) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"unsafe blob key {key!r}")
        return self.objects / key

    async def start(self) -> None:
        def make_folders() -> None:
            self.objects.mkdir(parents=True, exist_ok=True)
            self.multipart.mkdir(parents=True, exist_ok=True)

        await self._run(make_folders)

    async def close(self) -> None:
        self._pool.shutdown(wait=False)

    async def check(self) -> None:
        if not self.objects.is_dir():
            raise BlobStoreUnavailable(f"blob folder {self.objects} is missing")

    def _put_sync(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    async def put(self, key: str, data: bytes) -> None:
        await self._run(self._put_sync, key, data)

    async def read(
        self, key: str, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            f = await self._run(lambda: open(path, "rb"))
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        try:
            remaining = length
            await self._run(f.seek, offset)
            while remaining is None or remaining > 0:
                n = chunk_size if remaining is None else min(chunk_size, remaining)
                chunk = await self._run(f.read, n)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            f.close()

    async def size(self, key: str) -> int | None:
        try:
            return (await self._run(os.stat, self._path(key))).st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        try:
            await self._run(os.unlink, self._path(key))
        except FileNotFoundError:
            pass

    async def start_multipart(self, key: str) -> str:
        self._path(key)  # validate
        upload_id = uuid.uuid4().hex
        await self._run(lambda: open(self.multipart / upload_id, "wb").close())
        return upload_id

    def _write_part(self, upload_id: str, offset: int, data: Buffer | Pieces) -> None:
        with open(self.multipart / upload_id, "r+b", buffering=0) as f:
            f.seek(offset)
            for piece in pieces_of(data):
                view = memoryview(piece)
                while view:  # a raw write may be short
                    view = view[f.write(view) :]
            os.fsync(f.fileno())

    async def upload_part(
        self, key: str, upload_id: str, number: int, offset: int, data: Buffer | Pieces
    ) -> Part:
        if not (self.multipart / upload_id).exists():
            raise BlobNotFound(f"multipart/{upload_id}")
        await self._run(self._write_part, upload_id, offset, data)
        return Part(number=number, offset=offset, size=size_of(data), etag=f"{upload_id}:{number}")

    def _complete_sync(self, key: str, upload_id: str, size: int) -> None:
        src = self.multipart / upload_id
        if not src.exists():
            raise BlobNotFound(f"multipart/{upload_id}")
        with open(src, "r+b") as f:
            f.truncate(size)  # parts re-sent after a crash may have left bytes past the end
            os.fsync(f.fileno())
        dst = self._path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)

    async def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> None:
        size = sum(p.size for p in parts)
        await self._run(self._complete_sync, key, upload_id, size)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            await self._run(os.unlink, self.multipart / upload_id)
        except FileNotFoundError:
            pass
