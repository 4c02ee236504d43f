"""SQL of reports and their revisions (no rules here: the domain decides)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ...common.db import Conn


@dataclass(frozen=True)
class Actor:
    name: str
    kind: int


@dataclass(frozen=True)
class ReportRow:
    pk: int
    project_id: int
    entity: str
    project: str
    report_id: str
    title: str
    revision: int
    content: bytes
    creator: Actor
    create_time: datetime
    updater: Actor
    update_time: datetime

    @property
    def name(self) -> str:
        return f"entities/{self.entity}/projects/{self.project}/reports/{self.report_id}"


@dataclass(frozen=True)
class RevisionRow:
    revision: int
    title: str
    content: bytes
    author: Actor
    create_time: datetime
    action: str
    reverted_from: int


_REPORT = """SELECT r.id, r.project_id, e.name AS entity, p.name AS project, r.report_id, r.title, r.revision,
                    {content} AS content, r.creator_name, r.creator_kind, r.create_time, r.updater_name,
                    r.updater_kind, r.update_time
             FROM reports r JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id"""


def _report(r: asyncpg.Record) -> ReportRow:
    return ReportRow(
        r["id"], r["project_id"], r["entity"], r["project"], r["report_id"], r["title"], r["revision"],
        bytes(r["content"]), Actor(r["creator_name"], r["creator_kind"]), r["create_time"],
        Actor(r["updater_name"], r["updater_kind"]), r["update_time"],
    )  # fmt: skip


async def insert_report(
    conn: Conn, project_id: int, report_id: str, title: str, content: bytes, actor: Actor
) -> int:
    pk: int = await conn.fetchval(
        """INSERT INTO reports (project_id, report_id, title, revision, content, creator_name, creator_kind,
                                updater_name, updater_kind)
           VALUES ($1, $2, $3, 1, $4, $5, $6, $5, $6) RETURNING id""",
        project_id, report_id, title, content, actor.name, actor.kind,
    )  # fmt: skip
    return pk


async def get_report(
    conn: Conn, entity: str, project: str, report_id: str, *, lock: bool = False
) -> ReportRow | None:
    sql = _REPORT.format(content="r.content") + " WHERE e.name = $1 AND p.name = $2 AND r.report_id = $3"
    r = await conn.fetchrow(sql + (" FOR UPDATE OF r" if lock else ""), entity, project, report_id)
    return None if r is None else _report(r)


async def update_report(conn: Conn, pk: int, revision: int, title: str, content: bytes, actor: Actor) -> None:
    await conn.execute(
        """UPDATE reports SET revision = $2, title = $3, content = $4, updater_name = $5, updater_kind = $6,
                              update_time = now() WHERE id = $1""",
        pk, revision, title, content, actor.name, actor.kind,
    )  # fmt: skip


async def delete_report(conn: Conn, pk: int) -> None:
    await conn.execute("DELETE FROM reports WHERE id = $1", pk)


async def list_reports(conn: Conn, project_id: int, before_pk: int | None, limit: int) -> list[ReportRow]:
    """A project's reports, newest first, without their content (b'')."""
    rows = await conn.fetch(
        _REPORT.format(content="''::bytea")
        + " WHERE r.project_id = $1 AND ($2::int8 IS NULL OR r.id < $2) ORDER BY r.id DESC LIMIT $3",
        project_id,
        before_pk,
        limit,
    )
    return [_report(r) for r in rows]


async def insert_revision(
    conn: Conn, pk: int, revision: int, title: str, content: bytes, actor: Actor, action: str,
    reverted_from: int = 0,
) -> datetime:  # fmt: skip
    created: datetime = await conn.fetchval(
        """INSERT INTO report_revisions (report_pk, revision, title, content, author_name, author_kind,
                                         action, reverted_from)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING create_time""",
        pk, revision, title, content, actor.name, actor.kind, action, reverted_from,
    )  # fmt: skip
    return created


_REVISION = """SELECT revision, title, content, author_name, author_kind, create_time, action, reverted_from
               FROM report_revisions WHERE report_pk = $1"""


def _revision(r: asyncpg.Record) -> RevisionRow:
    author = Actor(r["author_name"], r["author_kind"])
    return RevisionRow(
        r["revision"],
        r["title"],
        bytes(r["content"]),
        author,
        r["create_time"],
        r["action"],
        r["reverted_from"],
    )


async def list_revisions(conn: Conn, pk: int, before: int | None, limit: int) -> Sequence[RevisionRow]:
    rows = await conn.fetch(
        _REVISION + " AND ($2::int8 IS NULL OR revision < $2) ORDER BY revision DESC LIMIT $3",
        pk,
        before,
        limit,
    )
    return [_revision(r) for r in rows]


async def get_revision(conn: Conn, pk: int, revision: int) -> RevisionRow | None:
    r = await conn.fetchrow(_REVISION + " AND revision = $2", pk, revision)
    return None if r is None else _revision(r)
