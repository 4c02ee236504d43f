"""SQL of version diffs: manifest and metadata differences, and a version's producing run."""

from __future__ import annotations

import asyncpg

from ...common.db import Conn
from ...common.runs import RUN_FROM

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
    conn: Conn, old_id: int, new_id: int, limit: int, timeout: float
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


async def metadata_diff(conn: Conn, old_id: int, new_id: int, timeout: float) -> list[asyncpg.Record]:
    """Top-level keys whose JSON values differ (jsonb equality: key order and number spelling ignored)."""
    return await conn.fetch(METADATA_DIFF_SQL, old_id, new_id, timeout=timeout)


PRODUCER_SQL = f"""
SELECT r.project_id, e.name AS entity, p.name AS project, r.run_id, r.config::text AS config
FROM {RUN_FROM} JOIN artifact_versions v ON v.producer_run_id = r.id
WHERE v.id = $1
"""


async def producer(conn: Conn, version_id: int, timeout: float) -> asyncpg.Record | None:
    """The run that produced a version (its first producer), with its config as JSON text."""
    return await conn.fetchrow(PRODUCER_SQL, version_id, timeout=timeout)
