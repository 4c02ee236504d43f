"""SQL of the lineage service (no logic beyond what a query expresses).

The graph lives in `lineage_edges(run_id, version_id, kind)`: PRODUCED (1) is run -> version, USED (2)
is version -> run. Walking upstream from a version follows PRODUCED edges to its producer run; from a
run, USED edges to the versions it consumed. Downstream is the mirror image. Both lookups are served by
indexes: the primary key (run_id, version_id, kind) and lineage_edges_version (version_id, kind).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from ..common.runs import RUN_FROM

PRODUCED, USED = 1, 2
COMMITTED, DELETED = 2, 3

# One hop of a breadth-first walk: every edge leaving the frontier, with what the neighbour needs for
# filtering (its project for visibility; job type / artifact type filters are applied here). The graph
# is bipartite (run <-> version), so a frontier is all versions or all runs: one statement per hop.
# Columns: run_id, version_id, kind, create_time, neighbour project_id.
HOP_FROM_VERSIONS_SQL = """
SELECT e.run_id, e.version_id, e.kind, e.create_time, r.project_id
FROM lineage_edges e JOIN runs r ON r.id = e.run_id
WHERE e.version_id = ANY($1::bigint[]) AND e.kind = $2
  AND (cardinality($3::text[]) = 0 OR r.job_type = ANY($3::text[]))
"""
HOP_FROM_RUNS_SQL = """
SELECT e.run_id, e.version_id, e.kind, e.create_time, a.project_id
FROM lineage_edges e
JOIN artifact_versions v ON v.id = e.version_id
JOIN artifacts a ON a.id = v.artifact_id
WHERE e.run_id = ANY($1::bigint[]) AND e.kind = $2 AND v.version IS NOT NULL
  AND (cardinality($3::text[]) = 0 OR a.type = ANY($3::text[]))
"""


async def prefer_generic_plans(conn: asyncpg.Connection, timeout: float) -> None:
    """Inside the walk's transaction only: reuse one plan for the hop statements instead of
    re-planning each execution (planning costs more than running a hop; bench/bench_lineage.py)."""
    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan", timeout=timeout)


async def hop_from_versions(
    conn: asyncpg.Connection, ids: Sequence[int], *, upstream: bool, job_types: Sequence[str], timeout: float
) -> list[asyncpg.Record]:
    """Upstream: the runs that produced the versions; downstream: the runs that used them."""
    kind = PRODUCED if upstream else USED
    return await conn.fetch(HOP_FROM_VERSIONS_SQL, list(ids), kind, list(job_types), timeout=timeout)


async def hop_from_runs(
    conn: asyncpg.Connection,
    ids: Sequence[int],
    *,
    upstream: bool,
    artifact_types: Sequence[str],
    timeout: float,
) -> list[asyncpg.Record]:
    """Upstream: the versions the runs used; downstream: the versions they produced."""
    kind = USED if upstream else PRODUCED
    return await conn.fetch(HOP_FROM_RUNS_SQL, list(ids), kind, list(artifact_types), timeout=timeout)


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


async def run_details(conn: asyncpg.Connection, ids: Sequence[int], timeout: float) -> list[asyncpg.Record]:
    return await conn.fetch(RUN_DETAILS_SQL, list(ids), timeout=timeout) if ids else []


async def version_details(
    conn: asyncpg.Connection, ids: Sequence[int], timeout: float
) -> list[asyncpg.Record]:
    return await conn.fetch(VERSION_DETAILS_SQL, list(ids), timeout=timeout) if ids else []


# --- resolving what callers name ---

_VERSION_FROM = """FROM artifact_versions v
JOIN artifacts a ON a.id = v.artifact_id
JOIN projects p ON p.id = a.project_id
JOIN entities e ON e.id = p.entity_id"""
_VERSION_COLUMNS = "v.id, a.project_id, v.artifact_id, v.version, v.state, v.producer_run_id"


async def find_run(
    conn: asyncpg.Connection, entity: str, project: str, run_id: str, timeout: float
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT r.id, r.project_id FROM {RUN_FROM} WHERE e.name = $1 AND p.name = $2 AND r.run_id = $3",
        entity,
        project,
        run_id,
        timeout=timeout,
    )


async def find_version(
    conn: asyncpg.Connection, entity: str, project: str, artifact: str, version: int, timeout: float
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {_VERSION_COLUMNS} {_VERSION_FROM}
            WHERE e.name = $1 AND p.name = $2 AND a.name = $3 AND v.version = $4
              AND v.state IN ({COMMITTED}, {DELETED})""",
        entity,
        project,
        artifact,
        version,
        timeout=timeout,
    )


async def find_alias(
    conn: asyncpg.Connection, entity: str, project: str, artifact: str, alias: str, timeout: float
) -> asyncpg.Record | None:
    """The version holding an alias. "latest" falls back to the highest committed version when the
    registry keeps no row for it."""
    row = await conn.fetchrow(
        f"""SELECT {_VERSION_COLUMNS} {_VERSION_FROM} JOIN aliases al ON al.version_id = v.id
            WHERE e.name = $1 AND p.name = $2 AND a.name = $3 AND al.alias = $4 AND v.state = {COMMITTED}""",
        entity,
        project,
        artifact,
        alias,
        timeout=timeout,
    )
    if row is not None or alias != "latest":
        return row
    return await conn.fetchrow(
        f"""SELECT {_VERSION_COLUMNS} {_VERSION_FROM}
            WHERE e.name = $1 AND p.name = $2 AND a.name = $3 AND v.state = {COMMITTED}
            ORDER BY v.version DESC LIMIT 1""",
        entity,
        project,
        artifact,
        timeout=timeout,
    )


# --- retroactive edges ---


async def lock_version(conn: asyncpg.Connection, version_id: int, timeout: float) -> asyncpg.Record:
    """Serialize edge changes of one version (two links racing to become its producer)."""
    return await conn.fetchrow(
        "SELECT id, state, producer_run_id FROM artifact_versions WHERE id = $1 FOR UPDATE",
        version_id,
        timeout=timeout,
    )


async def producer_runs(conn: asyncpg.Connection, version_id: int, timeout: float) -> list[int]:
    rows = await conn.fetch(
        "SELECT run_id FROM lineage_edges WHERE version_id = $1 AND kind = $2",
        version_id,
        PRODUCED,
        timeout=timeout,
    )
    return [r["run_id"] for r in rows]


async def set_producer_if_unset(
    conn: asyncpg.Connection, version_id: int, run_id: int, timeout: float
) -> None:
    await conn.execute(
        "UPDATE artifact_versions SET producer_run_id = $2 WHERE id = $1 AND producer_run_id IS NULL",
        version_id,
        run_id,
        timeout=timeout,
    )


async def insert_edge(
    conn: asyncpg.Connection, run_id: int, version_id: int, kind: int, timeout: float
) -> tuple[datetime, bool]:
    """Insert the edge once; returns (create_time, existed)."""
    created = await conn.fetchval(
        """INSERT INTO lineage_edges (run_id, version_id, kind) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING create_time""",
        run_id,
        version_id,
        kind,
        timeout=timeout,
    )
    if created is not None:
        return created, False
    existing = await conn.fetchval(
        "SELECT create_time FROM lineage_edges WHERE run_id = $1 AND version_id = $2 AND kind = $3",
        run_id,
        version_id,
        kind,
        timeout=timeout,
    )
    return existing, True


# --- version diffs ---

MANIFEST_DIFF_SQL = """
WITH o AS (SELECT path, sha256, size, ref_uri, ref_etag FROM manifest_entries WHERE version_id = $1),
     n AS (SELECT path, sha256, size, ref_uri, ref_etag FROM manifest_entries WHERE version_id = $2),
     d AS (
       SELECT coalesce(o.path, n.path) AS path, o.path IS NOT NULL AS in_old, n.path IS NOT NULL AS in_new,
              o.sha256 AS old_sha256, n.sha256 AS new_sha256, o.size AS old_size, n.size AS new_size,
              o.ref_uri AS old_ref, n.ref_uri AS new_ref
       FROM o FULL JOIN n ON o.path = n.path
       WHERE o.path IS NULL OR n.path IS NULL OR o.sha256 IS DISTINCT FROM n.sha256
          OR o.ref_uri IS DISTINCT FROM n.ref_uri OR o.ref_etag IS DISTINCT FROM n.ref_etag)
SELECT d.*,
       count(*) FILTER (WHERE NOT in_old) OVER () AS added,
       count(*) FILTER (WHERE NOT in_new) OVER () AS removed,
       count(*) FILTER (WHERE in_old AND in_new) OVER () AS changed
FROM d ORDER BY path LIMIT $3
"""


async def manifest_diff(
    conn: asyncpg.Connection, old_id: int, new_id: int, limit: int, timeout: float
) -> list[asyncpg.Record]:
    return await conn.fetch(MANIFEST_DIFF_SQL, old_id, new_id, limit, timeout=timeout)


METADATA_DIFF_SQL = """
WITH m AS (
  SELECT id, CASE WHEN jsonb_typeof(metadata) = 'object' THEN metadata ELSE '{}'::jsonb END AS doc
  FROM artifact_versions WHERE id = ANY(ARRAY[$1, $2]::bigint[]))
SELECT coalesce(o.key, n.key) AS key, o.value::text AS old_value, n.value::text AS new_value
FROM (SELECT (jsonb_each(doc)).* FROM m WHERE id = $1) o
FULL JOIN (SELECT (jsonb_each(doc)).* FROM m WHERE id = $2) n ON o.key = n.key
WHERE o.value IS DISTINCT FROM n.value
ORDER BY 1
"""


async def metadata_diff(
    conn: asyncpg.Connection, old_id: int, new_id: int, timeout: float
) -> list[asyncpg.Record]:
    """Top-level keys whose JSON values differ (jsonb equality: key order and number spelling ignored)."""
    return await conn.fetch(METADATA_DIFF_SQL, old_id, new_id, timeout=timeout)


PRODUCER_SQL = f"""
SELECT r.project_id, e.name AS entity, p.name AS project, r.run_id, r.config::text AS config
FROM {RUN_FROM} JOIN artifact_versions v ON v.producer_run_id = r.id
WHERE v.id = $1
"""


async def producer(conn: asyncpg.Connection, version_id: int, timeout: float) -> asyncpg.Record | None:
    """The run that produced a version (its first producer), with its config as JSON text."""
    return await conn.fetchrow(PRODUCER_SQL, version_id, timeout=timeout)
