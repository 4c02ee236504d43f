"""SQL of aliases and their history. Every move runs under the artifact's row lock (taken by the caller),
bumps the artifact's alias revision, rewrites the alias row and appends an alias_events row, and
notifies watchers on every replica through PostgreSQL NOTIFY (delivered when the transaction commits).
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from ...common.db import Conn
from ...common.names import ArtifactName, VersionName
from ..model import Alias, AliasEvent

NOTIFY_CHANNEL = "strata_alias_moves"

_EVENT_SELECT = """SELECT ev.alias, ev.revision, ev.kind, fv.version AS from_num, tv.version AS to_num,
    ev.to_version_id, ev.actor_name, ev.actor_kind, ev.reason, ev.create_time
  FROM alias_events ev
  LEFT JOIN artifact_versions fv ON fv.id = ev.from_version_id
  LEFT JOIN artifact_versions tv ON tv.id = ev.to_version_id"""


async def listen(conn: Conn, callback: Callable[..., None]) -> None:
    """Make `conn` receive the NOTIFY of every alias move (on every replica)."""
    await conn.add_listener(NOTIFY_CHANNEL, callback)


async def unlisten(conn: Conn, callback: Callable[..., None]) -> None:
    await conn.remove_listener(NOTIFY_CHANNEL, callback)


async def ping(conn: Conn, timeout: float) -> None:
    """A round trip proving the (listening) connection is still alive."""
    await conn.fetchval("SELECT 1", timeout=timeout)


def _vname(artifact: ArtifactName, number: int | None) -> str:
    return "" if number is None else str(VersionName(artifact, number))


def event_from_row(artifact: ArtifactName, r: asyncpg.Record) -> AliasEvent:
    return AliasEvent(
        artifact=str(artifact),
        alias=r["alias"],
        revision=r["revision"],
        kind=r["kind"],
        from_version=_vname(artifact, r["from_num"]),
        to_version=_vname(artifact, r["to_num"]),
        actor_name=r["actor_name"],
        actor_kind=r["actor_kind"],
        reason=r["reason"],
        create_time=r["create_time"],
        to_version_id=r["to_version_id"],
    )


async def holder(conn: Conn, artifact_id: int, alias: str) -> int | None:
    result: int | None = await conn.fetchval(
        "SELECT version_id FROM aliases WHERE artifact_id = $1 AND alias = $2", artifact_id, alias
    )
    return result


async def holder_number(conn: Conn, artifact_id: int, alias: str) -> tuple[int, int] | None:
    """(version id, version number) of the alias's holder (holders are committed versions)."""
    row = await conn.fetchrow(
        """SELECT v.id, v.version FROM aliases al JOIN artifact_versions v ON v.id = al.version_id
           WHERE al.artifact_id = $1 AND al.alias = $2""",
        artifact_id,
        alias,
    )
    return None if row is None else (row["id"], row["version"])


async def move(
    conn: Conn,
    artifact_id: int,
    alias: str,
    to_version_id: int | None,
    kind: int,
    actor: tuple[str, int],
    reason: str,
) -> int:
    """Point `alias` at `to_version_id` (None: remove it) and record the event; returns its revision."""
    revision: int = await conn.fetchval(
        "UPDATE artifacts SET alias_revision = alias_revision + 1 WHERE id = $1 RETURNING alias_revision",
        artifact_id,
    )
    from_id = await _rewrite(conn, artifact_id, alias, to_version_id, revision)
    await conn.execute(
        """INSERT INTO alias_events (artifact_id, alias, revision, kind, from_version_id, to_version_id,
               actor_name, actor_kind, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        artifact_id,
        alias,
        revision,
        kind,
        from_id,
        to_version_id,
        actor[0],
        actor[1],
        reason,
    )
    await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, f"{artifact_id}:{revision}")
    return revision


async def _rewrite(
    conn: Conn, artifact_id: int, alias: str, to_version_id: int | None, revision: int
) -> int | None:
    """Rewrite (or delete) the alias row; returns the id of the version that held it before."""
    if to_version_id is None:
        result: int | None = await conn.fetchval(
            "DELETE FROM aliases WHERE artifact_id = $1 AND alias = $2 RETURNING version_id",
            artifact_id,
            alias,
        )
        return result
    from_id = await holder(conn, artifact_id, alias)
    await conn.execute(
        """INSERT INTO aliases (artifact_id, alias, version_id, revision) VALUES ($1, $2, $3, $4)
           ON CONFLICT (artifact_id, alias) DO UPDATE
           SET version_id = EXCLUDED.version_id, revision = EXCLUDED.revision, update_time = now()""",
        artifact_id,
        alias,
        to_version_id,
        revision,
    )
    return from_id


async def event_at(conn: Conn, artifact: ArtifactName, artifact_id: int, revision: int) -> AliasEvent:
    r = await conn.fetchrow(
        _EVENT_SELECT + " WHERE ev.artifact_id = $1 AND ev.revision = $2", artifact_id, revision
    )
    assert r is not None  # an event named by its revision exists
    return event_from_row(artifact, r)


async def last_event(conn: Conn, artifact: ArtifactName, artifact_id: int, alias: str) -> AliasEvent | None:
    r = await conn.fetchrow(
        _EVENT_SELECT + " WHERE ev.artifact_id = $1 AND ev.alias = $2 ORDER BY ev.revision DESC LIMIT 1",
        artifact_id,
        alias,
    )
    return None if r is None else event_from_row(artifact, r)


async def history(
    conn: Conn,
    artifact: ArtifactName,
    artifact_id: int,
    alias: str,
    before: int | None,
    limit: int,
) -> list[AliasEvent]:
    rows = await conn.fetch(
        _EVENT_SELECT
        + """ WHERE ev.artifact_id = $1 AND ($2 = '' OR ev.alias = $2) AND ($3::bigint IS NULL OR ev.revision < $3)
              ORDER BY ev.revision DESC LIMIT $4""",
        artifact_id,
        alias,
        before,
        limit,
    )
    return [event_from_row(artifact, r) for r in rows]


async def events_after(
    conn: Conn, artifact: ArtifactName, artifact_id: int, alias: str, after: int, limit: int
) -> list[AliasEvent]:
    rows = await conn.fetch(
        _EVENT_SELECT
        + " WHERE ev.artifact_id = $1 AND ev.alias = $2 AND ev.revision > $3 ORDER BY ev.revision LIMIT $4",
        artifact_id,
        alias,
        after,
        limit,
    )
    return [event_from_row(artifact, r) for r in rows]


async def list_aliases(
    conn: Conn, artifact: ArtifactName, artifact_id: int, protected: tuple[str, ...]
) -> list[Alias]:
    rows = await conn.fetch(
        """SELECT al.alias, al.version_id, v.version, al.revision, al.update_time
           FROM aliases al JOIN artifact_versions v ON v.id = al.version_id
           WHERE al.artifact_id = $1 ORDER BY al.alias""",
        artifact_id,
    )
    return [
        Alias(
            alias=r["alias"],
            version=str(VersionName(artifact, r["version"])),
            version_id=r["version_id"],
            revision=r["revision"],
            protected=r["alias"] in protected,
            update_time=r["update_time"],
        )
        for r in rows
    ]
