"""The registry's domain objects (what the stores return and convert.py turns into protos), and the
enum numbers they carry, taken from the generated code so SQL binds them instead of restating them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from strata.ingest.v1 import upload_pb2
from strata.lineage.v1 import lineage_pb2
from strata.registry.v1 import artifact_pb2

from ..common.names import ArtifactName, VersionName

DRAFT = artifact_pb2.ARTIFACT_VERSION_STATE_DRAFT
COMMITTED = artifact_pb2.ARTIFACT_VERSION_STATE_COMMITTED
DELETED = artifact_pb2.ARTIFACT_VERSION_STATE_DELETED
SET = artifact_pb2.ALIAS_EVENT_KIND_SET
REMOVED = artifact_pb2.ALIAS_EVENT_KIND_REMOVED
REVERTED = artifact_pb2.ALIAS_EVENT_KIND_REVERTED
DROPPED = artifact_pb2.ALIAS_EVENT_KIND_DROPPED
PRODUCED = lineage_pb2.EDGE_KIND_PRODUCED
USED = lineage_pb2.EDGE_KIND_USED
LINKED = lineage_pb2.EDGE_KIND_LINKED
UPLOAD_OPEN = upload_pb2.UPLOAD_STATE_OPEN  # upload sessions (ingest's table) still pinning blobs
LATEST = "latest"


@dataclass(frozen=True)
class Entry:
    """One manifest entry: a stored blob (sha256 + size) or an external reference."""

    path: str
    sha256: str | None
    size: int
    ref_uri: str | None = None
    ref_etag: str | None = None
    ref_size: int | None = None
    ref_checksum: bool = False

    def record(self, version_id: int) -> tuple[Any, ...]:
        return (
            version_id,
            self.path,
            self.sha256,
            self.size,
            self.ref_uri,
            self.ref_etag,
            self.ref_size,
            self.ref_checksum,
        )


ENTRY_COLUMNS = ("version_id", "path", "sha256", "size", "ref_uri", "ref_etag", "ref_size", "ref_checksum")


@dataclass(frozen=True)
class Artifact:
    id: int
    project_id: int
    name: ArtifactName
    type: str
    description: str
    version_count: int = 0
    latest_version: str = ""
    create_time: datetime | None = None
    update_time: datetime | None = None


@dataclass(frozen=True)
class Version:
    id: int
    artifact_id: int
    project_id: int
    artifact: ArtifactName
    type: str
    version: int | None
    draft_id: str
    state: int
    description: str
    metadata_json: str
    aliases: tuple[str, ...]
    manifest_digest: str
    file_count: int
    total_size: int
    ttl: timedelta | None
    ttl_disabled: bool
    expire_time: datetime | None
    producer_run: str
    base_version: str
    author_name: str
    author_kind: int
    provenance: dict[str, Any] = field(default_factory=dict)
    create_time: datetime | None = None
    commit_time: datetime | None = None
    update_time: datetime | None = None
    delete_time: datetime | None = None
    linked_from: str = ""  # a registry link: the resource name of the version it links to

    @property
    def name(self) -> str:
        if self.version is None:
            return str(VersionName(self.artifact, None, self.draft_id))
        return str(VersionName(self.artifact, self.version))

    @property
    def custom_aliases(self) -> tuple[str, ...]:
        return tuple(a for a in self.aliases if a != LATEST)


@dataclass(frozen=True)
class Alias:
    alias: str
    version: str
    version_id: int
    revision: int
    protected: bool
    update_time: datetime | None


@dataclass(frozen=True)
class AliasEvent:
    artifact: str
    alias: str
    revision: int
    kind: int
    from_version: str
    to_version: str
    actor_name: str
    actor_kind: int
    reason: str
    create_time: datetime | None
    to_version_id: int | None = None


@dataclass(frozen=True)
class GcReport:
    dry_run: bool
    expired_versions: int = 0
    deleted_blobs: int = 0
    reclaimed_bytes: int = 0
    expired_uploads: int = 0
    expired_drafts: int = 0


@dataclass(frozen=True)
class StorageUsage:
    project: str
    logical_bytes: int
    stored_bytes: int
    version_count: int
    blob_count: int
