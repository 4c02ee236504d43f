"""TTL expiry, garbage collection and storage usage.

One pass (background every STRATA_GC_INTERVAL seconds on one replica, or RunGarbageCollection):
1. TTL: committed versions whose expire_time passed are soft-deleted like a user delete with
   delete_aliases (audited "artifact_version.expire"), EXCEPT versions holding an alias the project
   protects: a version serving `production` never disappears under it. It expires at the first pass
   after the protected alias leaves it.
2. Drafts idle longer than STRATA_DRAFT_EXPIRY are discarded, so abandoned uploads stop pinning blobs.
3. Blobs: a blob is deleted when no live version, draft, run file or open upload session references it
   and it was neither created nor touched within STRATA_GC_GRACE (gc/store.py has the race-safe
   protocol). Bytes go after the rows' transaction commits, which also records them in
   blob_deletions; a row there goes only when the blob store confirmed the delete, and every pass
   first retries what an earlier pass (or a crashed process) left there.
With dry_run nothing changes; the report says what would be.
"""

from __future__ import annotations

import asyncio

from ...common import audit
from ...common.blobstore.base import BlobStoreUnavailable
from ...common.deps import Deps
from ...common.logging import get_logger
from ...common.names import parse_project
from ...common.projects import get_project
from ..model import DRAFT, GcReport, StorageUsage
from ..versions import store as versions_store
from ..versions.domain import retire
from . import store

log = get_logger(__name__)

BATCH = 500
DELETE_CONCURRENCY = 16


async def run_pass(deps: Deps, dry_run: bool = False, timeout: float = 300.0) -> GcReport:
    retried, retried_bytes = (0, 0) if dry_run else await retry_deletions(deps, timeout)
    expired_versions = await expire_versions(deps, dry_run, timeout)
    expired_drafts = await expire_drafts(deps, dry_run, timeout)
    count, size = await collect_blobs(deps, dry_run, timeout)
    report = GcReport(
        dry_run=dry_run,
        expired_versions=expired_versions,
        expired_drafts=expired_drafts,
        deleted_blobs=count,
        reclaimed_bytes=size,
    )
    if retried:
        log.info("blob_deletions_retried", count=retried, bytes=retried_bytes)
    if not dry_run:
        async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
            await audit.record(conn, "gc.run", target="registry", after=report.__dict__)
    return report


async def expire_versions(deps: Deps, dry_run: bool, timeout: float) -> int:
    if dry_run:
        async with deps.pool.acquire(timeout=timeout) as conn:
            return len(await store.expired_versions(conn, None))
    expired = 0
    while True:
        async with deps.pool.acquire(timeout=timeout) as conn:
            batch = await store.expired_versions(conn, BATCH)
        done = [await _expire_one(deps, version_id, timeout) for version_id in batch]
        expired += sum(done)
        if len(batch) < BATCH or not any(done):
            return expired


async def _expire_one(deps: Deps, version_id: int, timeout: float) -> bool:
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        v = await versions_store.version_by_id(conn, version_id)
        await versions_store.lock_artifact(conn, v.artifact_id)
        if not await store.still_expired(conn, version_id):
            return False
        v = await versions_store.version_by_id(conn, version_id)  # again, now that the artifact is locked
        await retire(conn, v, "artifact_version.expire", "ttl expired")
        log.info("artifact_version_expired", version=v.name)
        return True


async def expire_drafts(deps: Deps, dry_run: bool, timeout: float) -> int:
    async with deps.pool.acquire(timeout=timeout) as conn:
        ids = await store.idle_drafts(conn, deps.settings.draft_expiry, None if dry_run else BATCH)
    if dry_run:
        return len(ids)
    discarded = 0
    for version_id in ids:
        async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
            if await versions_store.lock_version_state(conn, version_id) != DRAFT:
                continue
            v = await versions_store.version_by_id(conn, version_id)
            await retire(conn, v, "artifact_draft.expire", "draft idle")
            discarded += 1
    return discarded  # the rest, if any, at the next pass


async def collect_blobs(deps: Deps, dry_run: bool, timeout: float) -> tuple[int, int]:
    grace = deps.settings.gc_grace
    after, count, size = "", 0, 0
    while True:
        async with deps.pool.acquire(timeout=timeout) as conn:
            batch = await store.candidates(conn, grace, after, BATCH)
        if not batch:
            return count, size
        after = batch[-1][0]
        if dry_run:
            count += len(batch)
            size += sum(s for _, s in batch)
            continue
        deleted = await _delete_batch(deps, [sha for sha, _ in batch], grace, timeout)
        count += len(deleted)
        size += sum(s for _, s, _ in deleted)


async def _delete_batch(
    deps: Deps, digests: list[str], grace: float, timeout: float
) -> list[tuple[str, int, str]]:
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        deleted = await store.delete_unreferenced(conn, digests, grace)
        if deleted:
            await store.enqueue_deletions(conn, deleted)
            await audit.record(
                conn,
                "blob.delete",
                target="blobs",
                after={
                    "count": len(deleted),
                    "bytes": sum(s for _, s, _ in deleted),
                    "sha256": [sha for sha, _, _ in deleted[:100]],
                },
            )
    await _drop_bytes(deps, [key for _, _, key in deleted], timeout)
    return deleted


async def _drop_bytes(deps: Deps, keys: list[str], timeout: float) -> set[str]:
    """Delete the bytes behind keys (all in blob_deletions); returns the keys confirmed deleted, whose
    blob_deletions rows go. A failure stays there, with its error, for the next pass."""
    bound = asyncio.Semaphore(DELETE_CONCURRENCY)
    failed: dict[str, str] = {}
    down: list[str] = []  # the store is unreachable: the rest wait for the next pass untried

    async def drop(key: str) -> None:
        async with bound:
            if down:
                failed[key] = down[0]
                return
            try:
                await deps.blobs.delete(key)
            except Exception as e:
                failed[key] = f"{type(e).__name__}: {e}"[:500]
                if isinstance(e, BlobStoreUnavailable):
                    down.append(failed[key])
                log.warning("blob_bytes_delete_failed", storage_key=key, error=type(e).__name__)

    await asyncio.gather(*(drop(key) for key in keys))
    done = set(keys) - set(failed)
    async with deps.pool.acquire(timeout=timeout) as conn:
        if done:
            await store.deletions_done(conn, sorted(done))
        if failed:
            await store.deletions_failed(conn, failed)
    return done


async def retry_deletions(deps: Deps, timeout: float) -> tuple[int, int]:
    """Deletes the bytes left in blob_deletions by earlier passes; (count, bytes) confirmed now."""
    async with deps.pool.acquire(timeout=timeout) as conn:
        pending = await store.pending_deletions(conn, 10 * BATCH)
    if not pending:
        return 0, 0
    done = await _drop_bytes(deps, [key for _, _, key in pending], timeout)
    return len(done), sum(size for _, size, key in pending if key in done)


async def storage_usage(deps: Deps, parent: str, timeout: float) -> StorageUsage:
    name = parse_project(parent, "parent")
    async with deps.pool.acquire(timeout=timeout) as conn:
        project = await get_project(conn, name)
        r = await store.storage_usage(conn, project.id)
    return StorageUsage(
        project=str(name),
        logical_bytes=r["logical_bytes"],
        stored_bytes=r["stored_bytes"],
        version_count=r["version_count"],
        blob_count=r["blob_count"],
    )
