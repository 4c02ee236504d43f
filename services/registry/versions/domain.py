"""Artifact versions (no gRPC, no SQL): drafts, atomic commits, reads and lists, edits and deletion.

Life of a version: CreateArtifactVersion makes a draft (the collection is created on first use), entries
arrive with it and/or AppendManifestEntries, blobs are uploaded (files service), then
CommitArtifactVersion, in ONE transaction holding the artifact's row lock, checks every blob is present
(locking the blob rows FOR SHARE so garbage collection cannot delete them underneath), assigns the next
number vN (gap-free: the counter rolls back with a failed commit), moves "latest", sets the requested
aliases, records the PRODUCED lineage edge and the audit event. A draft whose manifest digest equals the
current latest's is discarded instead and the latest is returned (deduplicated=true).

Reading: resolution grammar (services/common/names.py): "name", "name:latest", "name:v3", "name:alias",
"project/name:alias", "entity/project/name:alias" (or a full resource name). Only committed, live versions
resolve; soft-deleted and expired ones are gone. The caller needs read access to the project the
reference lands in: the interceptor checks it (common/auth/policy.py: "ref:ref", with relative references
completed from default_parent or the run's project), so relative and cross-project references are
covered alike and the check lives in one place. NOT_FOUND names what is missing: the artifact, the
version, or the alias.

Editing: description, metadata and TTL change (the manifest never does); every edit is audited with the
fields' values before and after. TTL: `ttl` set means "expire at commit time + ttl"; `ttl` cleared means
the project's default TTL applies; `ttl_disabled` means never expire. Deleting a version soft-deletes it
(state DELETED: gone from resolution and listings); one holding custom aliases is refused
(VERSION_HAS_ALIASES) unless delete_aliases; if it held "latest", "latest" moves to the newest remaining
version. Its blobs are reclaimed by the next GC pass if nothing else references them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ...common import audit
from ...common.db import Conn
from ...common.deps import Deps
from ...common.errors import FailedPrecondition, InvalidArgument, NotFound, Reason
from ...common.names import (
    ARTIFACT_RE,
    TYPE_RE,
    ArtifactName,
    ArtifactRef,
    ProjectName,
    VersionName,
    check,
    parse_artifact,
    parse_artifact_ref,
    parse_project,
    parse_run,
    parse_version,
)
from ...common.paging import page_request
from ...common.projects import Project, ensure_project, get_project, get_project_by_id
from ..aliases import store as aliases_store
from ..aliases.domain import require_alias_rights, set_aliases
from ..lookup import actor, artifact_id_or_404, version_or_404
from ..model import COMMITTED, DRAFT, DROPPED, LATEST, PRODUCED, SET, USED, Artifact, Entry, Version
from . import manifest, store

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
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
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


async def _collection(conn: Conn, project: Project, spec: DraftSpec) -> int:
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
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
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
    async with deps.pool.acquire(timeout=timeout) as conn:
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


async def _checked_manifest(conn: Conn, v: Version, project: Project) -> tuple[int, int, str]:
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


async def _deduplicate(conn: Conn, draft: Version, latest_id: int, aliases: Sequence[str]) -> Version:
    """Same manifest as the latest: no new version; requested aliases go to the latest instead."""
    await store.discard_draft(conn, draft.id)
    latest = await store.version_by_id(conn, latest_id)
    await set_aliases(conn, latest, aliases, "set at commit (deduplicated)")
    return await store.version_by_id(conn, latest_id)


async def record_new_version(conn: Conn, v: Version, action: str, after: dict[str, Any]) -> None:
    """A version just committed or linked: its artifact's update time moves, and `action` is audited
    with `after`, in the caller's transaction."""
    await store.touch_artifact(conn, v.artifact_id)
    await audit.record(conn, action, target=v.name, project_id=v.project_id, after=after)


async def _record_commit(conn: Conn, v: Version) -> None:
    await store.record_produced(conn, v.id, PRODUCED)
    after = {
        "manifest_digest": v.manifest_digest,
        "file_count": v.file_count,
        "total_size": v.total_size,
        "producer_run": v.producer_run,
        "expire_time": v.expire_time,
    }
    await record_new_version(conn, v, "artifact_version.commit", after)


# --- reads ---


async def get_version(deps: Deps, name: str, timeout: float) -> Version:
    vname = parse_version(name, "name")
    async with deps.pool.acquire(timeout=timeout) as conn:
        return await version_or_404(conn, vname, live=False)


async def _resolve(conn: Conn, ref: ArtifactRef) -> Version:
    v = await store.resolve(conn, ref)
    if v is not None:
        return v
    await artifact_id_or_404(conn, ref.artifact)
    if ref.version is not None:
        raise NotFound("artifact version", str(VersionName(ref.artifact, ref.version)))
    short = f"{ref.artifact.project.path}/{ref.artifact.artifact}:{ref.alias}"
    raise NotFound("artifact alias", short, f"artifact alias {short!r} not found")


async def resolve(deps: Deps, ref: str, default_parent: str, timeout: float) -> Version:
    default = parse_project(default_parent, "default_parent") if default_parent else None
    parsed = parse_artifact_ref(ref, default, "ref")
    async with deps.pool.acquire(timeout=timeout) as conn:
        return await _resolve(conn, parsed)


async def use(deps: Deps, run: str, ref: str, timeout: float, type_: str = "") -> Version:
    """Resolve `ref` (relative refs in the run's project) and record the USED edge once. With `type_`
    set, a version of another type fails (ARTIFACT_TYPE_MISMATCH) before any edge is written."""
    run_name = parse_run(run, "run")
    parsed = parse_artifact_ref(ref, run_name.project, "ref")
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        run_row = await store.run_row(conn, run_name)
        if run_row is None:
            raise NotFound("run", str(run_name))
        v = await _resolve(conn, parsed)
        if type_ and v.type != type_:
            raise FailedPrecondition(
                Reason.ARTIFACT_TYPE_MISMATCH, f"{v.name} has type {v.type!r}, not {type_!r}", type=v.type
            )
        if await store.insert_edge(conn, run_row["id"], v.id, USED):
            await audit.record(
                conn,
                "artifact_version.use",
                target=v.name,
                project_id=run_row["project_id"],
                after={"run": str(run_name)},
            )
        return v


async def get_artifact(deps: Deps, name: str, timeout: float) -> Artifact:
    aname = parse_artifact(name, "name")
    async with deps.pool.acquire(timeout=timeout) as conn:
        art = await store.get_artifact(conn, aname)
    if art is None:
        raise NotFound("artifact", str(aname))
    return art


async def list_artifacts(
    deps: Deps, parent: str, type_: str, size: int, token: str, timeout: float
) -> tuple[list[Artifact], str]:
    project_name = parse_project(parent, "parent")
    paging = page_request(("artifacts", parent, type_), size, token, str, 50, 500)
    async with deps.pool.acquire(timeout=timeout) as conn:
        project = await get_project(conn, project_name)
        arts = await store.list_artifacts(conn, project.id, type_, paging.position, paging.limit + 1)
    return paging.page(arts, lambda a: a.name.artifact)


async def list_versions(
    deps: Deps, parent: str, show_deleted: bool, size: int, token: str, timeout: float
) -> tuple[list[Version], str]:
    aname = parse_artifact(parent, "parent")
    paging = page_request(("versions", parent, show_deleted), size, token, int, 50, 500)
    async with deps.pool.acquire(timeout=timeout) as conn:
        art_id = await artifact_id_or_404(conn, aname)
        versions = await store.list_versions(conn, art_id, show_deleted, paging.position, paging.limit + 1)
    return paging.page(versions, lambda v: v.version)


async def list_entries(
    deps: Deps, version: str, prefix: str, size: int, token: str, timeout: float
) -> tuple[list[Entry], str]:
    vname = parse_version(version, "version")
    paging = page_request(("entries", version, prefix), size, token, str, 1000, 10_000)
    async with deps.pool.acquire(timeout=timeout) as conn:
        v = await version_or_404(conn, vname, live=False)
        entries = await store.list_entries(conn, v.id, prefix, paging.position, paging.limit + 1)
    return paging.page(entries, lambda e: e.path)


# --- edits and deletion ---


UPDATABLE = ("description", "metadata_json", "ttl", "ttl_disabled")


@dataclass
class VersionEdit:
    """UpdateArtifactVersion: the fields named in `mask` take the values given here."""

    name: str
    mask: list[str]
    description: str = ""
    metadata_json: str = ""
    ttl: timedelta | None = None
    ttl_disabled: bool = False


def _changes(edit: VersionEdit) -> dict[str, object]:
    """Validated column -> new value for the masked fields."""
    mask, ttl, ttl_disabled = edit.mask, edit.ttl, edit.ttl_disabled
    if not mask:
        raise InvalidArgument("update_mask", Reason.INVALID_UPDATE_MASK, "update_mask is required")
    unknown = [p for p in mask if p not in UPDATABLE]
    if unknown:
        raise InvalidArgument(
            "update_mask", Reason.INVALID_UPDATE_MASK, f"cannot update {unknown[0]!r}; updatable: {UPDATABLE}"
        )
    out: dict[str, object] = {}
    if "description" in mask:
        out["description"] = manifest.check_text(edit.description, "version.description")
    if "metadata_json" in mask:
        out["metadata"] = manifest.check_metadata(edit.metadata_json, "version.metadata_json")
    if "ttl" in mask:
        manifest.check_ttl(ttl, ttl_disabled and "ttl_disabled" in mask, "version.ttl")
        out["ttl"] = ttl
        if ttl is not None:
            out["ttl_disabled"] = False
    if "ttl_disabled" in mask:
        out["ttl_disabled"] = ttl_disabled
        if ttl_disabled:
            out["ttl"] = None
    return out


def _snapshot(v: Version) -> dict[str, object]:
    return {
        "description": v.description,
        "metadata": v.metadata_json,
        "ttl": None if v.ttl is None else v.ttl.total_seconds(),
        "ttl_disabled": v.ttl_disabled,
        "expire_time": v.expire_time,
    }


async def update_version(deps: Deps, edit: VersionEdit, timeout: float) -> Version:
    vname = parse_version(edit.name, "version.name")
    changes = _changes(edit)
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        v = await version_or_404(conn, vname)
        await store.lock_version_state(conn, v.id)
        project = await get_project_by_id(conn, v.project_id)
        await store.update_fields(conn, v.id, changes)
        await store.recompute_expiry(conn, v.id, project.default_ttl)
        after = await store.version_by_id(conn, v.id)
        before_s, after_s = _snapshot(v), _snapshot(after)
        changed = [k for k in before_s if before_s[k] != after_s[k]]
        if changed:
            await audit.record(
                conn,
                "artifact_version.update",
                target=v.name,
                project_id=v.project_id,
                before={k: before_s[k] for k in changed},
                after={k: after_s[k] for k in changed},
            )
        return after


async def delete_version(deps: Deps, name: str, delete_aliases: bool, timeout: float) -> Version:
    vname = parse_version(name, "name")
    async with deps.pool.acquire(timeout=timeout) as conn:
        project = await get_project(conn, vname.artifact.project)
        async with conn.transaction():
            await artifact_id_or_404(conn, vname.artifact, lock=True)
            v = await version_or_404(conn, vname)
            if v.custom_aliases and not delete_aliases:
                raise FailedPrecondition(
                    Reason.VERSION_HAS_ALIASES,
                    f"{v.name} holds aliases {list(v.custom_aliases)}; pass delete_aliases to delete it anyway",
                    aliases=",".join(v.custom_aliases),
                )
            await require_alias_rights(deps, project, v.custom_aliases)
            await retire(conn, v, "artifact_version.delete", "version deleted")
            return await store.version_by_id(conn, v.id)


async def retire(conn: Conn, v: Version, action: str, reason: str) -> None:
    """Soft-delete v (artifact row already locked): drop its aliases, move latest, audit."""
    if v.state == DRAFT:
        await store.delete_entries(conn, v.id)
        await store.soft_delete(conn, v.id)
        await audit.record(conn, action, target=v.name, project_id=v.project_id, before={"state": "DRAFT"})
        return
    for alias in v.custom_aliases:
        await aliases_store.move(conn, v.artifact_id, alias, None, DROPPED, actor(), reason)
    await store.soft_delete(conn, v.id)
    if LATEST in v.aliases:
        newest = await store.newest_live_version(conn, v.artifact_id)
        kind = DROPPED if newest is None else SET
        await aliases_store.move(conn, v.artifact_id, LATEST, newest, kind, actor(), reason)
    await store.touch_artifact(conn, v.artifact_id)
    await audit.record(
        conn,
        action,
        target=v.name,
        project_id=v.project_id,
        before={"state": "COMMITTED", "aliases": list(v.aliases), "expire_time": v.expire_time},
        after={"state": "DELETED"},
    )
