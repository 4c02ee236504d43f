"""Reading the audit log (no gRPC, no SQL). Who may read which events was decided by the authorizer
(AUDIT_READ: project admins for a project filter, entity admins for an entity filter, server admins for
everything); here filters are resolved and pages built. Exports stream oldest first up to the newest
event that existed when the export started, in pages, each page its own short query."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import datetime

import asyncpg

from ...common import paging
from ...common import text as textcheck
from ...common.db import Conn
from ...common.deps import Deps
from ...common.errors import InvalidArgument, NotFound, Reason
from ...common.names import parse_entity, parse_project
from ..accounts import store as accounts_store
from ..projects import store as projects_store
from . import store

EXPORT_PAGE = 500
MAX_FILTER_ACTIONS = 100
PAGE_DEFAULT, PAGE_MAXIMUM = 100, 1000  # ListAuditEvents


@dataclass(frozen=True)
class Filter:
    project: str = ""
    entity: str = ""
    actor: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    actions: list[str] = field(default_factory=list)


def check_filter(f: Filter) -> Filter:
    """Every string of the filter is bounded free text without U+0000 (common/text.py)."""
    for name in ("project", "entity", "actor"):
        textcheck.check(getattr(f, name), f"filter.{name}", textcheck.FILTER_VALUE_MAX)
    if len(f.actions) > MAX_FILTER_ACTIONS:
        raise InvalidArgument("filter.actions", Reason.TOO_LARGE, f"at most {MAX_FILTER_ACTIONS} actions")
    for i, action in enumerate(f.actions):
        textcheck.check(action, f"filter.actions[{i}]", textcheck.FILTER_VALUE_MAX)
    return f


async def _query(conn: Conn, f: Filter) -> store.AuditQuery:
    check_filter(f)
    project_id = entity_id = None
    if f.project:
        name = parse_project(f.project, "filter.project")
        row = await projects_store.get_project(conn, name.entity, name.project)
        if row is None:
            raise NotFound("project", f.project)
        project_id = row["id"]
    if f.entity:
        entity = await accounts_store.get_entity(conn, parse_entity(f.entity, "filter.entity"))
        if entity is None:
            raise NotFound("entity", f.entity)
        entity_id = entity["id"]
    if f.start_time and f.end_time and f.end_time <= f.start_time:
        raise InvalidArgument("filter.end_time", Reason.OUT_OF_RANGE, "end_time must be after start_time")
    return store.AuditQuery(project_id, entity_id, f.actor or None, f.start_time, f.end_time, f.actions)


async def list_events(
    deps: Deps, f: Filter, size: int, token: str, timeout: float
) -> tuple[list[asyncpg.Record], str]:
    """Events matching the filter, newest first."""
    query = {"list": "audit", "filter": asdict(check_filter(f))}
    req = paging.page_request(query, size, token, int, PAGE_DEFAULT, PAGE_MAXIMUM)
    async with deps.pool.acquire(timeout=timeout) as conn:
        q = await _query(conn, f)
        rows = await store.list_events(conn, q, req.limit + 1, before_id=req.position or None)
    return req.page(rows, lambda r: r["id"])


async def export_events(deps: Deps, f: Filter, timeout: float) -> AsyncIterator[list[asyncpg.Record]]:
    """Every matching event up to the newest one when the export starts, oldest first, in pages."""
    async with deps.pool.acquire(timeout=timeout) as conn:
        q = await _query(conn, f)
        max_id = await store.max_event_id(conn)
    after = 0
    while after < max_id:
        async with deps.pool.acquire(timeout=timeout) as conn:
            rows = await store.list_events(conn, q, EXPORT_PAGE, after_id=after, max_id=max_id)
        if not rows:
            return
        yield rows
        after = rows[-1]["id"]
