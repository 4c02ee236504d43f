"""SQL of graph walks: one hop from a frontier, and the details of the nodes reached.

The graph lives in `lineage_edges(run_id, version_id, kind)`: PRODUCED is run -> version, USED is
version -> run (kind holds strata.lineage.v1.EdgeKind numbers). Walking upstream from a version
follows PRODUCED (and LINKED: a registry link to a version the run produced) edges to its producer run; from a run, USED edges to the versions it consumed.
Downstream is the mirror image. Both lookups are served by indexes: the primary key (run_id, version_id, kind) and lineage_edges_version (version_id, kind).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ...common.db import Conn
from ...common.runs import RUN_FROM
from ..model import EdgeKind

PRODUCED, USED = EdgeKind.PRODUCED, EdgeKind.USED
# run -> version edges: PRODUCED, and LINKED (a registry link to a version the run produced)
_FORWARD = [int(PRODUCED), int(EdgeKind.LINKED)]

# One hop of a breadth-first walk: every edge leaving the frontier, with what the neighbour needs for
# filtering (its project for visibility; job type / artifact type filters are applied here). The graph
# is bipartite (run <-> version), so a frontier is all versions or all runs: one statement per hop.
# Columns: run_id, version_id, kind, create_time, neighbour project_id.
HOP_FROM_VERSIONS_SQL = """
SELECT e.run_id, e.version_id, e.kind, e.create_time, r.project_id
FROM lineage_edges e JOIN runs r ON r.id = e.run_id
WHERE e.version_id = ANY($1::bigint[]) AND e.kind = ANY($2::smallint[])
  AND (cardinality($3::text[]) = 0 OR r.job_type = ANY($3::text[]))
"""
HOP_FROM_RUNS_SQL = """
SELECT e.run_id, e.version_id, e.kind, e.create_time, a.project_id
FROM lineage_edges e
JOIN artifact_versions v ON v.id = e.version_id
JOIN artifacts a ON a.id = v.artifact_id
WHERE e.run_id = ANY($1::bigint[]) AND e.kind = ANY($2::smallint[]) AND v.version IS NOT NULL
  AND (cardinality($3::text[]) = 0 OR a.type = ANY($3::text[]))
"""


async def prefer_generic_plans(conn: Conn, timeout: float) -> None:
    """Inside the walk's transaction only: reuse one plan for the hop statements instead of
    re-planning each execution (planning costs more than running a hop; bench/bench_lineage.py)."""
    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan", timeout=timeout)


async def hop_from_versions(
    conn: Conn, ids: Sequence[int], *, upstream: bool, job_types: Sequence[str], timeout: float
) -> list[asyncpg.Record]:
    """Upstream: the runs that produced the versions; downstream: the runs that used them."""
    kinds = _FORWARD if upstream else [int(USED)]
    return await conn.fetch(HOP_FROM_VERSIONS_SQL, list(ids), kinds, list(job_types), timeout=timeout)


async def hop_from_runs(
    conn: Conn,
    ids: Sequence[int],
    *,
    upstream: bool,
    artifact_types: Sequence[str],
    timeout: float,
) -> list[asyncpg.Record]:
    """Upstream: the versions the runs used; downstream: the versions they produced."""
    kinds = [int(USED)] if upstream else _FORWARD
    return await conn.fetch(HOP_FROM_RUNS_SQL, list(ids), kinds, list(artifact_types), timeout=timeout)


RUN_DETAILS_SQL = f"""
SELECT r.id, r.project_id, e.name AS entity, p.name AS project, r.run_id, r.display_name, r.job_type,
       r.state
FROM {RUN_FROM}
WHERE r.id = ANY($1::bigint[])
"""

VERSION_DETAILS_SQL = """
SELECT v.id, a.project_id, e.name AS entity, p.name AS project, a.name AS artifact, a.type, v.version,
       v.state, v.artifact_id
FROM artifact_versions v
JOIN artifacts a ON a.id = v.artifact_id
JOIN projects p ON p.id = a.project_id
JOIN entities e ON e.id = p.entity_id
WHERE v.id = ANY($1::bigint[])
"""


async def run_details(conn: Conn, ids: Sequence[int], timeout: float) -> list[asyncpg.Record]:
    return await conn.fetch(RUN_DETAILS_SQL, list(ids), timeout=timeout) if ids else []


async def version_details(conn: Conn, ids: Sequence[int], timeout: float) -> list[asyncpg.Record]:
    return await conn.fetch(VERSION_DETAILS_SQL, list(ids), timeout=timeout) if ids else []
