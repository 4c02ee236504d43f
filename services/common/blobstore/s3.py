"""The S3 backend through the `minio` client (MinIO, AWS S3, SeaweedFS).

The minio client is blocking, so every call runs in a bounded thread pool (STRATA_S3_THREADS) and the
event loop never waits on the network. Multipart uploads use minio's low-level multipart calls
(`_create_multipart_upload`, `_upload_part`, ...: the same ones its own put_object uses; minio is
pinned below 8 and tests/common/test_blobstore.py exercises them against a real SeaweedFS), because a
resumable upload must control its parts across process restarts.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar

import urllib3
from minio import Minio
from minio.credentials import Credentials
from minio.datatypes import Part as MinioPart
from minio.error import S3Error
from minio.helpers import DictType

from ..metrics import s3_operation
from .base import DEFAULT_READ_CHUNK, BlobNotFound, BlobStore, BlobStoreUnavailable, Part
from .buffers import Buffer, Pieces, joined, pieces_of, size_of

_T = TypeVar("_T")

_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchUpload", "ResourceNotFound"}
_UNSIGNED_MIN = 1 << 20


class _Body:
    """A part's pieces as one HTTP request body: urllib3 sends them one after the other (the length
    is known, so no chunked encoding), and can send them again on a retry."""

    def __init__(self, pieces: Pieces) -> None:
        self.pieces = pieces
        self.size = size_of(pieces)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Buffer]:
        return iter(self.pieces)


class _Minio(Minio):
    """minio signs the sha256 of every request body over plain HTTP (over HTTPS it already sends
    UNSIGNED-PAYLOAD). For multi-MiB part uploads that hash is a third of the server's CPU per byte,
    and Strata verifies the whole file's sha256 itself, so large bodies are sent UNSIGNED-PAYLOAD
    over HTTP too (headers stay signed; S3, MinIO and SeaweedFS accept it)."""

    def _build_headers(
        self,
        host: str,
        headers: DictType | None = None,
        body: bytes | _Body | None = None,
        creds: Credentials | None = None,
    ) -> tuple[DictType, datetime]:
        if creds is None or body is None or len(body) < _UNSIGNED_MIN:
            if isinstance(body, _Body):
                body = joined(body.pieces)  # anonymous requests carry a Content-MD5 of the body
            return super()._build_headers(host, headers, body, creds)
        headers, date = super()._build_headers(host, headers, None, creds)  # no body: nothing hashed
        headers["Content-Length"] = str(len(body))
        headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        return headers, date


class S3BlobStore(BlobStore):
    min_part_size = 5 * 1024 * 1024
    max_part_number = 10_000

    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str | None = None,
        secure: bool = False,
        threads: int = 16,
    ) -> None:
        self.bucket = bucket
        http = urllib3.PoolManager(
            maxsize=threads,
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
            timeout=urllib3.Timeout(connect=5, read=120),
        )
        self.client = _Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            secure=secure,
            http_client=http,
        )
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="blob-s3")

    async def _run(self, fn: Callable[..., _T], *args: object, key: str | None = None) -> _T:
        with s3_operation(sys._getframe(1).f_code.co_name):  # latency, errors and a span per operation
            return await self._call(fn, *args, key=key)

    async def _call(self, fn: Callable[..., _T], *args: object, key: str | None = None) -> _T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        except S3Error as e:
            if e.code in _MISSING:
                raise BlobNotFound(key or "?") from None
            raise BlobStoreUnavailable(f"S3 error {e.code}") from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise BlobStoreUnavailable(f"S3 unreachable: {type(e).__name__}") from e

    async def start(self) -> None:
        def ensure() -> None:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as e:
                    if e.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise

        await self._run(ensure)

    async def close(self) -> None:
        self._pool.shutdown(wait=False)

    async def check(self) -> None:
        await self._run(self.client.bucket_exists, self.bucket)

    async def put(self, key: str, data: bytes) -> None:
        await self._run(
            lambda: self.client.put_object(self.bucket, key, io.BytesIO(data), len(data)), key=key
        )

    async def read(
        self, key: str, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> AsyncIterator[bytes]:
        if length == 0:
            return
        response = await self._run(
            lambda: self.client.get_object(self.bucket, key, offset=offset, length=length or 0), key=key
        )
        try:
            while True:
                chunk = await self._run(response.read, chunk_size, key=key)
                if not chunk:
                    break
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def read_all(self, key: str) -> bytes:
        """A small object in one thread hop (GET and body), not one per chunk as read() takes."""

        def get() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

        return await self._run(get, key=key)

    async def size(self, key: str) -> int | None:
        try:
            return (await self._run(self.client.stat_object, self.bucket, key, key=key)).size
        except BlobNotFound:
            return None

    async def delete(self, key: str) -> None:
        await self._run(self.client.remove_object, self.bucket, key, key=key)

    async def start_multipart(self, key: str) -> str:
        return await self._run(self.client._create_multipart_upload, self.bucket, key, {}, key=key)

    async def upload_part(
        self, key: str, upload_id: str, number: int, offset: int, data: Buffer | Pieces
    ) -> Part:
        size = size_of(data)
        # small bodies are signed (their sha256 is in the signature), so minio needs them as bytes
        body = _Body(pieces_of(data)) if size >= _UNSIGNED_MIN else joined(data)
        etag = await self._run(
            self.client._upload_part, self.bucket, key, body, None, upload_id, number, key=key
        )
        return Part(number=number, offset=offset, size=size, etag=etag)

    async def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> None:
        minio_parts = [MinioPart(p.number, p.etag) for p in parts]
        await self._run(
            self.client._complete_multipart_upload, self.bucket, key, upload_id, minio_parts, key=key
        )

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            await self._run(self.client._abort_multipart_upload, self.bucket, key, upload_id, key=key)
        except BlobNotFound:
            pass
