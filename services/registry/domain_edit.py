"""Editing committed versions: description, metadata and TTL (the manifest never changes), and deletion.

Every edit is audited with the fields' values before and after. TTL: `ttl` set means "expire at commit
time + ttl"; `ttl` cleared means the project's default TTL applies; `ttl_disabled` means never expire.
Deleting a version soft-deletes it (state DELETED: gone from resolution and listings); one holding custom
aliases is refused (VERSION_HAS_ALIASES) unless delete_aliases; if it held "latest", "latest" moves to the
newest remaining version. Its blobs are reclaimed by the next GC pass if nothing else references them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import asyncpg

from ..common import audit
from ..common.deps import Deps
from ..common.errors import FailedPrecondition, InvalidArgument, Reason
from ..common.names import parse_version
from ..common.projects import get_project, get_project_by_id
from . import manifest, store, store_alias
from .domain import actor, artifact_id_or_404, connection, require_alias_rights, transaction, version_or_404
from .model import DRAFT, DROPPED, LATEST, SET, Version

UPDATABLE = ("description", "metadata_json", "ttl", "ttl_disabled")


def _changes(
    mask: Sequence[str], description: str, metadata_json: str, ttl: timedelta | None, ttl_disabled: bool
) -> dict[str, object]:
    """Validated column -> new value for the masked fields."""
    if not mask:
        raise InvalidArgument("update_mask", Reason.INVALID_UPDATE_MASK, "update_mask is required")
    unknown = [p for p in mask if p not in UPDATABLE]
    if unknown:
        raise InvalidArgument(
            "update_mask", Reason.INVALID_UPDATE_MASK, f"cannot update {unknown[0]!r}; updatable: {UPDATABLE}"
        )
    out: dict[str, object] = {}
    if "description" in mask:
        out["description"] = manifest.check_text(description, "version.description")
    if "metadata_json" in mask:
        out["metadata"] = manifest.check_metadata(metadata_json, "version.metadata_json")
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


async def update_version(
    deps: Deps,
    name: str,
    mask: Sequence[str],
    values: tuple[str, str, timedelta | None, bool],
    timeout: float,
) -> Version:
    vname = parse_version(name, "version.name")
    changes = _changes(mask, *values)
    async with transaction(deps, timeout) as conn:
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
    async with connection(deps, timeout) as conn:
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


async def retire(conn: asyncpg.Connection, v: Version, action: str, reason: str) -> None:
    """Soft-delete v (artifact row already locked): drop its aliases, move latest, audit."""
    if v.state == DRAFT:
        await conn.execute("DELETE FROM manifest_entries WHERE version_id = $1", v.id)
        await store.soft_delete(conn, v.id)
        await audit.record(conn, action, target=v.name, project_id=v.project_id, before={"state": "DRAFT"})
        return
    for alias in v.custom_aliases:
        await store_alias.move(conn, v.artifact_id, alias, None, DROPPED, actor(), reason)
    await store.soft_delete(conn, v.id)
    if LATEST in v.aliases:
        newest = await store.newest_live_version(conn, v.artifact_id)
        kind = DROPPED if newest is None else SET
        await store_alias.move(conn, v.artifact_id, LATEST, newest, kind, actor(), reason)
    await store.touch_artifact(conn, v.artifact_id)
    await audit.record(
        conn,
        action,
        target=v.name,
        project_id=v.project_id,
        before={"state": "COMMITTED", "aliases": list(v.aliases), "expire_time": v.expire_time},
        after={"state": "DELETED"},
    )
