"""Reading the registry: versions by name or reference, usage by runs, and the paged lists.

Resolution grammar (services/common/names.py): "name", "name:latest", "name:v3", "name:alias",
"project/name:alias", "entity/project/name:alias" (or a full resource name). Only committed, live versions
resolve; soft-deleted and expired ones are gone. The caller needs read access to the project the
reference lands in: the interceptor checks it (permissions.py: "ref:ref", with relative references
completed from default_parent or the run's project), so relative and cross-project references are
covered alike and the check lives in one place. NOT_FOUND names what is missing: the artifact, the version, or the alias.
"""

from __future__ import annotations

from ..common import audit
from ..common.deps import Deps
from ..common.errors import NotFound
from ..common.names import (
    ArtifactRef,
    VersionName,
    parse_artifact,
    parse_artifact_ref,
    parse_project,
    parse_run,
    parse_version,
)
from ..common.projects import get_project
from . import paging, store
from .domain import artifact_id_or_404, connection, transaction, version_or_404
from .model import USED, Artifact, Entry, Version


async def get_version(deps: Deps, name: str, timeout: float) -> Version:
    vname = parse_version(name, "name")
    async with connection(deps, timeout) as conn:
        return await version_or_404(conn, vname, live=False)


async def _resolve(conn, ref: ArtifactRef) -> Version:  # type: ignore[no-untyped-def]
    v = await store.resolve(conn, ref)
    if v is not None:
        return v
    await artifact_id_or_404(conn, ref.artifact)
    if ref.version is not None:
        raise NotFound("artifact version", str(VersionName(ref.artifact, ref.version)))
    short = f"{ref.artifact.project.path}/{ref.artifact.artifact}:{ref.alias}"
    raise NotFound("artifact alias", short, f"artifact alias {short!r} not found")


async def resolve(deps: Deps, ref: str, default_parent: str, timeout: float) -> Version:
    default = parse_project(default_parent, "default_parent") if default_parent else None
    parsed = parse_artifact_ref(ref, default, "ref")
    async with connection(deps, timeout) as conn:
        return await _resolve(conn, parsed)


async def use(deps: Deps, run: str, ref: str, timeout: float) -> Version:
    """Resolve `ref` (relative refs in the run's project) and record the USED edge once."""
    run_name = parse_run(run, "run")
    parsed = parse_artifact_ref(ref, run_name.project, "ref")
    async with transaction(deps, timeout) as conn:
        run_row = await store.run_row(conn, run_name)
        if run_row is None:
            raise NotFound("run", str(run_name))
        v = await _resolve(conn, parsed)
        if await store.insert_edge(conn, run_row["id"], v.id, USED):
            await audit.record(
                conn,
                "artifact_version.use",
                target=v.name,
                project_id=run_row["project_id"],
                after={"run": str(run_name)},
            )
        return v


async def get_artifact(deps: Deps, name: str, timeout: float) -> Artifact:
    aname = parse_artifact(name, "name")
    async with connection(deps, timeout) as conn:
        art = await store.get_artifact(conn, aname)
    if art is None:
        raise NotFound("artifact", str(aname))
    return art


async def list_artifacts(
    deps: Deps, parent: str, type_: str, size: int, token: str, timeout: float
) -> tuple[list[Artifact], str]:
    project_name = parse_project(parent, "parent")
    limit = paging.page_size(size, 50, 500)
    query = ("artifacts", parent, type_)
    after = paging.decode(token, query, str)
    async with connection(deps, timeout) as conn:
        project = await get_project(conn, project_name)
        arts = await store.list_artifacts(conn, project.id, type_, after, limit + 1)
    return paging.page(arts, limit, lambda a: a.name.artifact, query)


async def list_versions(
    deps: Deps, parent: str, show_deleted: bool, size: int, token: str, timeout: float
) -> tuple[list[Version], str]:
    aname = parse_artifact(parent, "parent")
    limit = paging.page_size(size, 50, 500)
    query = ("versions", parent, show_deleted)
    before = paging.decode(token, query, int)
    async with connection(deps, timeout) as conn:
        art_id = await artifact_id_or_404(conn, aname)
        versions = await store.list_versions(conn, art_id, show_deleted, before, limit + 1)
    return paging.page(versions, limit, lambda v: v.version, query)


async def list_entries(
    deps: Deps, version: str, prefix: str, size: int, token: str, timeout: float
) -> tuple[list[Entry], str]:
    vname = parse_version(version, "version")
    limit = paging.page_size(size, 1000, 10_000)
    query = ("entries", version, prefix)
    after = paging.decode(token, query, str)
    async with connection(deps, timeout) as conn:
        v = await version_or_404(conn, vname, live=False)
        entries = await store.list_entries(conn, v.id, prefix, after, limit + 1)
    return paging.page(entries, limit, lambda e: e.path, query)
