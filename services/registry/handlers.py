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
from . import convert
from .aliases import domain as aliases
from .aliases import watch
from .blobs import domain as blobs
from .gc import domain as gc
from .links import domain as links
from .versions import domain as versions

Ctx = grpc.aio.ServicerContext


class RegistryServiceHandlers(registry_service_pb2_grpc.RegistryServiceServicer):
    """Every registry RPC. ReadBlob yields pre-encoded messages (see server.register_blob_codecs)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def _page(self, list_page: Any, scope: str, option: object, request: Any, context: Ctx) -> Any:
        """One page of a list call taking (deps, scope, option, page_size, page_token, timeout)."""
        return await list_page(
            self.deps, scope, option, request.page_size, request.page_token, timeout_from(context)
        )

    async def _alias_change(self, change: Any, target: str, request: Any, context: Ctx) -> Any:
        """SetAlias / RemoveAlias / RevertAlias: `change` applied to `target`; the event as proto."""
        event = await change(self.deps, target, request.alias, request.reason, timeout_from(context))
        return convert.event_to_proto(event)

    # --- versions ---

    async def CreateArtifactVersion(
        self, request: pb.CreateArtifactVersionRequest, context: Ctx
    ) -> pb.CreateArtifactVersionResponse:
        spec = convert.draft_spec_from_proto(request)
        v = await versions.create_draft(self.deps, spec, timeout_from(context))
        return pb.CreateArtifactVersionResponse(version=convert.version_to_proto(v))

    async def AppendManifestEntries(
        self, request: pb.AppendManifestEntriesRequest, context: Ctx
    ) -> pb.AppendManifestEntriesResponse:
        entries = [convert.entry_from_proto(e) for e in request.entries]
        v = await versions.append_entries(
            self.deps, request.draft, entries, list(request.removed_paths), timeout_from(context)
        )
        return pb.AppendManifestEntriesResponse(version=convert.version_to_proto(v))

    async def CommitArtifactVersion(
        self, request: pb.CommitArtifactVersionRequest, context: Ctx
    ) -> pb.CommitArtifactVersionResponse:
        v, dedup = await versions.commit(
            self.deps, request.draft, list(request.aliases), timeout_from(context)
        )
        return pb.CommitArtifactVersionResponse(version=convert.version_to_proto(v), deduplicated=dedup)

    async def GetArtifactVersion(
        self, request: pb.GetArtifactVersionRequest, context: Ctx
    ) -> pb.GetArtifactVersionResponse:
        v = await versions.get_version(self.deps, request.name, timeout_from(context))
        return pb.GetArtifactVersionResponse(version=convert.version_to_proto(v))

    async def ResolveArtifactVersion(
        self, request: pb.ResolveArtifactVersionRequest, context: Ctx
    ) -> pb.ResolveArtifactVersionResponse:
        v = await versions.resolve(self.deps, request.ref, request.default_parent, timeout_from(context))
        return pb.ResolveArtifactVersionResponse(version=convert.version_to_proto(v))

    async def UseArtifactVersion(
        self, request: pb.UseArtifactVersionRequest, context: Ctx
    ) -> pb.UseArtifactVersionResponse:
        v = await versions.use(self.deps, request.run, request.ref, timeout_from(context), request.type)
        return pb.UseArtifactVersionResponse(version=convert.version_to_proto(v))

    async def GetArtifact(self, request: pb.GetArtifactRequest, context: Ctx) -> pb.GetArtifactResponse:
        a = await versions.get_artifact(self.deps, request.name, timeout_from(context))
        return pb.GetArtifactResponse(artifact=convert.artifact_to_proto(a))

    async def ListArtifacts(self, request: pb.ListArtifactsRequest, context: Ctx) -> pb.ListArtifactsResponse:
        arts, token = await self._page(
            versions.list_artifacts, request.parent, request.type, request, context
        )
        return pb.ListArtifactsResponse(
            artifacts=[convert.artifact_to_proto(a) for a in arts], next_page_token=token
        )

    async def ListArtifactVersions(
        self, request: pb.ListArtifactVersionsRequest, context: Ctx
    ) -> pb.ListArtifactVersionsResponse:
        found, token = await self._page(
            versions.list_versions, request.parent, request.show_deleted, request, context
        )
        return pb.ListArtifactVersionsResponse(
            versions=[convert.version_to_proto(v) for v in found], next_page_token=token
        )

    async def ListManifestEntries(
        self, request: pb.ListManifestEntriesRequest, context: Ctx
    ) -> pb.ListManifestEntriesResponse:
        entries, token = await self._page(
            versions.list_entries, request.version, request.path_prefix, request, context
        )
        return pb.ListManifestEntriesResponse(
            entries=[convert.entry_to_proto(e) for e in entries], next_page_token=token
        )

    async def UpdateArtifactVersion(
        self, request: pb.UpdateArtifactVersionRequest, context: Ctx
    ) -> pb.UpdateArtifactVersionResponse:
        edit = convert.version_edit_from_proto(request)
        v = await versions.update_version(self.deps, edit, timeout_from(context))
        return pb.UpdateArtifactVersionResponse(version=convert.version_to_proto(v))

    async def DeleteArtifactVersion(
        self, request: pb.DeleteArtifactVersionRequest, context: Ctx
    ) -> pb.DeleteArtifactVersionResponse:
        v = await versions.delete_version(
            self.deps, request.name, request.delete_aliases, timeout_from(context)
        )
        return pb.DeleteArtifactVersionResponse(version=convert.version_to_proto(v))

    async def LinkArtifactVersion(
        self, request: pb.LinkArtifactVersionRequest, context: Ctx
    ) -> pb.LinkArtifactVersionResponse:
        v, existing = await links.link(
            self.deps, request.source, request.target, list(request.aliases), timeout_from(context)
        )
        return pb.LinkArtifactVersionResponse(version=convert.version_to_proto(v), existing=existing)

    # --- aliases ---

    async def SetAlias(self, request: pb.SetAliasRequest, context: Ctx) -> pb.SetAliasResponse:
        return pb.SetAliasResponse(
            event=await self._alias_change(aliases.set_alias, request.version, request, context)
        )

    async def RemoveAlias(self, request: pb.RemoveAliasRequest, context: Ctx) -> pb.RemoveAliasResponse:
        return pb.RemoveAliasResponse(
            event=await self._alias_change(aliases.remove_alias, request.artifact, request, context)
        )

    async def RevertAlias(self, request: pb.RevertAliasRequest, context: Ctx) -> pb.RevertAliasResponse:
        return pb.RevertAliasResponse(
            event=await self._alias_change(aliases.revert_alias, request.artifact, request, context)
        )

    async def ListAliases(self, request: pb.ListAliasesRequest, context: Ctx) -> pb.ListAliasesResponse:
        found = await aliases.list_aliases(self.deps, request.artifact, timeout_from(context))
        return pb.ListAliasesResponse(aliases=[convert.alias_to_proto(a) for a in found])

    async def ListAliasHistory(
        self, request: pb.ListAliasHistoryRequest, context: Ctx
    ) -> pb.ListAliasHistoryResponse:
        events, token = await self._page(aliases.history, request.artifact, request.alias, request, context)
        return pb.ListAliasHistoryResponse(
            events=[convert.event_to_proto(e) for e in events], next_page_token=token
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
        """Yields encoded ReadBlobResponse messages (see server.register_blob_codecs)."""
        async for offset, data in blobs.read_blob(
            self.deps, request.version, request.sha256, request.offset, request.length, timeout_from(context)
        ):
            yield encode_read_response(offset, data)

    async def BatchReadBlobs(
        self, request: pb.BatchReadBlobsRequest, context: Ctx
    ) -> pb.BatchReadBlobsResponse:
        found = await blobs.read_blobs(
            self.deps, request.version, list(request.sha256s), timeout_from(context)
        )
        return pb.BatchReadBlobsResponse(blobs=convert.blobs_to_proto(found))

    # --- TTL, GC, storage ---

    async def RunGarbageCollection(
        self, request: pb.RunGarbageCollectionRequest, context: Ctx
    ) -> pb.RunGarbageCollectionResponse:
        report = await gc.run_pass(self.deps, request.dry_run, timeout_from(context, default=600.0))
        return pb.RunGarbageCollectionResponse(report=convert.report_to_proto(report))

    async def GetStorageUsage(
        self, request: pb.GetStorageUsageRequest, context: Ctx
    ) -> pb.GetStorageUsageResponse:
        usage = await gc.storage_usage(self.deps, request.parent, timeout_from(context))
        return pb.GetStorageUsageResponse(usage=convert.usage_to_proto(usage))
