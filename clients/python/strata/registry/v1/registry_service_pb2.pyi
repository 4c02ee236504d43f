from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from strata.common.v1 import actor_pb2 as _actor_pb2
from strata.common.v1 import blob_pb2 as _blob_pb2
from strata.registry.v1 import artifact_pb2 as _artifact_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateArtifactVersionRequest(_message.Message):
    __slots__ = ("parent", "artifact", "type", "description", "metadata_json", "entries", "base_version", "removed_paths", "run", "ttl", "ttl_disabled", "provenance")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REMOVED_PATHS_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    TTL_DISABLED_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    artifact: str
    type: str
    description: str
    metadata_json: str
    entries: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.ManifestEntry]
    base_version: str
    removed_paths: _containers.RepeatedScalarFieldContainer[str]
    run: str
    ttl: _duration_pb2.Duration
    ttl_disabled: bool
    provenance: _actor_pb2.Provenance
    def __init__(self, parent: _Optional[str] = ..., artifact: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ..., metadata_json: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[_artifact_pb2.ManifestEntry, _Mapping]]] = ..., base_version: _Optional[str] = ..., removed_paths: _Optional[_Iterable[str]] = ..., run: _Optional[str] = ..., ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., ttl_disabled: bool = ..., provenance: _Optional[_Union[_actor_pb2.Provenance, _Mapping]] = ...) -> None: ...

class CreateArtifactVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ...) -> None: ...

class AppendManifestEntriesRequest(_message.Message):
    __slots__ = ("draft", "entries", "removed_paths")
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    REMOVED_PATHS_FIELD_NUMBER: _ClassVar[int]
    draft: str
    entries: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.ManifestEntry]
    removed_paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, draft: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[_artifact_pb2.ManifestEntry, _Mapping]]] = ..., removed_paths: _Optional[_Iterable[str]] = ...) -> None: ...

class AppendManifestEntriesResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ...) -> None: ...

class CommitArtifactVersionRequest(_message.Message):
    __slots__ = ("draft", "aliases")
    DRAFT_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    draft: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, draft: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class CommitArtifactVersionResponse(_message.Message):
    __slots__ = ("version", "deduplicated")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    deduplicated: bool
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ..., deduplicated: bool = ...) -> None: ...

class GetArtifactVersionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetArtifactVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ...) -> None: ...

class ResolveArtifactVersionRequest(_message.Message):
    __slots__ = ("ref", "default_parent")
    REF_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_PARENT_FIELD_NUMBER: _ClassVar[int]
    ref: str
    default_parent: str
    def __init__(self, ref: _Optional[str] = ..., default_parent: _Optional[str] = ...) -> None: ...

class ResolveArtifactVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ...) -> None: ...

class UseArtifactVersionRequest(_message.Message):
    __slots__ = ("run", "ref", "type")
    RUN_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    run: str
    ref: str
    type: str
    def __init__(self, run: _Optional[str] = ..., ref: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class UseArtifactVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ...) -> None: ...

class GetArtifactRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetArtifactResponse(_message.Message):
    __slots__ = ("artifact",)
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ...) -> None: ...

class ListArtifactsRequest(_message.Message):
    __slots__ = ("parent", "type", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    type: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., type: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListArtifactsResponse(_message.Message):
    __slots__ = ("artifacts", "next_page_token")
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    artifacts: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.Artifact]
    next_page_token: str
    def __init__(self, artifacts: _Optional[_Iterable[_Union[_artifact_pb2.Artifact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListArtifactVersionsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "show_deleted")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SHOW_DELETED_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    show_deleted: bool
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., show_deleted: bool = ...) -> None: ...

class ListArtifactVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.ArtifactVersion]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[_artifact_pb2.ArtifactVersion, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListManifestEntriesRequest(_message.Message):
    __slots__ = ("version", "path_prefix", "page_size", "page_token")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_PREFIX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    version: str
    path_prefix: str
    page_size: int
    page_token: str
    def __init__(self, version: _Optional[str] = ..., path_prefix: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListManifestEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.ManifestEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[_artifact_pb2.ManifestEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateArtifactVersionRequest(_message.Message):
    __slots__ = ("version", "update_mask")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateArtifactVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ...) -> None: ...

class DeleteArtifactVersionRequest(_message.Message):
    __slots__ = ("name", "delete_aliases")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DELETE_ALIASES_FIELD_NUMBER: _ClassVar[int]
    name: str
    delete_aliases: bool
    def __init__(self, name: _Optional[str] = ..., delete_aliases: bool = ...) -> None: ...

class DeleteArtifactVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ...) -> None: ...

class SetAliasRequest(_message.Message):
    __slots__ = ("version", "alias", "reason")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    version: str
    alias: str
    reason: str
    def __init__(self, version: _Optional[str] = ..., alias: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SetAliasResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _artifact_pb2.AliasEvent
    def __init__(self, event: _Optional[_Union[_artifact_pb2.AliasEvent, _Mapping]] = ...) -> None: ...

class RemoveAliasRequest(_message.Message):
    __slots__ = ("artifact", "alias", "reason")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    alias: str
    reason: str
    def __init__(self, artifact: _Optional[str] = ..., alias: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RemoveAliasResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _artifact_pb2.AliasEvent
    def __init__(self, event: _Optional[_Union[_artifact_pb2.AliasEvent, _Mapping]] = ...) -> None: ...

class ListAliasesRequest(_message.Message):
    __slots__ = ("artifact",)
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    def __init__(self, artifact: _Optional[str] = ...) -> None: ...

class ListAliasesResponse(_message.Message):
    __slots__ = ("aliases",)
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.Alias]
    def __init__(self, aliases: _Optional[_Iterable[_Union[_artifact_pb2.Alias, _Mapping]]] = ...) -> None: ...

class ListAliasHistoryRequest(_message.Message):
    __slots__ = ("artifact", "alias", "page_size", "page_token")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    alias: str
    page_size: int
    page_token: str
    def __init__(self, artifact: _Optional[str] = ..., alias: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAliasHistoryResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_artifact_pb2.AliasEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[_artifact_pb2.AliasEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RevertAliasRequest(_message.Message):
    __slots__ = ("artifact", "alias", "reason")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    alias: str
    reason: str
    def __init__(self, artifact: _Optional[str] = ..., alias: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevertAliasResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _artifact_pb2.AliasEvent
    def __init__(self, event: _Optional[_Union[_artifact_pb2.AliasEvent, _Mapping]] = ...) -> None: ...

class WatchAliasRequest(_message.Message):
    __slots__ = ("artifact", "alias", "after_revision")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    AFTER_REVISION_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    alias: str
    after_revision: int
    def __init__(self, artifact: _Optional[str] = ..., alias: _Optional[str] = ..., after_revision: _Optional[int] = ...) -> None: ...

class WatchAliasResponse(_message.Message):
    __slots__ = ("event", "version")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    event: _artifact_pb2.AliasEvent
    version: _artifact_pb2.ArtifactVersion
    def __init__(self, event: _Optional[_Union[_artifact_pb2.AliasEvent, _Mapping]] = ..., version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ...) -> None: ...

class ReadBlobRequest(_message.Message):
    __slots__ = ("version", "sha256", "offset", "length")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    version: str
    sha256: str
    offset: int
    length: int
    def __init__(self, version: _Optional[str] = ..., sha256: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class ReadBlobResponse(_message.Message):
    __slots__ = ("offset", "data")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    offset: int
    data: bytes
    def __init__(self, offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class BatchReadBlobsRequest(_message.Message):
    __slots__ = ("version", "sha256s")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SHA256S_FIELD_NUMBER: _ClassVar[int]
    version: str
    sha256s: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, version: _Optional[str] = ..., sha256s: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchReadBlobsResponse(_message.Message):
    __slots__ = ("blobs",)
    BLOBS_FIELD_NUMBER: _ClassVar[int]
    blobs: _containers.RepeatedCompositeFieldContainer[BlobContent]
    def __init__(self, blobs: _Optional[_Iterable[_Union[BlobContent, _Mapping]]] = ...) -> None: ...

class BlobContent(_message.Message):
    __slots__ = ("digest", "data")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    digest: _blob_pb2.BlobDigest
    data: bytes
    def __init__(self, digest: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class RunGarbageCollectionRequest(_message.Message):
    __slots__ = ("dry_run",)
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    def __init__(self, dry_run: bool = ...) -> None: ...

class RunGarbageCollectionResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _artifact_pb2.GarbageCollectionReport
    def __init__(self, report: _Optional[_Union[_artifact_pb2.GarbageCollectionReport, _Mapping]] = ...) -> None: ...

class LinkArtifactVersionRequest(_message.Message):
    __slots__ = ("source", "target", "aliases")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    source: str
    target: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, source: _Optional[str] = ..., target: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class LinkArtifactVersionResponse(_message.Message):
    __slots__ = ("version", "existing")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    version: _artifact_pb2.ArtifactVersion
    existing: bool
    def __init__(self, version: _Optional[_Union[_artifact_pb2.ArtifactVersion, _Mapping]] = ..., existing: bool = ...) -> None: ...

class GetStorageUsageRequest(_message.Message):
    __slots__ = ("parent",)
    PARENT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    def __init__(self, parent: _Optional[str] = ...) -> None: ...

class GetStorageUsageResponse(_message.Message):
    __slots__ = ("usage",)
    USAGE_FIELD_NUMBER: _ClassVar[int]
    usage: _artifact_pb2.StorageUsage
    def __init__(self, usage: _Optional[_Union[_artifact_pb2.StorageUsage, _Mapping]] = ...) -> None: ...
