"""SQL of the audit log: reads only. Rows are written by services/common/audit.record in the
transaction of each action, and the table refuses UPDATE, DELETE and TRUNCATE (a trigger)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from ...common.db import Conn

_EVENT = """a.id, a.create_time, a.actor_name, a.actor_kind, a.source_address, a.request_id, a.action,
            a.target, a.before::text AS before_json, a.after::text AS after_json,
            CASE WHEN p.id IS NULL THEN '' ELSE 'entities/' || pe.name || '/projects/' || p.name END
              AS project"""
_FROM = """audit_events a LEFT JOIN projects p ON p.id = a.project_id
           LEFT JOIN entities pe ON pe.id = p.entity_id"""


@dataclass(frozen=True)
class AuditQuery:
    project_id: int | None = None
    entity_id: int | None = None
    actor: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    actions: list[str] = field(default_factory=list)


def _where(q: AuditQuery, args: list[object]) -> list[str]:
    """The WHERE clauses of the filter's set fields (empty actor and actions are unset); their
    values appended to `args`."""
    conditions: list[tuple[str, object]] = [
        ("a.project_id = ?", q.project_id),
        ("a.entity_id = ?", q.entity_id),
        ("a.actor_name = ?", q.actor or None),
        ("a.create_time >= ?", q.start_time),
        ("a.create_time < ?", q.end_time),
        ("a.action = ANY(?::text[])", q.actions or None),
    ]
    clauses: list[str] = []
    for sql, value in conditions:
        if value is not None:
            args.append(value)
            clauses.append(sql.replace("?", f"${len(args)}"))
    return clauses


async def list_events(
    conn: Conn,
    q: AuditQuery,
    limit: int,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    max_id: int | None = None,
) -> list[asyncpg.Record]:
    """Newest first below `before_id`; or oldest first above `after_id` (up to `max_id`) for exports."""
    args: list[object] = []
    clauses = _where(q, args)
    ascending = after_id is not None
    for sql, value in (("a.id < ?", before_id), ("a.id > ?", after_id), ("a.id <= ?", max_id)):
        if value is not None:
            args.append(value)
            clauses.append(sql.replace("?", f"${len(args)}"))
    args.append(limit)
    where = " AND ".join(clauses) or "true"
    order = "ASC" if ascending else "DESC"
    return await conn.fetch(
        f"SELECT {_EVENT} FROM {_FROM} WHERE {where} ORDER BY a.id {order} LIMIT ${len(args)}", *args
    )


async def max_event_id(conn: Conn) -> int:
    result: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM audit_events")
    return result
