"""Reports and their revisions: create, read, save (against the revision the edit started from),
list, delete, and revert. No gRPC and no SQL here.

Every save writes the report's new content and a revision row (who, when, what) and an audit event,
all in one transaction; the report row is locked while the caller's revision is compared, so of two
edits that started from the same revision exactly one is saved and the other is ABORTED with reason
STALE_REVISION. Contents are opaque bytes here (the serialized spec, validated before it arrives).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import asyncpg

from ...common import audit, paging
from ...common.context import current_principal
from ...common.db import Conn
from ...common.deps import Deps
from ...common.errors import Aborted, InvalidArgument, NotFound, Reason
from ...common.names import ChildName, parse_child, parse_project
from ...common.projects import ensure_project, get_project
from . import store
from .store import Actor, ReportRow, RevisionRow

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Content:
    """What a save writes: the report's title (kept in its own column for listing) and its spec bytes."""

    title: str
    data: bytes


def _actor() -> Actor:
    principal = current_principal()
    return Actor(principal.name, principal.kind)


def parse_report(name: str, field: str = "name") -> ChildName:
    return parse_child(name, "reports", field)


def parse_revision(name: str, field: str = "name") -> tuple[ChildName, int]:
    report, sep, number = name.rpartition("/revisions/")
    if not sep or not number.isdigit() or len(number) > 18:
        raise InvalidArgument(
            field, Reason.INVALID_NAME, f"{field} must look like {{report}}/revisions/{{n}}"
        )
    return parse_report(report, field), int(number)


async def _load(conn: Conn, name: ChildName, *, lock: bool = False) -> ReportRow:
    row = await store.get_report(conn, name.project.entity, name.project.project, name.id, lock=lock)
    if row is None:
        raise NotFound("report", str(name))
    return row


async def create_report(deps: Deps, parent: str, content: Content) -> ReportRow:
    """Create a report at revision 1; like a run, it creates its project on first use (and, in open
    local mode, the project's entity)."""
    project_name = parse_project(parent)
    actor = _actor()
    create_entity = deps.authorizer.mode == "open-local"
    async with deps.pool.acquire() as conn, conn.transaction():
        project = await ensure_project(conn, project_name, create_entity=create_entity)
        report_id = secrets.token_hex(6)
        pk = await store.insert_report(conn, project.id, report_id, content.title, content.data, actor)
        await store.insert_revision(conn, pk, 1, content.title, content.data, actor, "create")
        name = ChildName(project_name, "reports", report_id)
        await audit.record(
            conn, "report.create", target=str(name), project_id=project.id, after={"title": content.title}
        )
        return await _load(conn, name)


async def get_report(pool: asyncpg.Pool, name: str) -> ReportRow:
    report = parse_report(name)
    async with pool.acquire() as conn:
        return await _load(conn, report)


async def update_report(pool: asyncpg.Pool, name: str, expected: int, content: Content) -> ReportRow:
    """Save `content` as the next revision, if the report is still at revision `expected`."""
    report = parse_report(name, "report.name")
    if expected <= 0:
        raise InvalidArgument(
            "report.revision", Reason.FIELD_REQUIRED, "report.revision (the revision edited) is required"
        )
    async with pool.acquire() as conn, conn.transaction():
        row = await _load(conn, report, lock=True)
        _check_current(row, expected)
        await _save(conn, row, content, "update")
        return await _load(conn, report)


def _check_current(row: ReportRow, expected: int) -> None:
    if row.revision != expected:
        raise Aborted(
            Reason.STALE_REVISION,
            f"the report is at revision {row.revision}, the edit started from {expected}: reload and retry",
            current_revision=str(row.revision),
        )


async def _save(conn: Conn, row: ReportRow, content: Content, action: str, reverted_from: int = 0) -> None:
    actor = _actor()
    revision = row.revision + 1
    await store.update_report(conn, row.pk, revision, content.title, content.data, actor)
    await store.insert_revision(
        conn, row.pk, revision, content.title, content.data, actor, action, reverted_from
    )
    after = {"title": content.title, "revision": revision}
    if reverted_from:
        after["reverted_from"] = reverted_from
    await audit.record(
        conn, f"report.{action}", target=row.name, project_id=row.project_id,
        before={"title": row.title, "revision": row.revision}, after=after,
    )  # fmt: skip


async def revert_report(pool: asyncpg.Pool, name: str, revision: int, expected: int) -> ReportRow:
    """Save revision `revision`'s content as a new revision (history is never rewritten)."""
    report = parse_report(name)
    if revision <= 0:
        raise InvalidArgument("revision", Reason.FIELD_REQUIRED, "revision is required")
    async with pool.acquire() as conn, conn.transaction():
        row = await _load(conn, report, lock=True)
        if expected:
            _check_current(row, expected)
        old = await store.get_revision(conn, row.pk, revision)
        if old is None:
            raise NotFound("report revision", f"{report}/revisions/{revision}")
        await _save(conn, row, Content(old.title, old.content), "revert", revision)
        return await _load(conn, report)


async def delete_report(pool: asyncpg.Pool, name: str) -> None:
    report = parse_report(name)
    async with pool.acquire() as conn, conn.transaction():
        row = await _load(conn, report, lock=True)
        await store.delete_report(conn, row.pk)
        await audit.record(
            conn, "report.delete", target=row.name, project_id=row.project_id,
            before={"title": row.title, "revision": row.revision},
        )  # fmt: skip


async def list_reports(
    pool: asyncpg.Pool, parent: str, page_size: int, token: str
) -> tuple[list[ReportRow], str]:
    project_name = parse_project(parent)
    size = paging.page_size(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    query = ["reports", str(project_name)]
    before = paging.decode_as(token, query, int)
    async with pool.acquire() as conn:
        project = await get_project(conn, project_name)
        rows = await store.list_reports(conn, project.id, before, size + 1)
    return paging.page(rows, size, lambda r: r.pk, query)


async def list_revisions(
    pool: asyncpg.Pool, name: str, page_size: int, token: str
) -> tuple[ReportRow, list[RevisionRow], str]:
    report = parse_report(name, "parent")
    size = paging.page_size(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    query = ["report_revisions", str(report)]
    before = paging.decode_as(token, query, int)
    async with pool.acquire() as conn:
        row = await _load(conn, report)
        revisions = await store.list_revisions(conn, row.pk, before, size + 1)
    kept, next_token = paging.page(revisions, size, lambda r: r.revision, query)
    return row, kept, next_token


async def get_revision(pool: asyncpg.Pool, name: str) -> tuple[ReportRow, RevisionRow]:
    report, number = parse_revision(name)
    async with pool.acquire() as conn:
        row = await _load(conn, report)
        revision = await store.get_revision(conn, row.pk, number)
    if revision is None:
        raise NotFound("report revision", name)
    return row, revision
