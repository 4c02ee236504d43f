"""Deleting a run (DeleteRun): the run row goes, and with it (ON DELETE CASCADE) its metric keys,
summaries, rollups, media index, files and lineage edges; artifact versions it produced stay, with no
producer run. metric_chunks carries no foreign key (it is partitioned and written by COPY), so its rows
are deleted here explicitly, in the same transaction. One audit record (run.delete) keeps what the run
was, in the same transaction."""

from __future__ import annotations

from ...common import audit
from ...common.db import DEFAULT_TIMEOUT, Conn
from ...common.deps import Deps
from ...common.errors import NotFound
from ...common.names import RunName
from . import store


async def delete_run(deps: Deps, name: RunName, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Delete the run; NOT_FOUND when it does not exist (a second delete of the same run)."""
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        row = await store.lock_run_by_name(
            conn, name.project.entity, name.project.project, name.run_id, editable=True
        )
        if row is None:
            raise NotFound("run", str(name))
        before = {"state": row["state"], "display_name": row["display_name"], "tags": list(row["tags"])}
        await _delete(conn, row["id"])
        await audit.record(conn, "run.delete", target=str(name), project_id=row["project_id"], before=before)


async def _delete(conn: Conn, run_pk: int) -> None:
    await conn.execute("DELETE FROM metric_chunks WHERE run_id = $1", run_pk)
    await conn.execute("DELETE FROM runs WHERE id = $1", run_pk)
