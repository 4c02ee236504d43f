"""Reading blobs through artifact versions (no gRPC, no SQL): the download side of issue 4.

Access goes through a version (or draft) the caller may read (the interceptor checked PROJECT_READ on
its project): the digest must be in that version's manifest, the version must not be deleted, and the
project must hold the blob (project_blobs), so neither knowing a digest nor listing a foreign digest
in a draft's manifest grants read access. Bytes are streamed from any offset with read-ahead, at
most 1 MiB per message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ..common.blobstore.buffers import tune_malloc
from ..common.blobstore.streaming import check_range, serve_range, transfer_stats
from ..common.errors import InvalidArgument, NotFound, Reason
from ..common.names import parse_version
from . import store_blob as store

MESSAGE_BYTES = 1 << 20


async def read_blob(  # type: ignore[no-untyped-def]
    deps, version: str, sha256: str, offset: int, length: int, timeout: float
) -> AsyncIterator[tuple[int, memoryview]]:
    tune_malloc()
    name = parse_version(version, "version")
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidArgument("sha256", Reason.INVALID_DIGEST, "sha256 must be 64 lowercase hex characters")
    async with deps.pool.acquire(timeout=timeout) as conn:
        row = await store.blob_in_version(
            conn,
            entity=name.artifact.project.entity,
            project=name.artifact.project.project,
            artifact=name.artifact.artifact,
            version=name.version,
            draft_id=name.draft_id,
            sha256=sha256,
        )
    if row is None:
        raise NotFound(
            "blob", f"{version}@sha256:{sha256}", "the version does not exist or does not contain this blob"
        )
    count = check_range(row["size"], offset, length)
    async for piece in serve_range(
        deps.blobs, row["storage_key"], offset, count, transfer_stats(deps.extras), MESSAGE_BYTES
    ):
        yield piece
