"""SQL of artifacts, versions and manifests (aliases: aliases/store.py, GC: gc/store.py).

Locking order, everywhere: the artifact row (FOR UPDATE) first, then version rows, then blob rows
(FOR SHARE). Commits and alias moves of one artifact serialize on its row; that is what makes version
numbers gap-free and alias moves atomic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from ...common.db import Conn
from ...common.names import ArtifactName, ArtifactRef, ProjectName, RunName, VersionName
from ...common.rows import dataclass_from_row
from ...common.runs import run_by_name
from ..model import COMMITTED, DELETED, DRAFT, ENTRY_COLUMNS, LATEST, Artifact, Entry, Version

_NAMES = """JOIN artifacts a ON a.id = v.artifact_id
    JOIN projects p ON p.id = a.project_id
    JOIN entities e ON e.id = p.entity_id"""

VERSION_SELECT = f"""SELECT v.id, v.artifact_id, a.project_id, e.name AS entity, p.name AS project,
    a.name AS artifact_name, a.type, v.version, v.draft_id, v.state, v.description,
    v.metadata::text AS metadata,
    ARRAY(SELECT al.alias FROM aliases al WHERE al.version_id = v.id ORDER BY al.alias) AS aliases,
    v.manifest_digest, v.file_count, v.total_size, v.ttl, v.ttl_disabled, v.expire_time,
    CASE WHEN v.producer_run_id IS NULL THEN '' ELSE coalesce((
      SELECT 'entities/' || re.name || '/projects/' || rp.name || '/runs/' || r.run_id
      FROM runs r JOIN projects rp ON rp.id = r.project_id JOIN entities re ON re.id = rp.entity_id
      WHERE r.id = v.producer_run_id), '') END AS producer_run,
    CASE WHEN v.base_version_id IS NULL THEN '' ELSE coalesce((
      SELECT 'entities/' || e.name || '/projects/' || p.name || '/artifacts/' || ba.name || '/versions/v' || bv.version
      FROM artifact_versions bv JOIN artifacts ba ON ba.id = bv.artifact_id
      WHERE bv.id = v.base_version_id AND bv.version IS NOT NULL), '') END AS base_version,
    coalesce((
      SELECT 'entities/' || se.name || '/projects/' || sp.name || '/artifacts/' || sa.name || '/versions/v' || sv.version
      FROM artifact_links l JOIN artifact_versions sv ON sv.id = l.source_version_id
      JOIN artifacts sa ON sa.id = sv.artifact_id JOIN projects sp ON sp.id = sa.project_id
      JOIN entities se ON se.id = sp.entity_id
      WHERE l.version_id = v.id), '') AS linked_from,
    v.author_name, v.author_kind, v.provenance::text AS provenance,
    v.create_time, v.commit_time, v.update_time, v.delete_time
  FROM artifact_versions v
  {_NAMES}"""

# $1 is always the committed state (bound from model.COMMITTED): the query's own parameters start at $2.
ARTIFACT_SELECT = """SELECT a.id, a.project_id, e.name AS entity, p.name AS project, a.name, a.type,
    a.description, a.create_time, a.update_time,
    (SELECT count(*) FROM artifact_versions v WHERE v.artifact_id = a.id AND v.state = $1) AS version_count,
    (SELECT v.version FROM aliases al JOIN artifact_versions v ON v.id = al.version_id
      WHERE al.artifact_id = a.id AND al.alias = 'latest') AS latest
  FROM artifacts a JOIN projects p ON p.id = a.project_id JOIN entities e ON e.id = p.entity_id"""


def version_from_row(r: asyncpg.Record) -> Version:
    return dataclass_from_row(
        Version,
        r,
        artifact=ArtifactName(ProjectName(r["entity"], r["project"]), r["artifact_name"]),
        metadata_json=r["metadata"],
        aliases=tuple(r["aliases"]),
        provenance=json.loads(r["provenance"] or "{}"),
    )


def artifact_from_row(r: asyncpg.Record) -> Artifact:
    name = ArtifactName(ProjectName(r["entity"], r["project"]), r["name"])
    latest = "" if r["latest"] is None else str(VersionName(name, r["latest"]))
    return dataclass_from_row(Artifact, r, name=name, latest_version=latest)


# --- artifacts ---


async def get_artifact(conn: Conn, name: ArtifactName) -> Artifact | None:
    r = await conn.fetchrow(
        ARTIFACT_SELECT + " WHERE e.name = $2 AND p.name = $3 AND a.name = $4",
        COMMITTED,
        name.project.entity,
        name.project.project,
        name.artifact,
    )
    return None if r is None else artifact_from_row(r)


async def artifact_id(conn: Conn, name: ArtifactName, *, lock: bool = False) -> int | None:
    result: int | None = await conn.fetchval(
        """SELECT a.id FROM artifacts a JOIN projects p ON p.id = a.project_id
           JOIN entities e ON e.id = p.entity_id
           WHERE e.name = $1 AND p.name = $2 AND a.name = $3"""
        + (" FOR UPDATE OF a" if lock else ""),
        name.project.entity,
        name.project.project,
        name.artifact,
    )
    return result


async def lock_artifact(conn: Conn, artifact_id: int) -> None:
    await conn.execute("SELECT 1 FROM artifacts WHERE id = $1 FOR UPDATE", artifact_id)


async def ensure_artifact(
    conn: Conn, project_id: int, name: str, type_: str, description: str
) -> tuple[int, str, bool]:
    """(id, type, created): the collection, created on first use."""
    r = await conn.fetchrow(
        """INSERT INTO artifacts (project_id, name, type, description) VALUES ($1, $2, $3, $4)
           ON CONFLICT (project_id, name) DO NOTHING RETURNING id, type""",
        project_id,
        name,
        type_,
        description,
    )
    if r is not None:
        return r["id"], r["type"], True
    r = await conn.fetchrow(
        "SELECT id, type FROM artifacts WHERE project_id = $1 AND name = $2", project_id, name
    )
    assert r is not None  # the conflicting row exists
    return r["id"], r["type"], False


async def touch_artifact(conn: Conn, artifact_id: int) -> None:
    await conn.execute("UPDATE artifacts SET update_time = now() WHERE id = $1", artifact_id)


async def list_artifacts(
    conn: Conn, project_id: int, type_: str, after: str | None, limit: int
) -> list[Artifact]:
    rows = await conn.fetch(
        ARTIFACT_SELECT
        + """ WHERE a.project_id = $2 AND ($3 = '' OR a.type = $3) AND ($4::text IS NULL OR a.name > $4)
              AND EXISTS (SELECT 1 FROM artifact_versions v WHERE v.artifact_id = a.id AND v.state = $1)
            ORDER BY a.name LIMIT $5""",
        COMMITTED,
        project_id,
        type_,
        after,
        limit,
    )
    return [artifact_from_row(r) for r in rows]


# --- versions ---


async def version_by_id(conn: Conn, version_id: int) -> Version:
    r = await conn.fetchrow(VERSION_SELECT + " WHERE v.id = $1", version_id)
    assert r is not None  # callers pass an existing version's id
    return version_from_row(r)


async def versions_by_id(conn: Conn, version_ids: Sequence[int]) -> dict[int, Version]:
    """version_by_id for many ids in one query."""
    rows = await conn.fetch(VERSION_SELECT + " WHERE v.id = ANY($1::bigint[])", list(set(version_ids)))
    return {r["id"]: version_from_row(r) for r in rows}


async def _version_of(conn: Conn, art: ArtifactName, where: str, *args: object) -> Version | None:
    """The version of `art` that `where` selects ($1-$3 name the artifact; its parameters start at $4)."""
    r = await conn.fetchrow(
        VERSION_SELECT + f" WHERE e.name = $1 AND p.name = $2 AND a.name = $3 AND {where}",
        art.project.entity,
        art.project.project,
        art.artifact,
        *args,
    )
    return None if r is None else version_from_row(r)


async def find_version(conn: Conn, name: VersionName) -> Version | None:
    if name.version is None:
        return await _version_of(conn, name.artifact, "v.draft_id = $4", name.draft_id)
    return await _version_of(conn, name.artifact, "v.version = $4", name.version)


async def resolve(conn: Conn, ref: ArtifactRef) -> Version | None:
    """A committed, live version by number or alias, in one query."""
    if ref.version is not None:
        return await _version_of(
            conn, ref.artifact, "v.state = $4 AND v.version = $5", COMMITTED, ref.version
        )
    alias = "v.id = (SELECT al.version_id FROM aliases al WHERE al.artifact_id = a.id AND al.alias = $5)"
    return await _version_of(conn, ref.artifact, f"v.state = $4 AND {alias}", COMMITTED, ref.alias)


async def lock_version_state(conn: Conn, version_id: int) -> int:
    result: int = await conn.fetchval(
        "SELECT state FROM artifact_versions WHERE id = $1 FOR UPDATE", version_id
    )
    return result


async def insert_draft(
    conn: Conn,
    *,
    artifact_id: int,
    draft_id: str,
    description: str,
    metadata_json: str,
    ttl: timedelta | None,
    ttl_disabled: bool,
    run_id: int | None,
    base_id: int | None,
    author: tuple[str, int],
    provenance_json: str,
) -> int:
    result: int = await conn.fetchval(
        """INSERT INTO artifact_versions (artifact_id, draft_id, state, description, metadata, ttl,
               ttl_disabled, producer_run_id, base_version_id, author_name, author_kind, provenance)
           VALUES ($1, $2, $12, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11::jsonb) RETURNING id""",
        artifact_id,
        draft_id,
        description,
        metadata_json,
        ttl,
        ttl_disabled,
        run_id,
        base_id,
        author[0],
        author[1],
        provenance_json,
        DRAFT,
    )
    return result


async def copy_entries(conn: Conn, version_id: int, base_id: int, removed: Sequence[str]) -> None:
    await conn.execute(
        f"""INSERT INTO manifest_entries ({", ".join(ENTRY_COLUMNS)})
            SELECT $1, path, sha256, size, ref_uri, ref_etag, ref_size, ref_checksum
            FROM manifest_entries WHERE version_id = $2 AND NOT (path = ANY($3::text[]))""",
        version_id,
        base_id,
        list(removed),
    )


async def remove_paths(conn: Conn, version_id: int, paths: Sequence[str]) -> None:
    if paths:
        await conn.execute(
            "DELETE FROM manifest_entries WHERE version_id = $1 AND path = ANY($2::text[])",
            version_id,
            list(paths),
        )


async def delete_entries(conn: Conn, version_id: int) -> None:
    await conn.execute("DELETE FROM manifest_entries WHERE version_id = $1", version_id)


async def put_entries(conn: Conn, version_id: int, entries: Sequence[Entry]) -> None:
    """Add entries, replacing existing ones with the same path (bulk COPY)."""
    if not entries:
        return
    await remove_paths(conn, version_id, [e.path for e in entries])
    await conn.copy_records_to_table(
        "manifest_entries", records=[e.record(version_id) for e in entries], columns=ENTRY_COLUMNS
    )


async def refresh_draft_stats(conn: Conn, version_id: int) -> None:
    await conn.execute(
        """UPDATE artifact_versions SET update_time = now(),
             file_count = (SELECT count(*) FROM manifest_entries WHERE version_id = $1),
             total_size = (SELECT coalesce(sum(size), 0)::bigint FROM manifest_entries WHERE version_id = $1)
           WHERE id = $1""",
        version_id,
    )


_DIGEST_LINE = """CASE WHEN sha256 IS NOT NULL THEN path || E'\\t' || sha256 || E'\\t' || size
    ELSE path || E'\\tref\\t' || ref_uri || E'\\t' || coalesce(ref_etag, '') || E'\\t'
         || coalesce(ref_size, -1) || E'\\t' || ref_checksum END || E'\\n'"""


async def manifest_stats(conn: Conn, version_id: int) -> tuple[int, int, str]:
    """(file count, total size, manifest digest); see manifest.py for the digest's definition."""
    r = await conn.fetchrow(
        f"""SELECT count(*) AS n, coalesce(sum(size), 0)::bigint AS total,
              encode(sha256(convert_to(coalesce(string_agg({_DIGEST_LINE}, '' ORDER BY path COLLATE "C"),
                     ''), 'UTF8')), 'hex') AS digest
            FROM manifest_entries WHERE version_id = $1""",
        version_id,
    )
    assert r is not None  # an aggregate yields one row
    return r["n"], r["total"], r["digest"]


async def path_conflict(conn: Conn, version_id: int) -> str | None:
    """A path that is also a directory of another path in the manifest ("a" and "a/b"), if any."""
    result: str | None = await conn.fetchval(
        """WITH parts AS (SELECT string_to_array(path, '/') AS p FROM manifest_entries WHERE version_id = $1),
             dirs AS (SELECT DISTINCT array_to_string(p[1:i], '/') AS dir
                      FROM parts, generate_series(1, cardinality(p) - 1) AS i)
           SELECT f.path FROM dirs JOIN manifest_entries f ON f.version_id = $1 AND f.path = dirs.dir
           LIMIT 1""",
        version_id,
    )
    return result


async def lock_blobs(conn: Conn, version_id: int, project_id: int) -> list[str]:
    """Lock (FOR SHARE) every blob the manifest needs; return the digests missing for this project.

    A digest counts as present only with a blobs row of the same size and a project_blobs row for the
    project (possession was proven here), so knowing a digest never grants access to its bytes.
    """
    rows = await conn.fetch(
        """WITH need AS (
             SELECT DISTINCT sha256, size FROM manifest_entries WHERE version_id = $1 AND sha256 IS NOT NULL),
           locked AS (
             SELECT b.sha256, b.size FROM blobs b
             JOIN project_blobs pb ON pb.sha256 = b.sha256 AND pb.project_id = $2
             WHERE b.sha256 IN (SELECT sha256 FROM need) FOR SHARE OF b)
           SELECT n.sha256 FROM need n LEFT JOIN locked l ON l.sha256 = n.sha256 AND l.size = n.size
           WHERE l.sha256 IS NULL ORDER BY n.sha256 LIMIT 1000""",
        version_id,
        project_id,
    )
    return [r["sha256"] for r in rows]


async def assign_version(conn: Conn, artifact_id: int) -> int:
    """Next vN; runs under the artifact's row lock, and rolls back with the transaction (no gaps)."""
    result: int = await conn.fetchval(
        "UPDATE artifacts SET next_version = next_version + 1 WHERE id = $1 RETURNING next_version - 1",
        artifact_id,
    )
    return result


async def mark_committed(
    conn: Conn,
    version_id: int,
    number: int,
    stats: tuple[int, int, str],
    default_ttl: timedelta | None,
) -> None:
    await conn.execute(
        """UPDATE artifact_versions SET version = $2, state = $7, file_count = $3, total_size = $4,
             manifest_digest = $5, commit_time = now(), update_time = now(),
             expire_time = CASE WHEN ttl_disabled THEN NULL ELSE now() + coalesce(ttl, $6::interval) END
           WHERE id = $1""",
        version_id,
        number,
        *stats,
        default_ttl,
        COMMITTED,
    )


async def discard_draft(conn: Conn, version_id: int) -> None:
    await conn.execute("DELETE FROM artifact_versions WHERE id = $1 AND state = $2", version_id, DRAFT)


async def latest_version(conn: Conn, artifact_id: int) -> tuple[int, str] | None:
    r = await conn.fetchrow(
        """SELECT v.id, v.manifest_digest FROM aliases al JOIN artifact_versions v ON v.id = al.version_id
           WHERE al.artifact_id = $1 AND al.alias = $2""",
        artifact_id,
        LATEST,
    )
    return None if r is None else (r["id"], r["manifest_digest"])


async def newest_live_version(conn: Conn, artifact_id: int) -> int | None:
    result: int | None = await conn.fetchval(
        """SELECT id FROM artifact_versions WHERE artifact_id = $1 AND state = $2
           ORDER BY version DESC LIMIT 1""",
        artifact_id,
        COMMITTED,
    )
    return result


async def list_versions(
    conn: Conn, artifact_id: int, show_deleted: bool, before: int | None, limit: int
) -> list[Version]:
    rows = await conn.fetch(
        VERSION_SELECT
        + """ WHERE v.artifact_id = $1 AND v.version IS NOT NULL AND (v.state = $5 OR ($2 AND v.state = $6))
              AND ($3::int IS NULL OR v.version < $3) ORDER BY v.version DESC LIMIT $4""",
        artifact_id,
        show_deleted,
        before,
        limit,
        COMMITTED,
        DELETED,
    )
    return [version_from_row(r) for r in rows]


async def list_entries(
    conn: Conn, version_id: int, prefix: str, after: str | None, limit: int
) -> list[Entry]:
    rows = await conn.fetch(
        """SELECT path, sha256, size, ref_uri, ref_etag, ref_size, ref_checksum FROM manifest_entries
           WHERE version_id = $1 AND ($2 = '' OR starts_with(path, $2)) AND ($3::text IS NULL OR path > $3)
           ORDER BY path LIMIT $4""",
        version_id,
        prefix,
        after,
        limit,
    )
    return [Entry(**dict(r)) for r in rows]


async def update_fields(conn: Conn, version_id: int, fields: dict[str, object]) -> None:
    """Apply description / metadata / ttl / ttl_disabled, then recompute expire_time from them."""
    sets: list[str] = []
    args: list[object] = [version_id]
    for column, value in fields.items():
        args.append(value)
        cast = "::jsonb" if column == "metadata" else ""
        sets.append(f"{column} = ${len(args)}{cast}")
    await conn.execute(
        f"UPDATE artifact_versions SET {', '.join(sets)}, update_time = now() WHERE id = $1", *args
    )


async def recompute_expiry(conn: Conn, version_id: int, default_ttl: timedelta | None) -> None:
    await conn.execute(
        """UPDATE artifact_versions SET expire_time = CASE
             WHEN commit_time IS NULL OR ttl_disabled THEN NULL
             ELSE commit_time + coalesce(ttl, $2::interval) END
           WHERE id = $1""",
        version_id,
        default_ttl,
    )


async def soft_delete(conn: Conn, version_id: int) -> datetime:
    result: datetime = await conn.fetchval(
        """UPDATE artifact_versions SET state = $2, delete_time = now(), update_time = now()
           WHERE id = $1 RETURNING delete_time""",
        version_id,
        DELETED,
    )
    return result


# --- runs and lineage edges (tables owned by ingest / lineage; written here in the same transaction) ---


async def run_row(conn: Conn, run: RunName) -> asyncpg.Record | None:
    """The run's row id and project id."""
    return await run_by_name(conn, "r.id, r.project_id", run.project.entity, run.project.project, run.run_id)


async def insert_edge(conn: Conn, run_id: int, version_id: int, kind: int) -> bool:
    """Record a lineage edge once; True when it is new."""
    r = await conn.fetchval(
        """INSERT INTO lineage_edges (run_id, version_id, kind) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING 1""",
        run_id,
        version_id,
        kind,
    )
    return r is not None


async def record_produced(conn: Conn, version_id: int, kind: int) -> None:
    """The PRODUCED edge from the version's producer run, if it has one."""
    await conn.execute(
        """INSERT INTO lineage_edges (run_id, version_id, kind)
           SELECT producer_run_id, id, $2 FROM artifact_versions WHERE id = $1 AND producer_run_id IS NOT NULL
           ON CONFLICT DO NOTHING""",
        version_id,
        kind,
    )
