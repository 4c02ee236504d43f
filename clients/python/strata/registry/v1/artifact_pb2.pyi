from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from strata.common.v1 import actor_pb2 as _actor_pb2
from strata.common.v1 import blob_pb2 as _blob_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ArtifactVersionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ARTIFACT_VERSION_STATE_UNSPECIFIED: _ClassVar[ArtifactVersionState]
    ARTIFACT_VERSION_STATE_DRAFT: _ClassVar[ArtifactVersionState]
    ARTIFACT_VERSION_STATE_COMMITTED: _ClassVar[ArtifactVersionState]
    ARTIFACT_VERSION_STATE_DELETED: _ClassVar[ArtifactVersionState]

class AliasEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALIAS_EVENT_KIND_UNSPECIFIED: _ClassVar[AliasEventKind]
    ALIAS_EVENT_KIND_SET: _ClassVar[AliasEventKind]
    ALIAS_EVENT_KIND_REMOVED: _ClassVar[AliasEventKind]
    ALIAS_EVENT_KIND_REVERTED: _ClassVar[AliasEventKind]
    ALIAS_EVENT_KIND_DROPPED: _ClassVar[AliasEventKind]
ARTIFACT_VERSION_STATE_UNSPECIFIED: ArtifactVersionState
ARTIFACT_VERSION_STATE_DRAFT: ArtifactVersionState
ARTIFACT_VERSION_STATE_COMMITTED: ArtifactVersionState
ARTIFACT_VERSION_STATE_DELETED: ArtifactVersionState
ALIAS_EVENT_KIND_UNSPECIFIED: AliasEventKind
ALIAS_EVENT_KIND_SET: AliasEventKind
ALIAS_EVENT_KIND_REMOVED: AliasEventKind
ALIAS_EVENT_KIND_REVERTED: AliasEventKind
ALIAS_EVENT_KIND_DROPPED: AliasEventKind

class Artifact(_message.Message):
    __slots__ = ("name", "type", "description", "version_count", "latest_version", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_COUNT_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    description: str
    version_count: int
    latest_version: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ..., version_count: _Optional[int] = ..., latest_version: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExternalReference(_message.Message):
    __slots__ = ("uri", "etag", "size", "checksum")
    URI_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    uri: str
    etag: str
    size: int
    checksum: bool
    def __init__(self, uri: _Optional[str] = ..., etag: _Optional[str] = ..., size: _Optional[int] = ..., checksum: bool = ...) -> None: ...

class ManifestEntry(_message.Message):
    __slots__ = ("path", "blob", "reference")
    PATH_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    path: str
    blob: _blob_pb2.BlobDigest
    reference: ExternalReference
    def __init__(self, path: _Optional[str] = ..., blob: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ..., reference: _Optional[_Union[ExternalReference, _Mapping]] = ...) -> None: ...

class ArtifactVersion(_message.Message):
    __slots__ = ("name", "artifact", "type", "version", "state", "description", "metadata_json", "aliases", "manifest_digest", "file_count", "total_size", "ttl", "ttl_disabled", "expire_time", "producer_run", "base_version", "author", "provenance", "create_time", "commit_time", "update_time", "delete_time", "linked_from")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    TTL_DISABLED_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_RUN_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETE_TIME_FIELD_NUMBER: _ClassVar[int]
    LINKED_FROM_FIELD_NUMBER: _ClassVar[int]
    name: str
    artifact: str
    type: str
    version: int
    state: ArtifactVersionState
    description: str
    metadata_json: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    manifest_digest: str
    file_count: int
    total_size: int
    ttl: _duration_pb2.Duration
    ttl_disabled: bool
    expire_time: _timestamp_pb2.Timestamp
    producer_run: str
    base_version: str
    author: _actor_pb2.Actor
    provenance: _actor_pb2.Provenance
    create_time: _timestamp_pb2.Timestamp
    commit_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    delete_time: _timestamp_pb2.Timestamp
    linked_from: str
    def __init__(self, name: _Optional[str] = ..., artifact: _Optional[str] = ..., type: _Optional[str] = ..., version: _Optional[int] = ..., state: _Optional[_Union[ArtifactVersionState, str]] = ..., description: _Optional[str] = ..., metadata_json: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., manifest_digest: _Optional[str] = ..., file_count: _Optional[int] = ..., total_size: _Optional[int] = ..., ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., ttl_disabled: bool = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., producer_run: _Optional[str] = ..., base_version: _Optional[str] = ..., author: _Optional[_Union[_actor_pb2.Actor, _Mapping]] = ..., provenance: _Optional[_Union[_actor_pb2.Provenance, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., commit_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., linked_from: _Optional[str] = ...) -> None: ...

class Alias(_message.Message):
    __slots__ = ("alias", "version", "revision", "protected", "update_time")
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    alias: str
    version: str
    revision: int
    protected: bool
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, alias: _Optional[str] = ..., version: _Optional[str] = ..., revision: _Optional[int] = ..., protected: bool = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AliasEvent(_message.Message):
    __slots__ = ("artifact", "alias", "revision", "kind", "from_version", "to_version", "actor", "reason", "create_time")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    alias: str
    revision: int
    kind: AliasEventKind
    from_version: str
    to_version: str
    actor: _actor_pb2.Actor
    reason: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, artifact: _Optional[str] = ..., alias: _Optional[str] = ..., revision: _Optional[int] = ..., kind: _Optional[_Union[AliasEventKind, str]] = ..., from_version: _Optional[str] = ..., to_version: _Optional[str] = ..., actor: _Optional[_Union[_actor_pb2.Actor, _Mapping]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StorageUsage(_message.Message):
    __slots__ = ("project", "logical_bytes", "stored_bytes", "version_count", "blob_count")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    STORED_BYTES_FIELD_NUMBER: _ClassVar[int]
    VERSION_COUNT_FIELD_NUMBER: _ClassVar[int]
    BLOB_COUNT_FIELD_NUMBER: _ClassVar[int]
    project: str
    logical_bytes: int
    stored_bytes: int
    version_count: int
    blob_count: int
    def __init__(self, project: _Optional[str] = ..., logical_bytes: _Optional[int] = ..., stored_bytes: _Optional[int] = ..., version_count: _Optional[int] = ..., blob_count: _Optional[int] = ...) -> None: ...

class GarbageCollectionReport(_message.Message):
    __slots__ = ("dry_run", "expired_versions", "deleted_blobs", "reclaimed_bytes", "expired_uploads", "expired_drafts")
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    DELETED_BLOBS_FIELD_NUMBER: _ClassVar[int]
    RECLAIMED_BYTES_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_UPLOADS_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_DRAFTS_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    expired_versions: int
    deleted_blobs: int
    reclaimed_bytes: int
    expired_uploads: int
    expired_drafts: int
    def __init__(self, dry_run: bool = ..., expired_versions: _Optional[int] = ..., deleted_blobs: _Optional[int] = ..., reclaimed_bytes: _Optional[int] = ..., expired_uploads: _Optional[int] = ..., expired_drafts: _Optional[int] = ...) -> None: ...
