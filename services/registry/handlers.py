"""gRPC handlers of the registry service: proto <-> domain calls (convert.py), nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from strata.registry.v1 import registry_service_pb2 as pb
from strata.registry.v1 import registry_service_pb2_grpc
from strata.wire.transfer import encode_read_response

from ..common.db import timeout_from
from ..common.deps import Deps
from ..common.unary import paged, unary
from . import convert
from .aliases import domain as aliases
from .aliases import watch
from .blobs import domain as blobs
from .gc import domain as gc
from .links import domain as links
from .versions import domain as versions

Ctx = grpc.aio.ServicerContext
# the generated servicer is untyped; as Any it lends no (untyped) signature to the rows below
_Servicer: Any = registry_service_pb2_grpc.RegistryServiceServicer


class RegistryServiceHandlers(_Servicer):
    """Every registry RPC: the unary ones as rows of common.unary, the streams as methods. ReadBlob
    yields pre-encoded messages (served by common.encoded)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # --- versions ---

    CreateArtifactVersion = unary(
        pb.CreateArtifactVersionRequest,
        lambda deps, r, t: versions.create_draft(deps, convert.draft_spec_from_proto(r), t),
        lambda v: pb.CreateArtifactVersionResponse(version=convert.version_to_proto(v)),
    )
    AppendManifestEntries = unary(
        pb.AppendManifestEntriesRequest,
        lambda deps, r, t: versions.append_entries(
            deps, r.draft, [convert.entry_from_proto(e) for e in r.entries], list(r.removed_paths), t
        ),
        lambda v: pb.AppendManifestEntriesResponse(version=convert.version_to_proto(v)),
    )
    CommitArtifactVersion = unary(
        pb.CommitArtifactVersionRequest,
        lambda deps, r, t: versions.commit(deps, r.draft, list(r.aliases), t),
        lambda found: pb.CommitArtifactVersionResponse(
            version=convert.version_to_proto(found[0]), deduplicated=found[1]
        ),
    )
    GetArtifactVersion = unary(
        pb.GetArtifactVersionRequest,
        lambda deps, r, t: versions.get_version(deps, r.name, t),
        lambda v: pb.GetArtifactVersionResponse(version=convert.version_to_proto(v)),
    )
    ResolveArtifactVersion = unary(
        pb.ResolveArtifactVersionRequest,
        lambda deps, r, t: versions.resolve(deps, r.ref, r.default_parent, t),
        lambda v: pb.ResolveArtifactVersionResponse(version=convert.version_to_proto(v)),
    )
    UseArtifactVersion = unary(
        pb.UseArtifactVersionRequest,
        lambda deps, r, t: versions.use(deps, r.run, r.ref, t, r.type),
        lambda v: pb.UseArtifactVersionResponse(version=convert.version_to_proto(v)),
    )
    GetArtifact = unary(
        pb.GetArtifactRequest,
        lambda deps, r, t: versions.get_artifact(deps, r.name, t),
        lambda a: pb.GetArtifactResponse(artifact=convert.artifact_to_proto(a)),
    )
    ListArtifacts = unary(
        pb.ListArtifactsRequest,
        lambda deps, r, t: versions.list_artifacts(deps, r.parent, r.type, r.page_size, r.page_token, t),
        paged(pb.ListArtifactsResponse, "artifacts", convert.artifact_to_proto),
    )
    ListArtifactVersions = unary(
        pb.ListArtifactVersionsRequest,
        lambda deps, r, t: versions.list_versions(
            deps, r.parent, r.show_deleted, r.page_size, r.page_token, t
        ),
        paged(pb.ListArtifactVersionsResponse, "versions", convert.version_to_proto),
    )
    ListManifestEntries = unary(
        pb.ListManifestEntriesRequest,
        lambda deps, r, t: versions.list_entries(
            deps, r.version, r.path_prefix, r.page_size, r.page_token, t
        ),
        paged(pb.ListManifestEntriesResponse, "entries", convert.entry_to_proto),
    )
    UpdateArtifactVersion = unary(
        pb.UpdateArtifactVersionRequest,
        lambda deps, r, t: versions.update_version(deps, convert.version_edit_from_proto(r), t),
        lambda v: pb.UpdateArtifactVersionResponse(version=convert.version_to_proto(v)),
    )
    DeleteArtifactVersion = unary(
        pb.DeleteArtifactVersionRequest,
        lambda deps, r, t: versions.delete_version(deps, r.name, r.delete_aliases, t),
        lambda v: pb.DeleteArtifactVersionResponse(version=convert.version_to_proto(v)),
    )
    LinkArtifactVersion = unary(
        pb.LinkArtifactVersionRequest,
        lambda deps, r, t: links.link(deps, r.source, r.target, list(r.aliases), t),
        lambda found: pb.LinkArtifactVersionResponse(
            version=convert.version_to_proto(found[0]), existing=found[1]
        ),
    )

    # --- aliases ---

    SetAlias = unary(
        pb.SetAliasRequest,
        lambda deps, r, t: aliases.set_alias(deps, r.version, r.alias, r.reason, t),
        lambda e: pb.SetAliasResponse(event=convert.event_to_proto(e)),
    )
    RemoveAlias = unary(
        pb.RemoveAliasRequest,
        lambda deps, r, t: aliases.remove_alias(deps, r.artifact, r.alias, r.reason, t),
        lambda e: pb.RemoveAliasResponse(event=convert.event_to_proto(e)),
    )
    RevertAlias = unary(
        pb.RevertAliasRequest,
        lambda deps, r, t: aliases.revert_alias(deps, r.artifact, r.alias, r.reason, t),
        lambda e: pb.RevertAliasResponse(event=convert.event_to_proto(e)),
    )
    ListAliases = unary(
        pb.ListAliasesRequest,
        lambda deps, r, t: aliases.list_aliases(deps, r.artifact, t),
        lambda found: pb.ListAliasesResponse(aliases=[convert.alias_to_proto(a) for a in found]),
    )
    ListAliasHistory = unary(
        pb.ListAliasHistoryRequest,
        lambda deps, r, t: aliases.history(deps, r.artifact, r.alias, r.page_size, r.page_token, t),
        paged(pb.ListAliasHistoryResponse, "events", convert.event_to_proto),
    )

    async def WatchAlias(
        self, request: pb.WatchAliasRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchAliasResponse]:
        stream = watch.watch(
            self.deps, request.artifact, request.alias, request.after_revision, timeout_from(context)
        )
        async for event, version in stream:
            response = pb.WatchAliasResponse(event=convert.event_to_proto(event))
            if version is not None:
                response.version.CopyFrom(convert.version_to_proto(version))
            yield response

    # --- blobs ---

    async def ReadBlob(self, request: pb.ReadBlobRequest, context: Ctx) -> AsyncIterator[bytes]:
        """Yields encoded ReadBlobResponse messages (served by common.encoded)."""
        async for offset, data in blobs.read_blob(
            self.deps, request.version, request.sha256, request.offset, request.length, timeout_from(context)
        ):
            yield encode_read_response(offset, data)

    BatchReadBlobs = unary(
        pb.BatchReadBlobsRequest,
        lambda deps, r, t: blobs.read_blobs(deps, r.version, list(r.sha256s), t),
        lambda found: pb.BatchReadBlobsResponse(blobs=convert.blobs_to_proto(found)),
    )

    # --- TTL, GC, storage ---

    RunGarbageCollection = unary(
        pb.RunGarbageCollectionRequest,
        lambda deps, r, t: gc.run_pass(deps, r.dry_run, t),
        lambda report: pb.RunGarbageCollectionResponse(report=convert.report_to_proto(report)),
        timeout=600.0,
    )
    GetStorageUsage = unary(
        pb.GetStorageUsageRequest,
        lambda deps, r, t: gc.storage_usage(deps, r.parent, t),
        lambda usage: pb.GetStorageUsageResponse(usage=convert.usage_to_proto(usage)),
    )
