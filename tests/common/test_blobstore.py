"""The blob store contract, run against both backends: the local folder and S3 on a real SeaweedFS."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from strata_server.common.blobstore import BlobNotFound, BlobStore, LocalBlobStore, S3BlobStore
from strata_server.common.blobstore.base import Part
from strata_server.common.config import S3Settings

MiB = 1024 * 1024


def _s3(settings: S3Settings, bucket_suffix: str = "") -> S3BlobStore:
    return S3BlobStore(
        endpoint=settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        bucket=settings.bucket + bucket_suffix,
        threads=8,
    )


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param == "local":
        s: BlobStore = LocalBlobStore(tmp_path / "blobs")
    else:
        s = _s3(request.getfixturevalue("s3_settings"))
    await s.start()
    yield s
    await s.close()


async def _multipart(store: BlobStore, key: str, data: bytes, part_size: int) -> list[Part]:
    upload_id = await store.start_multipart(key)
    parts = []
    for number, offset in enumerate(range(0, len(data), part_size), start=1):
        parts.append(
            await store.upload_part(key, upload_id, number, offset, data[offset : offset + part_size])
        )
    await store.complete_multipart(key, upload_id, parts)
    return parts


async def test_put_then_read_returns_the_same_bytes(store: BlobStore) -> None:
    await store.put("a/b/small", b"hello strata")
    assert await store.read_all("a/b/small") == b"hello strata"
    assert await store.size("a/b/small") == 12


async def test_ranged_reads_return_exactly_the_requested_window(store: BlobStore) -> None:
    data = os.urandom(3 * MiB + 17)
    await store.put("ranged", data)
    for offset, length in [(0, 10), (MiB - 3, 7), (3 * MiB, 17), (5, None), (len(data) - 1, None)]:
        got = b"".join([c async for c in store.read("ranged", offset, length, chunk_size=64 * 1024)])
        assert got == data[offset : None if length is None else offset + length]


async def test_large_object_is_written_in_parts_and_read_in_bounded_chunks(store: BlobStore) -> None:
    data = os.urandom(24 * MiB + 123)
    await _multipart(store, "large/object", data, part_size=8 * MiB)
    assert await store.size("large/object") == len(data)
    digest, biggest = hashlib.sha256(), 0
    async for chunk in store.read("large/object", chunk_size=MiB):
        biggest = max(biggest, len(chunk))
        digest.update(chunk)
    assert biggest <= MiB
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


async def test_missing_key_raises_not_found_and_size_is_none(store: BlobStore) -> None:
    assert await store.size("does/not/exist") is None
    with pytest.raises(BlobNotFound):
        await store.read_all("does/not/exist")
    await store.delete("does/not/exist")  # deleting a missing key is fine


async def test_delete_removes_the_object(store: BlobStore) -> None:
    await store.put("to-delete", b"x")
    await store.delete("to-delete")
    assert await store.size("to-delete") is None


async def test_concurrent_writers_of_one_key_leave_one_whole_object(store: BlobStore) -> None:
    payloads = [bytes([i]) * (MiB + i) for i in range(8)]
    await asyncio.gather(*(store.put("contended", p) for p in payloads))
    assert await store.read_all("contended") in payloads


async def test_multipart_upload_continues_from_a_new_store_instance(
    store: BlobStore, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An upload id survives the process: a second store object (a restarted server) finishes it."""
    data = os.urandom(12 * MiB)
    key = "resumed/object"
    upload_id = await store.start_multipart(key)
    first = await store.upload_part(key, upload_id, 1, 0, data[: 6 * MiB])
    if isinstance(store, LocalBlobStore):
        other: BlobStore = LocalBlobStore(store.root)
    else:
        other = _s3(request.getfixturevalue("s3_settings"))
    await other.start()
    second = await other.upload_part(key, upload_id, 2, 6 * MiB, data[6 * MiB :])
    await other.complete_multipart(key, upload_id, [first, second])
    assert await other.read_all(key) == data
    await other.close()


async def test_aborted_multipart_leaves_nothing_visible(store: BlobStore) -> None:
    upload_id = await store.start_multipart("aborted")
    await store.upload_part("aborted", upload_id, 1, 0, os.urandom(6 * MiB))
    await store.abort_multipart("aborted", upload_id)
    await store.abort_multipart("aborted", upload_id)  # idempotent
    assert await store.size("aborted") is None


async def test_local_store_refuses_keys_that_escape_its_folder(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    await store.start()
    for key in ["../outside", "/etc/passwd", "a/../../b"]:
        with pytest.raises(ValueError):
            await store.put(key, b"x")
