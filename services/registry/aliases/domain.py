"""Aliases: movable names for versions, unique per artifact, with a complete history.

"latest" is automatic (it follows the newest committed version) and, like "vN", cannot be set, removed or
reverted by hand (RESERVED_ALIAS). A custom alias is one row per (artifact, alias), so at every instant
exactly one version holds it; a move rewrites that row and appends an alias_events row with from/to,
actor, reason and a per-artifact revision, in one transaction under the artifact's row lock. Revert moves
an alias back to the version that held it before its last event. Aliases named in the project's
protected_aliases may be moved only by project admins (PROTECTED_ALIAS otherwise).

Every move a caller asks for (SetAlias, RemoveAlias, RevertAlias, aliases set at commit) goes through
`move_alias`, which records the history event and the audit record together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

from ...common import audit
from ...common.auth.policy import Access
from ...common.context import current_principal
from ...common.db import Conn
from ...common.deps import Deps
from ...common.errors import FailedPrecondition, NotFound, PermissionDenied, Reason
from ...common.names import (
    ALIAS_RE,
    ArtifactName,
    VersionName,
    check,
    check_alias,
    parse_artifact,
    parse_version,
)
from ...common.paging import page_request
from ...common.projects import Project, get_project
from ..lookup import actor, artifact_id_or_404, version_or_404
from ..model import COMMITTED, REMOVED, REVERTED, SET, Alias, AliasEvent, Version
from ..versions import manifest
from ..versions import store as versions_store
from . import store

AUDIT_ACTIONS: dict[int, str] = {SET: "alias.set", REMOVED: "alias.remove", REVERTED: "alias.revert"}


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


async def move_alias(
    conn: Conn,
    artifact: ArtifactName,
    artifact_id: int,
    project_id: int,
    alias: str,
    to: Version | None,
    kind: int,
    reason: str,
) -> int | None:
    """Point `alias` at `to` (None: remove it) in the caller's transaction (artifact row locked),
    appending the history event and the audit record; returns the event's revision. Setting an alias
    on the version already holding it records nothing and returns None."""
    current = await store.holder_number(conn, artifact_id, alias)
    if kind == SET and to is not None and current is not None and current[0] == to.id:
        return None
    before = None if current is None else str(VersionName(artifact, current[1]))
    revision = await store.move(
        conn, artifact_id, alias, None if to is None else to.id, kind, actor(), reason
    )
    await audit.record(
        conn,
        AUDIT_ACTIONS[kind],
        target=f"{artifact}:{alias}",
        project_id=project_id,
        before={"version": before},
        after={"version": None if to is None else to.name, "reason": reason},
    )
    return revision


async def set_aliases(conn: Conn, v: Version, aliases: Sequence[str], reason: str) -> None:
    """Point each alias at v (moving it from its holder); no-op for the aliases v already holds."""
    for alias in aliases:
        await move_alias(conn, v.artifact, v.artifact_id, v.project_id, alias, v, SET, reason)


def _check_request(alias: str, reason: str) -> None:
    check_alias(alias)
    manifest.check_text(reason, "reason", manifest.MAX_REASON_BYTES)


@asynccontextmanager
async def _alias_change(
    deps: Deps, aname: ArtifactName, alias: str, reason: str, timeout: float
) -> AsyncIterator[tuple[Conn, Project, int]]:
    """Check the request and the caller's right to move `alias`, then hold the artifact's row lock in
    a transaction for the block; yields (conn, project, artifact id)."""
    _check_request(alias, reason)
    async with deps.pool.acquire(timeout=timeout) as conn:
        project = await get_project(conn, aname.project)
        await require_alias_rights(deps, project, [alias])
        async with conn.transaction():
            yield conn, project, await artifact_id_or_404(conn, aname, lock=True)


async def set_alias(deps: Deps, version: str, alias: str, reason: str, timeout: float) -> AliasEvent:
    vname = parse_version(version, "version", allow_draft=False)
    async with _alias_change(deps, vname.artifact, alias, reason, timeout) as (conn, _, art_id):
        v = await version_or_404(conn, vname)
        await set_aliases(conn, v, [alias], reason)
        event = await store.last_event(conn, vname.artifact, art_id, alias)
        assert event is not None
        return event


async def remove_alias(deps: Deps, artifact: str, alias: str, reason: str, timeout: float) -> AliasEvent:
    aname = parse_artifact(artifact, "artifact")
    async with _alias_change(deps, aname, alias, reason, timeout) as (conn, project, art_id):
        if await store.holder(conn, art_id, alias) is None:
            raise NotFound("artifact alias", f"{aname}:{alias}")
        revision = await move_alias(conn, aname, art_id, project.id, alias, None, REMOVED, reason)
        assert revision is not None
        return await store.event_at(conn, aname, art_id, revision)


async def revert_alias(deps: Deps, artifact: str, alias: str, reason: str, timeout: float) -> AliasEvent:
    aname = parse_artifact(artifact, "artifact")
    async with _alias_change(deps, aname, alias, reason, timeout) as (conn, project, art_id):
        last = await store.last_event(conn, aname, art_id, alias)
        if last is None:
            raise NotFound("artifact alias", f"{aname}:{alias}")
        target = await _revert_target(conn, last)
        revision = await move_alias(conn, aname, art_id, project.id, alias, target, REVERTED, reason)
        assert revision is not None
        return await store.event_at(conn, aname, art_id, revision)


async def _revert_target(conn: Conn, last: AliasEvent) -> Version:
    if not last.from_version:
        raise FailedPrecondition(
            Reason.NOTHING_TO_REVERT, f"alias {last.alias!r} has no earlier holder to revert to"
        )
    target = await versions_store.find_version(conn, parse_version(last.from_version, "artifact"))
    if target is None or target.state != COMMITTED:
        raise FailedPrecondition(
            Reason.NOTHING_TO_REVERT, f"the earlier holder {last.from_version} was deleted or expired"
        )
    return target


async def list_aliases(deps: Deps, artifact: str, timeout: float) -> list[Alias]:
    aname = parse_artifact(artifact, "artifact")
    async with deps.pool.acquire(timeout=timeout) as conn:
        project = await get_project(conn, aname.project)
        art_id = await artifact_id_or_404(conn, aname)
        return await store.list_aliases(conn, aname, art_id, project.protected_aliases)


async def history(
    deps: Deps, artifact: str, alias: str, size: int, token: str, timeout: float
) -> tuple[list[AliasEvent], str]:
    aname = parse_artifact(artifact, "artifact")
    if alias:
        check(alias, ALIAS_RE, "alias", "alias")
    paging = page_request(("alias_history", artifact, alias), size, token, int, 50, 1000)
    async with deps.pool.acquire(timeout=timeout) as conn:
        art_id = await artifact_id_or_404(conn, aname)
        events = await store.history(conn, aname, art_id, alias, paging.position, paging.limit + 1)
    return paging.page(events, lambda e: e.revision)
