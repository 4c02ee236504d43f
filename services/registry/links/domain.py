"""Registry links (no gRPC, no SQL): a committed version of any project linked into a registry collection.

A registry is any project used as a link target (nothing marks it; give it its own project, e.g.
"ml-research/model-registry", and its own members and protected aliases). LinkArtifactVersion makes,
in ONE transaction holding the target collection's row lock, a new committed version vN of the
collection (created on first use with the source's type) whose manifest is a copy of the source's and
whose `artifact_links` row names the source. Because the link is an ordinary version row, resolution
("entity/registry/collection:production"), downloads, aliases (protected ones included), alias history
and watches work unchanged; the registry project is granted the source's blobs (project_blobs) so its
readers can download them without read access to the source project. A link of a link points at the
original source. Linking a source already linked into the collection returns that link (existing=true)
and sets the requested aliases on it. Lineage: the source's producing run gets a LINKED edge to the
link, so tracing upstream from the link reaches that run and its inputs.

Permissions (common/auth/policy.py): write on the registry project (the target), read on the source;
a protected alias needs admin on the registry. Audited as "artifact_version.link".
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ...common.db import Conn
from ...common.deps import Deps
from ...common.errors import InvalidArgument, Reason
from ...common.names import ArtifactName, parse_artifact, parse_artifact_ref
from ...common.projects import Project, ensure_project
from ..aliases.domain import require_alias_rights, set_aliases
from ..lookup import actor
from ..model import LATEST, LINKED, Version
from ..versions import manifest
from ..versions import store as versions_store
from ..versions.domain import DraftSpec, _collection, _resolve, record_new_version
from . import store


async def link(
    deps: Deps, source: str, target: str, aliases: Sequence[str], timeout: float
) -> tuple[Version, bool]:
    """Link `source` (a reference; relative ones resolve in the registry project) into the collection
    `target`; returns (link, existing)."""
    target_name = parse_artifact(target, "target")
    ref = parse_artifact_ref(source, target_name.project, "source")
    wanted = manifest.check_aliases(aliases)
    async with deps.pool.acquire(timeout=timeout) as conn:
        async with conn.transaction():
            project = await ensure_project(
                conn, target_name.project, create_entity=deps.authorizer.mode == "open-local"
            )
        await require_alias_rights(deps, project, wanted)
        async with conn.transaction():
            src = await _source(conn, await _resolve(conn, ref), target_name)
            spec = DraftSpec(str(project.name), target_name.artifact, src.type)
            art_id = await _collection(conn, project, spec)
            await versions_store.lock_artifact(conn, art_id)
            existing = await store.existing_link(conn, art_id, src.id)
            if existing is not None:
                found = await versions_store.version_by_id(conn, existing)
                await set_aliases(conn, found, wanted, "set at link")
                return await versions_store.version_by_id(conn, existing), True
            vid = await _insert_link(conn, project, art_id, src)
            made = await versions_store.version_by_id(conn, vid)
            await set_aliases(conn, made, [LATEST], "linked")
            await set_aliases(conn, made, wanted, "set at link")
            await _record(conn, made, src, wanted)
            return await versions_store.version_by_id(conn, vid), False


async def _source(conn: Conn, resolved: Version, target: ArtifactName) -> Version:
    """The version to link: the resolved one, or what it links to when it is itself a link."""
    origin = await store.source_of(conn, resolved.id)
    src = resolved if origin is None else await versions_store.version_by_id(conn, origin)
    if src.artifact == target:
        raise InvalidArgument("target", Reason.INVALID_NAME, f"{src.name} is already in {target}")
    return src


async def _insert_link(conn: Conn, project: Project, art_id: int, src: Version) -> int:
    """The link's committed version row: the source's manifest, description and metadata."""
    await versions_store.lock_blobs(conn, src.id, src.project_id)  # GC cannot take them meanwhile
    vid = await versions_store.insert_draft(
        conn,
        artifact_id=art_id,
        draft_id=uuid.uuid4().hex,
        description=src.description,
        metadata_json=src.metadata_json,
        ttl=None,
        ttl_disabled=False,
        run_id=None,
        base_id=None,
        author=actor(),
        provenance_json="{}",
    )
    await versions_store.copy_entries(conn, vid, src.id, [])
    await store.grant_blobs(conn, project.id, src.id)
    number = await versions_store.assign_version(conn, art_id)
    stats = (src.file_count, src.total_size, src.manifest_digest)
    await versions_store.mark_committed(conn, vid, number, stats, project.default_ttl)
    await store.insert_link(conn, vid, src.id)
    return vid


async def _record(conn: Conn, made: Version, src: Version, aliases: Sequence[str]) -> None:
    run_id = await store.producer_run_id(conn, src.id)
    if run_id is not None:
        await versions_store.insert_edge(conn, run_id, made.id, LINKED)
    after = {"source": src.name, "aliases": list(aliases), "manifest_digest": made.manifest_digest}
    await record_new_version(conn, made, "artifact_version.link", after)
