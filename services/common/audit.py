"""The audit log: one row per committed mutating action, written in the action's own transaction.

Call `record()` with the connection of the transaction that performs the action: if the action rolls
back, so does its audit record (a failed action leaves none). Actor, source address and request id
come from the call context; background tasks record the system principal. The event's entity is the
owner of `project_id` unless `entity_id` names one (global actions: a team's member change, a key).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .context import current_call, current_principal
from .db import Conn


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


async def record(
    conn: Conn,
    action: str,
    *,
    target: str,
    project_id: int | None = None,
    before: Any = None,
    after: Any = None,
    entity_id: int | None = None,
) -> None:
    """Append one audit event. `action` is dotted lower_snake, e.g. "run.create", "alias.set"."""
    call = current_call()
    principal = current_principal()
    await conn.execute(
        """INSERT INTO audit_events (actor_name, actor_kind, source_address, request_id, action,
                                     project_id, target, before, after, entity_id)
           VALUES ($1, $2, $3, $4, $5, $6::bigint, $7, $8::jsonb, $9::jsonb,
                   COALESCE($10::bigint, (SELECT entity_id FROM projects WHERE id = $6::bigint)))""",
        principal.name,
        principal.kind,
        call.peer if call else "",
        call.request_id if call else "",
        action,
        project_id,
        target,
        _json(before),
        _json(after),
        entity_id,
    )


@dataclass(frozen=True)
class Event:
    """One audit event of `record_many`."""

    target: str
    project_id: int | None = None
    before: Any = None
    after: Any = None


async def record_many(conn: Conn, action: str, events: Sequence[Event]) -> None:
    """Append many events of one action in ONE statement (a bulk action records one event per item
    without a round trip each)."""
    if not events:
        return
    call = current_call()
    principal = current_principal()
    await conn.execute(
        """INSERT INTO audit_events (actor_name, actor_kind, source_address, request_id, action,
                                     project_id, target, before, after, entity_id)
           SELECT $1, $2, $3, $4, $5, e.project_id, e.target, e.before::jsonb, e.after::jsonb,
                  (SELECT entity_id FROM projects WHERE id = e.project_id)
           FROM unnest($6::bigint[], $7::text[], $8::text[], $9::text[])
                AS e(project_id, target, before, after)""",
        principal.name,
        principal.kind,
        call.peer if call else "",
        call.request_id if call else "",
        action,
        [e.project_id for e in events],
        [e.target for e in events],
        [_json(e.before) for e in events],
        [_json(e.after) for e in events],
    )
