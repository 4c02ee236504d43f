"""SQL of the run lifecycle: create, lock, update, finish, heartbeat, crash detection (runs table only).

Run states are bound as parameters from runs/states.py. The crash scan is the exception: it formats
RUNNING into its text, because only a literal lets the planner use the partial index
`runs_running_heartbeat ... WHERE state = 1` (a bound state could get a generic plan that cannot).
"""

from __future__ import annotations

import json
from typing import Any, cast

import asyncpg

from ...common.db import Conn
from ...common.runs import RUN_COLUMNS, RUN_FROM, run_by_name, summaries_by_run
from .states import CRASHED, RUNNING


async def fetch_run(conn: Conn, entity: str, project: str, run_id: str) -> asyncpg.Record | None:
    return await run_by_name(conn, RUN_COLUMNS, entity, project, run_id)


async def fetch_run_by_id(conn: Conn, run_pk: int) -> asyncpg.Record:
    row = await conn.fetchrow(f"SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.id = $1", run_pk)
    return cast(asyncpg.Record, row)  # RETURNING: a row inserted, or one known to exist


async def lock_run(conn: Conn, project_id: int, run_id: str) -> asyncpg.Record | None:
    """Lock the run row for the rest of the transaction (serializes writers of one run)."""
    return await conn.fetchrow(
        "SELECT id, state, config::text AS config FROM runs WHERE project_id = $1 AND run_id = $2 FOR UPDATE",
        project_id,
        run_id,
    )


async def find_run(conn: Conn, entity: str, project: str, run_id: str) -> asyncpg.Record | None:
    """The run's row id, project and next step, by name (no lock)."""
    return await run_by_name(conn, "r.id, r.project_id, r.next_step", entity, project, run_id)


async def lock_run_by_name(
    conn: Conn, entity: str, project: str, run_id: str, *, editable: bool = False
) -> asyncpg.Record | None:
    """Lock the run for the transaction: id, project, state, exit code; with editable, also the fields
    an update merges into (config, display name, tags, notes). Heartbeats and finishes take the lean
    row: they run every few seconds per run and need no 1 MiB config."""
    extra = ", r.config::text AS config, r.display_name, r.tags, r.notes" if editable else ""
    columns = f"r.id, r.project_id, r.state, r.exit_code{extra}"
    return await run_by_name(conn, columns, entity, project, run_id, lock=True)


async def insert_run(conn: Conn, project_id: int, values: dict[str, Any]) -> int | None:
    """Insert a run; None when the id was taken concurrently."""
    result: int | None = await conn.fetchval(
        """INSERT INTO runs (project_id, run_id, display_name, job_type, run_group, tags, notes, config,
                             author_name, author_kind, provenance, allow_out_of_order)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11::jsonb, $12)
           ON CONFLICT (project_id, run_id) DO NOTHING RETURNING id""",
        project_id,
        values["run_id"],
        values["display_name"],
        values["job_type"],
        values["group"],
        values["tags"],
        values["notes"],
        values["config"],
        values["author_name"],
        values["author_kind"],
        json.dumps(values["provenance"]),
        values["allow_out_of_order"],
    )
    return result


async def resume_run(conn: Conn, run_pk: int, config: str | None) -> None:
    """Back to RUNNING (from any state), fresh heartbeat; config replaced when given (already merged)."""
    await conn.execute(
        """UPDATE runs SET state = $3, exit_code = 0, finish_time = NULL, heartbeat_time = now(),
                           update_time = now(), config = coalesce($2::jsonb, config)
           WHERE id = $1""",
        run_pk,
        config,
        RUNNING,
    )


async def update_fields(conn: Conn, run_pk: int, fields: dict[str, Any]) -> None:
    """Set the given columns (display_name, tags, notes, config) and bump update_time."""
    columns = {"display_name": "display_name", "tags": "tags", "notes": "notes", "config": "config"}
    sets, args = ["update_time = now()"], [run_pk]
    for name, value in fields.items():
        args.append(value)
        cast = "::jsonb" if name == "config" else ""
        sets.append(f"{columns[name]} = ${len(args)}{cast}")
    await conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = $1", *args)


async def finish_run(conn: Conn, run_pk: int, state: int, exit_code: int) -> None:
    await conn.execute(
        """UPDATE runs SET state = $2, exit_code = $3, finish_time = now(), update_time = now()
           WHERE id = $1""",
        run_pk,
        state,
        exit_code,
    )


async def heartbeat(conn: Conn, run_pk: int, revive: bool) -> None:
    if revive:
        await conn.execute(
            "UPDATE runs SET heartbeat_time = now(), state = $2, finish_time = NULL, update_time = now() "
            "WHERE id = $1",
            run_pk,
            RUNNING,
        )
    else:
        await conn.execute("UPDATE runs SET heartbeat_time = now() WHERE id = $1", run_pk)


async def mark_crashed(conn: Conn, timeout_seconds: float) -> list[asyncpg.Record]:
    """Running runs silent for longer than the timeout become CRASHED (finish_time = last sign of life)."""
    return await conn.fetch(
        f"""UPDATE runs r SET state = $2, finish_time = r.heartbeat_time, update_time = now()
            FROM projects p, entities e
            WHERE r.state = {RUNNING} AND r.heartbeat_time < now() - make_interval(secs => $1)
              AND p.id = r.project_id AND e.id = p.entity_id
            RETURNING r.id, r.project_id, r.run_id, e.name AS entity, p.name AS project, r.heartbeat_time""",
        timeout_seconds,
        CRASHED,
    )


async def summaries(conn: Conn, run_pk: int) -> list[Any]:
    return (await summaries_by_run(conn, [run_pk]))[run_pk]
