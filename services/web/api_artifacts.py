"""Artifacts: collections, versions, a version's files (downloads streamed from the registry), aliases
with their history, moving and reverting an alias, and the diff of two versions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strata.lineage.v1 import lineage_service_pb2 as lineage
from strata.registry.v1 import registry_service_pb2 as registry

from . import convert
from .api_common import (
    Json,
    artifact_name,
    bridge,
    call,
    call_page,
    caller,
    json_body,
    project_name,
    version_name,
)
from .api_runs import download_response
from .api_spec import (
    BOOLEAN,
    INTEGER,
    OBJECT,
    STRING,
    TOKEN,
    Param,
    array,
    declare,
    listing,
    obj,
    page,
    paged,
    string,
)
from .bridge import ApiError

EVENT = obj(event=OBJECT)
CHANGE = obj(key=STRING, old=STRING, new=STRING)
DIFF = obj(
    old_version=STRING,
    new_version=STRING,
    files_added=INTEGER,
    files_removed=INTEGER,
    files_changed=INTEGER,
    files=array(obj(path=STRING, change=STRING, old_size=INTEGER, new_size=INTEGER)),
    files_truncated=BOOLEAN,
    metadata=array(CHANGE),
    inputs=array(OBJECT),
    old_producer_run=STRING,
    new_producer_run=STRING,
    config=array(CHANGE),
)


@declare(
    Param("type", "string", "only collections of this type (e.g. model, dataset)"),
    *paged(500, 500),
    response=listing("artifacts"),
)
async def list_artifacts(request: Request) -> Response:
    """GET .../artifacts?type=..: the project's collections (ListArtifacts), one page."""
    req = registry.ListArtifactsRequest(
        parent=project_name(request),
        type=string(request, "type"),
        **page(request),
    )
    return await call_page(request, "registry", "ListArtifacts", req, "artifacts", convert.artifact)


@declare(
    *paged(100, 500),
    response=obj(artifact=OBJECT, versions=array(OBJECT), next_page_token=TOKEN, aliases=array(OBJECT)),
)
async def get_artifact(request: Request) -> Response:
    """GET .../artifacts/{artifact}: the collection, its versions (one page) and its aliases."""
    name = artifact_name(request)
    art = await call(request, "registry", "GetArtifact", registry.GetArtifactRequest(name=name))
    versions = await call(
        request,
        "registry",
        "ListArtifactVersions",
        registry.ListArtifactVersionsRequest(
            parent=name,
            **page(request),
        ),
    )
    aliases = await call(request, "registry", "ListAliases", registry.ListAliasesRequest(artifact=name))
    return Json(
        {
            "artifact": convert.artifact(art.artifact),
            "versions": [convert.version(v) for v in versions.versions],
            "next_page_token": versions.next_page_token,
            "aliases": [convert.alias(a) for a in aliases.aliases],
        }
    )


@declare(
    Param("alias", "string", "only this alias's moves"),
    *paged(50, 1000),
    response=listing("events"),
)
async def alias_history(request: Request) -> Response:
    """GET .../artifacts/{artifact}/alias-history?alias=..: moves, newest first (ListAliasHistory)."""
    req = registry.ListAliasHistoryRequest(
        artifact=artifact_name(request),
        alias=string(request, "alias"),
        **page(request),
    )
    return await call_page(request, "registry", "ListAliasHistory", req, "events", convert.alias_event)


@declare(
    body=obj(("alias", "version"), alias=STRING, version=STRING, reason=STRING),
    response=EVENT,
)
async def set_alias(request: Request) -> Response:
    """POST .../artifacts/{artifact}/aliases {"alias", "version": "vN", "reason"}: move an alias (SetAlias).
    A protected alias moved by a non-admin is refused with the server's PROTECTED_ALIAS message."""
    body = await json_body(request)
    alias, version = str(body.get("alias") or ""), str(body.get("version") or "")
    if not alias or not version:
        raise ApiError(
            400, "FIELD_REQUIRED", "alias and version are required", "alias" if not alias else "version"
        )
    version = version if version.startswith("v") else f"v{version}"
    req = registry.SetAliasRequest(
        version=f"{artifact_name(request)}/versions/{version}",
        alias=alias,
        reason=str(body.get("reason") or ""),
    )
    resp = await call(request, "registry", "SetAlias", req, reading=False)
    return Json({"event": convert.alias_event(resp.event)})


@declare(body=obj((), reason=STRING), response=EVENT)
async def revert_alias(request: Request) -> Response:
    """POST .../artifacts/{artifact}/aliases/{alias}/revert {"reason"}: move it back (RevertAlias)."""
    body = await json_body(request)
    req = registry.RevertAliasRequest(
        artifact=artifact_name(request),
        alias=request.path_params["alias"],
        reason=str(body.get("reason") or ""),
    )
    resp = await call(request, "registry", "RevertAlias", req, reading=False)
    return Json({"event": convert.alias_event(resp.event)})


@declare(
    *paged(1000, 10_000),
    response=obj(version=OBJECT, files=array(OBJECT), next_page_token=TOKEN, used_by=array(OBJECT)),
)
async def get_version(request: Request) -> Response:
    """GET .../artifacts/{artifact}/versions/{version}: metadata, files (one page), logged-by, used-by."""
    name = version_name(request)
    v = await call(request, "registry", "GetArtifactVersion", registry.GetArtifactVersionRequest(name=name))
    entries = await call(
        request,
        "registry",
        "ListManifestEntries",
        registry.ListManifestEntriesRequest(
            version=name,
            **page(request),
        ),
    )
    opts = lineage.TraversalOptions(max_depth=1, max_nodes=1000)
    down = await call(
        request, "lineage", "TraceDownstream", lineage.TraceDownstreamRequest(node=name, options=opts)
    )
    used_by = [convert.node(n) for n in down.graph.nodes if n.name != name]
    return Json(
        {
            "version": convert.version(v.version),
            "files": [convert.manifest_entry(e) for e in entries.entries],
            "next_page_token": entries.next_page_token,
            "used_by": used_by,
        }
    )


@declare(
    Param("path", "string", "the file's path in the version", required=True),
    produces=("application/octet-stream",),
)
async def version_file(request: Request) -> Response:
    """GET .../versions/{version}/file?path=..: the file's bytes, streamed from the registry (ReadBlob)."""
    name, path = version_name(request), string(request, "path")
    entries = await call(
        request,
        "registry",
        "ListManifestEntries",
        registry.ListManifestEntriesRequest(version=name, path_prefix=path),
    )
    entry = next((e for e in entries.entries if e.path == path), None)
    if entry is None or not entry.blob.sha256:
        raise ApiError(
            404, "NOT_FOUND", "no such file in this version (or it is an external reference)", "path"
        )
    req = registry.ReadBlobRequest(version=name, sha256=entry.blob.sha256)
    return await download_response(bridge(request).stream(caller(request), "registry", "ReadBlob", req), path)


@declare(
    Param("old", "string", "the old version (vN or N)", required=True, missing="old= and new= are required"),
    Param("new", "string", "the new version (vN or N)", required=True, missing="old= and new= are required"),
    response=DIFF,
)
async def diff(request: Request) -> Response:
    """GET .../artifacts/{artifact}/diff?old=vA&new=vB: files, metadata, inputs, producing runs' config."""
    base = f"{artifact_name(request)}/versions/"
    old, new = string(request, "old"), string(request, "new")
    req = lineage.DiffArtifactVersionsRequest(
        old_version=base + (old if old.startswith("v") else f"v{old}"),
        new_version=base + (new if new.startswith("v") else f"v{new}"),
    )
    d = await call(request, "lineage", "DiffArtifactVersions", req)
    kinds = {1: "added", 2: "removed", 3: "modified"}
    return Json(
        {
            "old_version": d.old_version,
            "new_version": d.new_version,
            "files_added": d.files_added,
            "files_removed": d.files_removed,
            "files_changed": d.files_changed,
            "files": [
                {
                    "path": c.path,
                    "change": kinds.get(c.change, "?"),
                    "old_size": c.old_size,
                    "new_size": c.new_size,
                }
                for c in d.manifest_changes
            ],
            "files_truncated": d.manifest_changes_truncated,
            "metadata": [
                {"key": c.key, "old": c.old_value_json, "new": c.new_value_json} for c in d.metadata_changes
            ],
            "inputs": [
                {
                    "artifact": c.artifact,
                    "old_version": c.old_version,
                    "new_version": c.new_version,
                    "depth": c.depth,
                    "origin": c.origin,
                }
                for c in d.input_changes
            ],
            "old_producer_run": d.old_producer_run,
            "new_producer_run": d.new_producer_run,
            "config": [
                {"key": c.key, "old": c.old_value_json, "new": c.new_value_json} for c in d.config_changes
            ],
        }
    )


PREFIX = "/api/v1/projects/{entity}/{project}/artifacts"
ROUTES = [
    Route(PREFIX, list_artifacts),
    Route(f"{PREFIX}/{{artifact}}", get_artifact),
    Route(f"{PREFIX}/{{artifact}}/alias-history", alias_history),
    Route(f"{PREFIX}/{{artifact}}/aliases", set_alias, methods=["POST"]),
    Route(f"{PREFIX}/{{artifact}}/aliases/{{alias}}/revert", revert_alias, methods=["POST"]),
    Route(f"{PREFIX}/{{artifact}}/diff", diff),
    Route(f"{PREFIX}/{{artifact}}/versions/{{version}}", get_version),
    Route(f"{PREFIX}/{{artifact}}/versions/{{version}}/file", version_file),
]
