"""Registry logic (no gRPC, no SQL): drafts, atomic commits, and the helpers the other domain_* modules share.

Life of a version: CreateArtifactVersion makes a draft (the collection is created on first use), entries
arrive with it and/or AppendManifestEntries, blobs are uploaded (files service), then
CommitArtifactVersion, in ONE transaction holding the artifact's row lock, checks every blob is present
(locking the blob rows FOR SHARE so garbage collection cannot delete them underneath), assigns the next
number vN (gap-free: the counter rolls back with a failed commit), moves "latest", sets the requested
aliases, records the PRODUCED lineage edge and the audit event. A draft whose manifest digest equals the
current latest's is discarded instead and the latest is returned (deduplicated=true).

The other modules: domain_read.py (get, resolve, use, lists), domain_edit.py (update, delete),
domain_alias.py (aliases), domain_watch.py (WatchAlias), domain_gc.py (TTL expiry, GC, storage usage).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg

from ..common import audit
from ..common.auth.policy import Access
from ..common.context import current_principal
from ..common.deps import Deps
from ..common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Reason
from ..common.names import (
    ARTIFACT_RE,
    TYPE_RE,
    ArtifactName,
    ProjectName,
    VersionName,
    check,
    parse_project,
    parse_run,
    parse_version,
)
from ..common.projects import Project, ensure_project, get_project
from . import manifest, store, store_alias
from .model import COMMITTED, DELETED, DRAFT, LATEST, PRODUCED, SET, Entry, Version


@asynccontextmanager
async def connection(deps: Deps, timeout: float) -> AsyncIterator[asyncpg.Connection]:
    async with deps.pool.acquire(timeout=timeout) as conn:
        yield conn


@asynccontextmanager
async def transaction(deps: Deps, timeout: float) -> AsyncIterator[asyncpg.Connection]:
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        yield conn


def actor() -> tuple[str, int]:
    p = current_principal()
    return p.name, p.kind


async def require_alias_rights(deps: Deps, project: Project, aliases: Iterable[str]) -> None:
    """Moving a protected alias needs PROJECT_ADMIN (decided by the authorizer; PROTECTED_ALIAS if not)."""
    protected = [a for a in aliases if a in project.protected_aliases]
    if not protected:
        return
    try:
        await deps.authorizer.require(current_principal(), Access.PROJECT_ADMIN, str(project.name))
    except PermissionDenied:
        raise PermissionDenied(
            Reason.PROTECTED_ALIAS,
            f"alias {protected[0]!r} is protected in {project.name.path}; only project admins may move it",
            alias=protected[0],
        ) from None


async def artifact_id_or_404(conn: asyncpg.Connection, name: ArtifactName, *, lock: bool = False) -> int:
    art_id = await store.artifact_id(conn, name, lock=lock)
    if art_id is None:
        raise NotFound("artifact", str(name))
    return art_id


async def version_or_404(conn: asyncpg.Connection, name: VersionName, *, live: bool = True) -> Version:
    v = await store.find_version(conn, name)
    if v is None or (live and v.state == DELETED):
        kind = "artifact draft" if name.version is None else "artifact version"
        raise NotFound(kind, str(name))
    return v


async def set_aliases(
    conn: asyncpg.Connection, v: Version, aliases: Sequence[str], reason: str, *, kind: int = SET
) -> None:
    """Point each alias at v (moving it from its holder), recording history and audit; no-op if held."""
    for alias in aliases:
        current = await store_alias.holder_number(conn, v.artifact_id, alias)
        if current is not None and current[0] == v.id:
            continue
        before = None if current is None else str(VersionName(v.artifact, current[1]))
        await store_alias.move(conn, v.artifact_id, alias, v.id, kind, actor(), reason)
        await audit.record(
            conn,
            "alias.set",
            target=f"{v.artifact}:{alias}",
            project_id=v.project_id,
            before={"version": before},
            after={"version": v.name, "reason": reason},
        )


# --- drafts ---


@dataclass
class DraftSpec:
    parent: str
    artifact: str
    type: str
    description: str = ""
    metadata_json: str = ""
    entries: list[Entry] = field(default_factory=list)
    base_version: str = ""
    removed_paths: list[str] = field(default_factory=list)
    run: str = ""
    ttl: timedelta | None = None
    ttl_disabled: bool = False
    provenance: dict[str, Any] = field(default_factory=dict)


def _validate(spec: DraftSpec) -> tuple[ProjectName, str]:
    project = parse_project(spec.parent, "parent")
    check(spec.artifact, ARTIFACT_RE, "artifact", "artifact name")
    check(spec.type, TYPE_RE, "type", "artifact type")
    manifest.check_text(spec.description, "description")
    metadata = manifest.check_metadata(spec.metadata_json)
    manifest.check_entries(spec.entries)
    manifest.check_removed(spec.removed_paths)
    manifest.check_ttl(spec.ttl, spec.ttl_disabled)
    return project, metadata


async def create_draft(deps: Deps, spec: DraftSpec, timeout: float) -> Version:
    project_name, metadata = _validate(spec)
    run = parse_run(spec.run, "run") if spec.run else None
    base = parse_version(spec.base_version, "base_version", allow_draft=False) if spec.base_version else None
    if base is not None and base.artifact.project != project_name:
        raise InvalidArgument("base_version", Reason.INVALID_NAME, "base_version must be in the same project")
    async with transaction(deps, timeout) as conn:
        project = await ensure_project(conn, project_name, create_entity=deps.authorizer.mode == "open-local")
        art_id = await _collection(conn, project, spec)
        run_id = None
        if run is not None:
            run_row = await store.run_row(conn, run)
            if run_row is None:
                raise NotFound("run", str(run))
            run_id = run_row["id"]
        base_id = None
        if base is not None:
            base_id = (await version_or_404(conn, base)).id
        vid = await store.insert_draft(
            conn,
            artifact_id=art_id,
            draft_id=uuid.uuid4().hex,
            description=spec.description,
            metadata_json=metadata,
            ttl=spec.ttl,
            ttl_disabled=spec.ttl_disabled,
            run_id=run_id,
            base_id=base_id,
            author=actor(),
            provenance_json=json.dumps(spec.provenance),
        )
        if base_id is not None:
            await store.copy_entries(conn, vid, base_id, spec.removed_paths)
        await store.put_entries(conn, vid, spec.entries)
        await store.refresh_draft_stats(conn, vid)
        return await store.version_by_id(conn, vid)


async def _collection(conn: asyncpg.Connection, project: Project, spec: DraftSpec) -> int:
    art_id, art_type, created = await store.ensure_artifact(
        conn, project.id, spec.artifact, spec.type, spec.description
    )
    name = ArtifactName(project.name, spec.artifact)
    if art_type != spec.type:
        raise FailedPrecondition(
            Reason.ARTIFACT_TYPE_MISMATCH,
            f"artifact {name.artifact!r} has type {art_type!r}, not {spec.type!r}",
            artifact=str(name),
            type=art_type,
        )
    if created:
        await audit.record(
            conn, "artifact.create", target=str(name), project_id=project.id, after={"type": art_type}
        )
    return art_id


async def append_entries(
    deps: Deps, draft: str, entries: Sequence[Entry], removed: Sequence[str], timeout: float
) -> Version:
    name = parse_version(draft, "draft")
    manifest.check_entries(entries)
    manifest.check_removed(removed, "removed_paths")
    if name.version is not None:
        raise FailedPrecondition(Reason.VERSION_IMMUTABLE, f"{name} is committed; its manifest is immutable")
    async with transaction(deps, timeout) as conn:
        v = await version_or_404(conn, name)
        if await store.lock_version_state(conn, v.id) != DRAFT:
            raise FailedPrecondition(
                Reason.VERSION_IMMUTABLE, f"{name} is committed; its manifest is immutable"
            )
        await store.remove_paths(conn, v.id, removed)
        await store.put_entries(conn, v.id, entries)
        await store.refresh_draft_stats(conn, v.id)
        return await store.version_by_id(conn, v.id)


# --- commit ---


async def commit(deps: Deps, draft: str, aliases: Sequence[str], timeout: float) -> tuple[Version, bool]:
    """Commit a draft; returns (version, deduplicated). Committing a committed draft returns it (retry-safe)."""
    name = parse_version(draft, "draft")
    wanted = manifest.check_aliases(aliases)
    async with connection(deps, timeout) as conn:
        project = await get_project(conn, name.artifact.project)
        await require_alias_rights(deps, project, wanted)
        async with conn.transaction():
            art_id = await artifact_id_or_404(conn, name.artifact, lock=True)
            v = await version_or_404(conn, name)
            if await store.lock_version_state(conn, v.id) == COMMITTED:
                return await store.version_by_id(conn, v.id), False
            stats = await _checked_manifest(conn, v, project)
            latest = await store.latest_version(conn, art_id)
            if latest is not None and latest[1] == stats[2]:
                return await _deduplicate(conn, v, latest[0], wanted), True
            number = await store.assign_version(conn, art_id)
            await store.mark_committed(conn, v.id, number, stats, project.default_ttl)
            committed = await store.version_by_id(conn, v.id)
            await set_aliases(conn, committed, [LATEST], "committed")
            await set_aliases(conn, committed, wanted, "set at commit")
            await _record_commit(conn, committed)
            return await store.version_by_id(conn, v.id), False


async def _checked_manifest(conn: asyncpg.Connection, v: Version, project: Project) -> tuple[int, int, str]:
    conflict = await store.path_conflict(conn, v.id)
    if conflict is not None:
        raise InvalidArgument(
            "draft", Reason.UNSAFE_PATH, f"{conflict!r} is both a file and a directory in the manifest"
        )
    missing = await store.lock_blobs(conn, v.id, project.id)
    if missing:
        raise FailedPrecondition(
            Reason.BLOB_MISSING,
            f"{len(missing)} blob(s) of the manifest are not uploaded, e.g. {missing[0]}",
            missing=",".join(missing[:100]),
        )
    return await store.manifest_stats(conn, v.id)


async def _deduplicate(
    conn: asyncpg.Connection, draft: Version, latest_id: int, aliases: Sequence[str]
) -> Version:
    """Same manifest as the latest: no new version; requested aliases go to the latest instead."""
    await store.discard_draft(conn, draft.id)
    latest = await store.version_by_id(conn, latest_id)
    await set_aliases(conn, latest, aliases, "set at commit (deduplicated)")
    return await store.version_by_id(conn, latest_id)


async def _record_commit(conn: asyncpg.Connection, v: Version) -> None:
    await store.record_produced(conn, v.id, PRODUCED)
    await store.touch_artifact(conn, v.artifact_id)
    await audit.record(
        conn,
        "artifact_version.commit",
        target=v.name,
        project_id=v.project_id,
        after={
            "manifest_digest": v.manifest_digest,
            "file_count": v.file_count,
            "total_size": v.total_size,
            "producer_run": v.producer_run,
            "expire_time": v.expire_time,
        },
    )
