"""Aliases: movable names for versions, unique per artifact, with a complete history.

"latest" is automatic (it follows the newest committed version) and, like "vN", cannot be set, removed or
reverted by hand (RESERVED_ALIAS). A custom alias is one row per (artifact, alias), so at every instant
exactly one version holds it; a move rewrites that row and appends an alias_events row with from/to,
actor, reason and a per-artifact revision, in one transaction under the artifact's row lock. Revert moves
an alias back to the version that held it before its last event. Aliases named in the project's
protected_aliases may be moved only by project admins (PROTECTED_ALIAS otherwise).
"""

from __future__ import annotations

from ..common import audit
from ..common.deps import Deps
from ..common.errors import FailedPrecondition, NotFound, Reason
from ..common.names import ALIAS_RE, VersionName, check, check_alias, parse_artifact, parse_version
from ..common.projects import get_project
from . import manifest, paging, store, store_alias
from .domain import (
    actor,
    artifact_id_or_404,
    connection,
    require_alias_rights,
    set_aliases,
    version_or_404,
)
from .model import COMMITTED, REMOVED, REVERTED, Alias, AliasEvent


async def set_alias(deps: Deps, version: str, alias: str, reason: str, timeout: float) -> AliasEvent:
    vname = parse_version(version, "version", allow_draft=False)
    check_alias(alias)
    manifest.check_text(reason, "reason", manifest.MAX_REASON_BYTES)
    async with connection(deps, timeout) as conn:
        project = await get_project(conn, vname.artifact.project)
        await require_alias_rights(deps, project, [alias])
        async with conn.transaction():
            art_id = await artifact_id_or_404(conn, vname.artifact, lock=True)
            v = await version_or_404(conn, vname)
            await set_aliases(conn, v, [alias], reason)
            event = await store_alias.last_event(conn, vname.artifact, art_id, alias)
            assert event is not None
            return event


async def remove_alias(deps: Deps, artifact: str, alias: str, reason: str, timeout: float) -> AliasEvent:
    aname = parse_artifact(artifact, "artifact")
    check_alias(alias)
    manifest.check_text(reason, "reason", manifest.MAX_REASON_BYTES)
    async with connection(deps, timeout) as conn:
        project = await get_project(conn, aname.project)
        await require_alias_rights(deps, project, [alias])
        async with conn.transaction():
            art_id = await artifact_id_or_404(conn, aname, lock=True)
            held = await store_alias.holder(conn, art_id, alias)
            if held is None:
                raise NotFound("artifact alias", f"{aname}:{alias}")
            before = (await store.version_by_id(conn, held)).name
            revision = await store_alias.move(conn, art_id, alias, None, REMOVED, actor(), reason)
            await audit.record(
                conn,
                "alias.remove",
                target=f"{aname}:{alias}",
                project_id=project.id,
                before={"version": before},
                after={"version": None, "reason": reason},
            )
            return await store_alias.event_at(conn, aname, art_id, revision)


async def revert_alias(deps: Deps, artifact: str, alias: str, reason: str, timeout: float) -> AliasEvent:
    aname = parse_artifact(artifact, "artifact")
    check_alias(alias)
    manifest.check_text(reason, "reason", manifest.MAX_REASON_BYTES)
    async with connection(deps, timeout) as conn:
        project = await get_project(conn, aname.project)
        await require_alias_rights(deps, project, [alias])
        async with conn.transaction():
            art_id = await artifact_id_or_404(conn, aname, lock=True)
            last = await store_alias.last_event(conn, aname, art_id, alias)
            if last is None:
                raise NotFound("artifact alias", f"{aname}:{alias}")
            target = await _revert_target(conn, art_id, last)
            current = await store_alias.holder_number(conn, art_id, alias)
            before = None if current is None else str(VersionName(aname, current[1]))
            revision = await store_alias.move(conn, art_id, alias, target.id, REVERTED, actor(), reason)
            await audit.record(
                conn,
                "alias.revert",
                target=f"{aname}:{alias}",
                project_id=project.id,
                before={"version": before},
                after={"version": target.name, "reason": reason},
            )
            return await store_alias.event_at(conn, aname, art_id, revision)


async def _revert_target(conn, art_id: int, last: AliasEvent):  # type: ignore[no-untyped-def]
    if not last.from_version:
        raise FailedPrecondition(
            Reason.NOTHING_TO_REVERT, f"alias {last.alias!r} has no earlier holder to revert to"
        )
    target = await store.find_version(conn, parse_version(last.from_version, "artifact"))
    if target is None or target.state != COMMITTED:
        raise FailedPrecondition(
            Reason.NOTHING_TO_REVERT, f"the earlier holder {last.from_version} was deleted or expired"
        )
    return target


async def list_aliases(deps: Deps, artifact: str, timeout: float) -> list[Alias]:
    aname = parse_artifact(artifact, "artifact")
    async with connection(deps, timeout) as conn:
        project = await get_project(conn, aname.project)
        art_id = await artifact_id_or_404(conn, aname)
        return await store_alias.list_aliases(conn, aname, art_id, project.protected_aliases)


async def history(
    deps: Deps, artifact: str, alias: str, size: int, token: str, timeout: float
) -> tuple[list[AliasEvent], str]:
    aname = parse_artifact(artifact, "artifact")
    if alias:
        check(alias, ALIAS_RE, "alias", "alias")
    limit = paging.page_size(size, 50, 1000)
    query = ("alias_history", artifact, alias)
    before = paging.decode(token, query, int)
    async with connection(deps, timeout) as conn:
        art_id = await artifact_id_or_404(conn, aname)
        events = await store_alias.history(conn, aname, art_id, alias, before, limit + 1)
    return paging.page(events, limit, lambda e: e.revision, query)
