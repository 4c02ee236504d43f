"""Reading blobs through artifact versions (no gRPC, no SQL): the download side of the registry.

Access goes through a version (or draft) the caller may read (the interceptor checked PROJECT_READ on
its project): the digest must be in that version's manifest, the version must not be deleted, and the
project must hold the blob (project_blobs), so neither knowing a digest nor listing a foreign digest
in a draft's manifest grants read access. Bytes are streamed from any offset with read-ahead, at
most 1 MiB per message. Many small blobs of one version are read in one call (`read_blobs`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from ...common.blobstore.streaming import check_range, serve_range, transfer_stats
from ...common.deps import Deps
from ...common.errors import Internal, InvalidArgument, NotFound, Reason
from ...common.names import VersionName, check_sha256, parse_version
from . import store

MESSAGE_BYTES = 1 << 20
BATCH_MAX_DIGESTS = 1000
BATCH_MAX_BLOB = 1 << 20
BATCH_MAX_BYTES = 4 << 20
BATCH_READERS = 8  # blob-store reads in flight per call


async def _held_blobs(
    deps: Deps, version: str, name: VersionName, sha256s: list[str], timeout: float
) -> dict[str, Any]:
    """{sha256: row (size, storage_key)} for every digest, or NOT_FOUND naming the first the version
    does not list (or does not exist, or is deleted, or whose project does not hold the blob)."""
    async with deps.pool.acquire(timeout=timeout) as conn:
        rows = await store.blobs_in_version(
            conn,
            entity=name.artifact.project.entity,
            project=name.artifact.project.project,
            artifact=name.artifact.artifact,
            version=name.version,
            draft_id=name.draft_id,
            sha256s=sha256s,
        )
    found = {r["sha256"]: r for r in rows}
    for sha in sha256s:
        if sha not in found:
            raise NotFound(
                "blob", f"{version}@sha256:{sha}", "the version does not exist or does not contain this blob"
            )
    return found


async def read_blob(
    deps: Deps, version: str, sha256: str, offset: int, length: int, timeout: float
) -> AsyncIterator[tuple[int, memoryview]]:
    name = parse_version(version, "version")
    check_sha256(sha256, "sha256")
    row = (await _held_blobs(deps, version, name, [sha256], timeout))[sha256]
    count = check_range(row["size"], offset, length)
    async for piece in serve_range(
        deps.blobs, row["storage_key"], offset, count, transfer_stats(deps.extras), MESSAGE_BYTES
    ):
        yield piece


def _distinct_digests(sha256s: list[str]) -> list[str]:
    """The distinct, well-formed digests asked for, in request order (at most BATCH_MAX_DIGESTS)."""
    wanted = list(dict.fromkeys(sha256s))
    if not wanted:
        raise InvalidArgument("sha256s", Reason.FIELD_REQUIRED, "sha256s is required")
    if len(wanted) > BATCH_MAX_DIGESTS:
        raise InvalidArgument(
            "sha256s", Reason.TOO_LARGE, f"at most {BATCH_MAX_DIGESTS} digests per call, got {len(wanted)}"
        )
    for i, sha in enumerate(sha256s):
        check_sha256(sha, f"sha256s[{i}]")
    return wanted


def _batch_bytes(wanted: list[str], found: dict[str, Any]) -> int:
    """The bytes the batch returns, refused (TOO_LARGE) past the per-blob and per-call limits."""
    total = 0
    for i, sha in enumerate(wanted):
        size = found[sha]["size"]
        if size > BATCH_MAX_BLOB:
            raise InvalidArgument(
                f"sha256s[{i}]",
                Reason.TOO_LARGE,
                f"blob of {size} bytes: read blobs over 1 MiB with ReadBlob",
            )
        total += size
    if total > BATCH_MAX_BYTES:
        raise InvalidArgument("sha256s", Reason.TOO_LARGE, f"{total} bytes asked, at most {BATCH_MAX_BYTES}")
    return total


async def read_blobs(
    deps: Deps, version: str, sha256s: list[str], timeout: float
) -> list[tuple[str, int, bytes]]:
    """(sha256, size, bytes) of each distinct digest, in request order. One query checks them all
    (same rule as read_blob); the blob-store reads run BATCH_READERS at a time."""
    name = parse_version(version, "version")
    wanted = _distinct_digests(sha256s)
    found = await _held_blobs(deps, version, name, wanted, timeout)
    total = _batch_bytes(wanted, found)
    gate = asyncio.Semaphore(BATCH_READERS)

    async def one(sha: str) -> tuple[str, int, bytes]:
        row = found[sha]
        async with gate:
            data = await deps.blobs.read_all(row["storage_key"]) if row["size"] else b""
        if len(data) != row["size"]:
            raise Internal(
                Reason.BLOB_MISSING, f"blob {sha} is {len(data)} bytes in the store, {row['size']} recorded"
            )
        return sha, row["size"], data

    blobs = await asyncio.gather(*(one(sha) for sha in wanted))
    transfer_stats(deps.extras).download_bytes_sent += total
    return blobs
