"""Reading the audit log (no gRPC, no SQL). Who may read which events was decided by the authorizer
(AUDIT_READ: project admins for a project filter, entity admins for an entity filter, server admins for
everything); here filters are resolved and pages built. Exports stream oldest first up to the newest
event that existed when the export started, in pages, each page its own short query."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from ..common.errors import InvalidArgument, NotFound, Reason
from ..common.names import parse_entity, parse_project
from . import store, store_audit, store_projects
from .domain import Ctx, Page, decode_token, next_token, page_size

EXPORT_PAGE = 500


@dataclass(frozen=True)
class Filter:
    project: str = ""
    entity: str = ""
    actor: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    actions: list[str] = field(default_factory=list)


async def _query(conn: asyncpg.Connection, f: Filter) -> store_audit.AuditQuery:
    project_id = entity_id = None
    if f.project:
        name = parse_project(f.project, "filter.project")
        row = await store_projects.get_project(conn, name.entity, name.project)
        if row is None:
            raise NotFound("project", f.project)
        project_id = row["id"]
    if f.entity:
        entity = await store.get_entity(conn, parse_entity(f.entity, "filter.entity"))
        if entity is None:
            raise NotFound("entity", f.entity)
        entity_id = entity["id"]
    if f.start_time and f.end_time and f.end_time <= f.start_time:
        raise InvalidArgument("filter.end_time", Reason.OUT_OF_RANGE, "end_time must be after start_time")
    return store_audit.AuditQuery(project_id, entity_id, f.actor or None, f.start_time, f.end_time, f.actions)


async def list_events(ctx: Ctx, f: Filter, size: int, token: str) -> Page:
    limit = page_size(size)
    before = decode_token(token, "audit", 0) or None
    async with ctx.conn() as conn:
        q = await _query(conn, f)
        rows = await store_audit.list_events(conn, q, limit, before_id=before)
    return Page(rows, next_token(rows, limit, "audit", "id"))


async def export_events(ctx: Ctx, f: Filter) -> AsyncIterator[list[asyncpg.Record]]:
    async with ctx.conn() as conn:
        q = await _query(conn, f)
        max_id = await store_audit.max_event_id(conn)
    after = 0
    while after < max_id:
        async with ctx.conn() as conn:
            rows = await store_audit.list_events(conn, q, EXPORT_PAGE, after_id=after, max_id=max_id)
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]
