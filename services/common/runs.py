"""Run rows -> strata.ingest.v1.Run messages, shared by the ingest, query and lineage services.

`RUN_COLUMNS` selects what `run_from_row` needs from `runs r JOIN projects p JOIN entities e`;
`summaries_by_run` loads metric_keys summaries for many runs in one query.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

import asyncpg
from strata.common.v1 import actor_pb2
from strata.ingest.v1 import run_pb2

from .db import Conn
from .wellknown import timestamp_message

RUN_FROM = "runs r JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id"
# strata.ingest.v1.RunState numbers -> the names filters and answers use ("finished" for
# RUN_STATE_FINISHED), taken from the generated enum so no number is restated here
RUN_STATE_NAMES = {
    number: name.removeprefix("RUN_STATE_").lower()
    for name, number in run_pb2.RunState.items()
    if number != run_pb2.RUN_STATE_UNSPECIFIED
}
RUN_COLUMNS = """r.id, r.run_id, e.name AS entity, p.name AS project, r.display_name, r.state, r.job_type,
    r.run_group, r.tags, r.notes, r.config::text AS config, r.exit_code, r.author_name, r.author_kind,
    r.provenance::text AS provenance, r.allow_out_of_order, r.next_step, r.point_count, r.create_time,
    r.update_time, r.heartbeat_time, r.finish_time"""


async def run_by_name(
    conn: Conn,
    columns: str,
    entity: str,
    project: str,
    run_id: str,
    *,
    timeout: float | None = None,
    lock: bool = False,
) -> asyncpg.Record | None:
    """`columns` (over RUN_FROM's r, p, e) of the run entity/project/run_id; with `lock`, the run row
    is locked FOR UPDATE for the rest of the transaction."""
    locking = " FOR UPDATE OF r" if lock else ""
    return await conn.fetchrow(
        f"SELECT {columns} FROM {RUN_FROM} WHERE e.name = $1 AND p.name = $2 AND r.run_id = $3{locking}",
        entity,
        project,
        run_id,
        timeout=timeout,
    )


ts = timestamp_message  # the name the convert modules use


def run_name(entity: str, project: str, run_id: str) -> str:
    return f"entities/{entity}/projects/{project}/runs/{run_id}"


def run_from_row(
    row: asyncpg.Record, summary: Sequence[run_pb2.MetricSummary] = (), *, include_config: bool = True
) -> run_pb2.Run:
    prov = json.loads(row["provenance"] or "{}")
    run = run_pb2.Run(
        name=run_name(row["entity"], row["project"], row["run_id"]),
        run_id=row["run_id"],
        display_name=row["display_name"],
        state=row["state"],
        job_type=row["job_type"],
        group=row["run_group"],
        tags=list(row["tags"]),
        notes=row["notes"],
        config_json=row["config"] if include_config else "",
        exit_code=row["exit_code"],
        author=actor_pb2.Actor(name=row["author_name"], kind=row["author_kind"]),
        provenance=actor_pb2.Provenance(**{k: v for k, v in prov.items() if k in _PROVENANCE_FIELDS}),
        allow_out_of_order_steps=row["allow_out_of_order"],
        next_step=row["next_step"],
        point_count=row["point_count"],
        summary=list(summary),
    )
    for field in ("create_time", "update_time", "heartbeat_time", "finish_time"):
        value = ts(row[field])
        if value is not None:
            getattr(run, field).CopyFrom(value)
    return run


_PROVENANCE_FIELDS = set(actor_pb2.Provenance.DESCRIPTOR.fields_by_name)

SUMMARY_COLUMNS = """run_id, key, count, finite_count, last, last_step, min, min_step, max, max_step, sum,
    override::text AS override"""


def summary_from_row(row: asyncpg.Record) -> run_pb2.MetricSummary:
    finite = row["finite_count"]
    return run_pb2.MetricSummary(
        key=row["key"],
        last=row["last"] if row["last"] is not None else math.nan,
        last_step=row["last_step"],
        min=row["min"] if row["min"] is not None else math.nan,
        min_step=row["min_step"] or 0,
        max=row["max"] if row["max"] is not None else math.nan,
        max_step=row["max_step"] or 0,
        mean=row["sum"] / finite if finite else math.nan,
        count=row["count"],
        finite_count=finite,
        override_json=row["override"] or "",
    )


async def summaries_by_run(
    conn: Conn, run_ids: Iterable[int], keys: Sequence[str] | None = None
) -> dict[int, list[run_pb2.MetricSummary]]:
    rows = await summary_rows_by_run(conn, run_ids, keys)
    return {run: [summary_from_row(r) for r in records] for run, records in rows.items()}


async def summary_rows_by_run(
    conn: Conn, run_ids: Iterable[int], keys: Sequence[str] | None = None
) -> dict[int, list[asyncpg.Record]]:
    """metric_keys rows (SUMMARY_COLUMNS) of many runs, each run's in key order; `keys` None: all."""
    ids = list(run_ids)
    out: dict[int, list[asyncpg.Record]] = {i: [] for i in ids}
    if not ids:
        return out
    if keys is None:
        rows = await conn.fetch(
            f"SELECT {SUMMARY_COLUMNS} FROM metric_keys WHERE run_id = ANY($1) ORDER BY run_id, key", ids
        )
    else:
        rows = await conn.fetch(
            f"SELECT {SUMMARY_COLUMNS} FROM metric_keys WHERE run_id = ANY($1) AND key = ANY($2) ORDER BY run_id, key",
            ids,
            list(keys),
        )
    for r in rows:
        out[r["run_id"]].append(r)
    return out
