"""gRPC handlers of the registry service: proto <-> domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from strata.registry.v1 import registry_service_pb2 as pb
from strata.registry.v1 import registry_service_pb2_grpc

from ..common.db import timeout_from
from ..common.deps import Deps
from ..common.pending import fill_pending
from . import domain, domain_alias, domain_edit, domain_gc, domain_read, domain_watch
from .domain_watch import AliasHub
from .handlers_blob import BlobReadHandlers
from .protos import (
    alias_to_proto,
    artifact_to_proto,
    entry_from_proto,
    entry_to_proto,
    event_to_proto,
    provenance_to_dict,
    report_to_proto,
    to_timedelta,
    usage_to_proto,
    version_to_proto,
)

Ctx = grpc.aio.ServicerContext


@fill_pending(
    pb.DESCRIPTOR.services_by_name["RegistryService"],
    "a later issue",
)
class RegistryServiceHandlers(BlobReadHandlers, registry_service_pb2_grpc.RegistryServiceServicer):
    """All registry RPCs; ReadBlob comes from the files service's mixin (handlers_blob.py)."""

    def __init__(self, deps: Deps, hub: AliasHub) -> None:
        self.deps = deps
        self.hub = hub

    # --- versions ---

    async def CreateArtifactVersion(self, request: pb.CreateArtifactVersionRequest, context: Ctx):  # type: ignore[no-untyped-def]
        spec = domain.DraftSpec(
            parent=request.parent,
            artifact=request.artifact,
            type=request.type,
            description=request.description,
            metadata_json=request.metadata_json,
            entries=[entry_from_proto(e) for e in request.entries],
            base_version=request.base_version,
            removed_paths=list(request.removed_paths),
            run=request.run,
            ttl=to_timedelta(request, "ttl"),
            ttl_disabled=request.ttl_disabled,
            provenance=provenance_to_dict(request.provenance),
        )
        v = await domain.create_draft(self.deps, spec, timeout_from(context))
        return pb.CreateArtifactVersionResponse(version=version_to_proto(v))

    async def AppendManifestEntries(self, request: pb.AppendManifestEntriesRequest, context: Ctx):  # type: ignore[no-untyped-def]
        entries = [entry_from_proto(e) for e in request.entries]
        v = await domain.append_entries(
            self.deps, request.draft, entries, list(request.removed_paths), timeout_from(context)
        )
        return pb.AppendManifestEntriesResponse(version=version_to_proto(v))

    async def CommitArtifactVersion(self, request: pb.CommitArtifactVersionRequest, context: Ctx):  # type: ignore[no-untyped-def]
        v, dedup = await domain.commit(self.deps, request.draft, list(request.aliases), timeout_from(context))
        return pb.CommitArtifactVersionResponse(version=version_to_proto(v), deduplicated=dedup)

    async def GetArtifactVersion(self, request: pb.GetArtifactVersionRequest, context: Ctx):  # type: ignore[no-untyped-def]
        v = await domain_read.get_version(self.deps, request.name, timeout_from(context))
        return pb.GetArtifactVersionResponse(version=version_to_proto(v))

    async def ResolveArtifactVersion(self, request: pb.ResolveArtifactVersionRequest, context: Ctx):  # type: ignore[no-untyped-def]
        v = await domain_read.resolve(self.deps, request.ref, request.default_parent, timeout_from(context))
        return pb.ResolveArtifactVersionResponse(version=version_to_proto(v))

    async def UseArtifactVersion(self, request: pb.UseArtifactVersionRequest, context: Ctx):  # type: ignore[no-untyped-def]
        v = await domain_read.use(self.deps, request.run, request.ref, timeout_from(context))
        return pb.UseArtifactVersionResponse(version=version_to_proto(v))

    async def GetArtifact(self, request: pb.GetArtifactRequest, context: Ctx):  # type: ignore[no-untyped-def]
        a = await domain_read.get_artifact(self.deps, request.name, timeout_from(context))
        return pb.GetArtifactResponse(artifact=artifact_to_proto(a))

    async def ListArtifacts(self, request: pb.ListArtifactsRequest, context: Ctx):  # type: ignore[no-untyped-def]
        arts, token = await domain_read.list_artifacts(
            self.deps,
            request.parent,
            request.type,
            request.page_size,
            request.page_token,
            timeout_from(context),
        )
        return pb.ListArtifactsResponse(artifacts=[artifact_to_proto(a) for a in arts], next_page_token=token)

    async def ListArtifactVersions(self, request: pb.ListArtifactVersionsRequest, context: Ctx):  # type: ignore[no-untyped-def]
        versions, token = await domain_read.list_versions(
            self.deps,
            request.parent,
            request.show_deleted,
            request.page_size,
            request.page_token,
            timeout_from(context),
        )
        return pb.ListArtifactVersionsResponse(
            versions=[version_to_proto(v) for v in versions], next_page_token=token
        )

    async def ListManifestEntries(self, request: pb.ListManifestEntriesRequest, context: Ctx):  # type: ignore[no-untyped-def]
        entries, token = await domain_read.list_entries(
            self.deps,
            request.version,
            request.path_prefix,
            request.page_size,
            request.page_token,
            timeout_from(context),
        )
        return pb.ListManifestEntriesResponse(
            entries=[entry_to_proto(e) for e in entries], next_page_token=token
        )

    async def UpdateArtifactVersion(self, request: pb.UpdateArtifactVersionRequest, context: Ctx):  # type: ignore[no-untyped-def]
        v = request.version
        values = (v.description, v.metadata_json, to_timedelta(v, "ttl"), v.ttl_disabled)
        updated = await domain_edit.update_version(
            self.deps, v.name, list(request.update_mask.paths), values, timeout_from(context)
        )
        return pb.UpdateArtifactVersionResponse(version=version_to_proto(updated))

    async def DeleteArtifactVersion(self, request: pb.DeleteArtifactVersionRequest, context: Ctx):  # type: ignore[no-untyped-def]
        v = await domain_edit.delete_version(
            self.deps, request.name, request.delete_aliases, timeout_from(context)
        )
        return pb.DeleteArtifactVersionResponse(version=version_to_proto(v))

    # --- aliases ---

    async def SetAlias(self, request: pb.SetAliasRequest, context: Ctx):  # type: ignore[no-untyped-def]
        ev = await domain_alias.set_alias(
            self.deps, request.version, request.alias, request.reason, timeout_from(context)
        )
        return pb.SetAliasResponse(event=event_to_proto(ev))

    async def RemoveAlias(self, request: pb.RemoveAliasRequest, context: Ctx):  # type: ignore[no-untyped-def]
        ev = await domain_alias.remove_alias(
            self.deps, request.artifact, request.alias, request.reason, timeout_from(context)
        )
        return pb.RemoveAliasResponse(event=event_to_proto(ev))

    async def RevertAlias(self, request: pb.RevertAliasRequest, context: Ctx):  # type: ignore[no-untyped-def]
        ev = await domain_alias.revert_alias(
            self.deps, request.artifact, request.alias, request.reason, timeout_from(context)
        )
        return pb.RevertAliasResponse(event=event_to_proto(ev))

    async def ListAliases(self, request: pb.ListAliasesRequest, context: Ctx):  # type: ignore[no-untyped-def]
        aliases = await domain_alias.list_aliases(self.deps, request.artifact, timeout_from(context))
        return pb.ListAliasesResponse(aliases=[alias_to_proto(a) for a in aliases])

    async def ListAliasHistory(self, request: pb.ListAliasHistoryRequest, context: Ctx):  # type: ignore[no-untyped-def]
        events, token = await domain_alias.history(
            self.deps,
            request.artifact,
            request.alias,
            request.page_size,
            request.page_token,
            timeout_from(context),
        )
        return pb.ListAliasHistoryResponse(events=[event_to_proto(e) for e in events], next_page_token=token)

    async def WatchAlias(
        self, request: pb.WatchAliasRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchAliasResponse]:
        stream = domain_watch.watch(
            self.deps,
            self.hub,
            request.artifact,
            request.alias,
            request.after_revision,
            timeout_from(context),
        )
        async for event, version in stream:
            response = pb.WatchAliasResponse(event=event_to_proto(event))
            if version is not None:
                response.version.CopyFrom(version_to_proto(version))
            yield response

    # --- TTL, GC, storage ---

    async def RunGarbageCollection(self, request: pb.RunGarbageCollectionRequest, context: Ctx):  # type: ignore[no-untyped-def]
        report = await domain_gc.run_pass(self.deps, request.dry_run, timeout_from(context, default=600.0))
        return pb.RunGarbageCollectionResponse(report=report_to_proto(report))

    async def GetStorageUsage(self, request: pb.GetStorageUsageRequest, context: Ctx):  # type: ignore[no-untyped-def]
        usage = await domain_gc.storage_usage(self.deps, request.parent, timeout_from(context))
        return pb.GetStorageUsageResponse(usage=usage_to_proto(usage))
