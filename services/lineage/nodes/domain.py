"""What every lineage call starts with: its transaction, the caller's visibility, resolved nodes.

No gRPC and no SQL here (SQL is in store.py).

Visibility is decided in one place, `Visibility`, which asks the authorizer which projects the caller
may read (once per project per call). Nodes in other projects are left out as if they did not exist,
and walks do not pass through them. A call reads one snapshot: `snapshot()` opens a read-only
REPEATABLE READ transaction, `writing()` a read-write one (retroactive edges).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from ...common.auth import Authorizer
from ...common.context import Principal
from ...common.errors import InvalidArgument, NotFound, Reason
from ...common.names import ArtifactRef, RunName, parse_artifact_ref, parse_run
from ..model import NodeKey, NodeKind
from . import store


class Visibility:
    """The one place lineage decides which nodes a caller may see (cached per call)."""

    def __init__(self, authorizer: Authorizer, principal: Principal, conn: Any = None) -> None:
        self.authorizer, self.principal, self.conn = authorizer, principal, conn
        self._readable: dict[int, bool] = {}

    async def readable(self, project_ids: Iterable[int]) -> set[int]:
        wanted = set(project_ids)
        unknown = wanted - self._readable.keys()
        if unknown:
            allowed = await self.authorizer.readable_project_ids(self.principal, unknown, conn=self.conn)
            self._readable.update({p: p in allowed for p in unknown})
        return {p for p in wanted if self._readable[p]}


@dataclass
class Reader:
    """What every read needs: a connection inside the call's snapshot, visibility, the deadline."""

    conn: Any  # asyncpg connection, used only through store functions
    visibility: Visibility
    timeout: float


@dataclass(frozen=True)
class Caller:
    """What a lineage call needs besides its arguments: the pool, who asks, and the deadline."""

    pool: asyncpg.Pool
    authorizer: Authorizer
    principal: Principal
    timeout: float


@contextlib.asynccontextmanager
async def snapshot(caller: Caller, *, write: bool = False) -> AsyncIterator[Reader]:
    """A connection in one snapshot (read-only REPEATABLE READ), or (write) a read-write transaction."""
    async with caller.pool.acquire(timeout=caller.timeout) as conn:
        # the authorizer reads project rows on this connection: no second pool connection per call
        visibility = Visibility(caller.authorizer, caller.principal, conn)
        tx = conn.transaction() if write else conn.transaction(isolation="repeatable_read", readonly=True)
        async with tx:
            yield Reader(conn, visibility, caller.timeout)


@dataclass(frozen=True)
class Resolved:
    key: NodeKey
    project_id: int
    name: str
    artifact_id: int | None = None
    state: int | None = None
    producer_run_id: int | None = None


def _names_a_run(value: str) -> bool:
    parts = value.split("/")
    return len(parts) == 6 and parts[0] == "entities" and parts[4] == "runs"


def parse_node(value: str, field_name: str) -> RunName | ArtifactRef:
    """A run resource name, a version resource name, or a fully qualified artifact ref."""
    if _names_a_run(value):
        return parse_run(value, field_name)
    return parse_artifact_ref(value, None, field_name)


async def resolve(reader: Reader, value: str, field_name: str) -> Resolved:
    """Find a node; NOT_FOUND (with the resource) when it does not exist or the caller may not read it."""
    parsed = parse_node(value, field_name)
    if isinstance(parsed, RunName):
        p = parsed.project
        row = await store.find_run(reader.conn, p.entity, p.project, parsed.run_id, reader.timeout)
        found = None if row is None else Resolved((NodeKind.RUN, row["id"]), row["project_id"], str(parsed))
        what = ("run", str(parsed))
    else:
        found, what = await _resolve_version(reader, parsed)
    if found is None or not await reader.visibility.readable([found.project_id]):
        raise NotFound(*what)
    return found


async def resolve_version(reader: Reader, value: str, field_name: str) -> Resolved:
    """Like resolve(), but the node must be an artifact version."""
    if _names_a_run(value):
        raise InvalidArgument(field_name, Reason.INVALID_NAME, f"{field_name} must name an artifact version")
    return await resolve(reader, value, field_name)


async def _resolve_version(reader: Reader, ref: ArtifactRef) -> tuple[Resolved | None, tuple[str, str]]:
    a, p = ref.artifact, ref.artifact.project
    if ref.version is not None:
        row = await store.find_version(
            reader.conn, p.entity, p.project, a.artifact, ref.version, reader.timeout
        )
        what = ("artifact_version", f"{a}/versions/v{ref.version}")
    else:
        alias = ref.alias or "latest"
        row = await store.find_alias(reader.conn, p.entity, p.project, a.artifact, alias, reader.timeout)
        what = ("artifact_version", f"{a}:{alias}")
    if row is None:
        return None, what
    resolved = Resolved(
        (NodeKind.VERSION, row["id"]),
        row["project_id"],
        f"{a}/versions/v{row['version']}",
        artifact_id=row["artifact_id"],
        state=row["state"],
        producer_run_id=row["producer_run_id"],
    )
    return resolved, what
