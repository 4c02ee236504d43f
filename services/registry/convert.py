"""Protobuf messages <-> registry domain objects: the only module besides handlers.py that builds or
reads strata.registry.v1 messages."""

from __future__ import annotations

import json
from datetime import timedelta

from google.protobuf import json_format
from strata.common.v1 import actor_pb2, blob_pb2
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb
from strata.wire.fields import message_from

from ..common import wellknown
from ..common.runs import ts
from .model import Alias, AliasEvent, Artifact, Entry, GcReport, StorageUsage, Version
from .versions.domain import DraftSpec, VersionEdit


def to_timedelta(msg: object, field: str) -> timedelta | None:
    return wellknown.duration(msg, field)


def entry_from_proto(e: artifact_pb2.ManifestEntry) -> Entry:
    if e.HasField("reference"):
        r = e.reference
        size = r.size if r.checksum or r.size else -1
        return Entry(e.path, None, max(size, 0), r.uri, r.etag, size, r.checksum)
    if e.HasField("blob"):
        return Entry(e.path, e.blob.sha256, e.blob.size)
    return Entry(e.path, None, 0)


def entry_to_proto(e: Entry) -> artifact_pb2.ManifestEntry:
    if e.ref_uri is not None:
        ref = artifact_pb2.ExternalReference(
            uri=e.ref_uri,
            etag=e.ref_etag or "",
            size=-1 if e.ref_size is None else e.ref_size,
            checksum=e.ref_checksum,
        )
        return artifact_pb2.ManifestEntry(path=e.path, reference=ref)
    return artifact_pb2.ManifestEntry(
        path=e.path, blob=blob_pb2.BlobDigest(sha256=e.sha256 or "", size=e.size)
    )


def provenance_to_dict(p: actor_pb2.Provenance) -> dict[str, object]:
    return json_format.MessageToDict(p, preserving_proto_field_name=True)


def draft_spec_from_proto(request: pb.CreateArtifactVersionRequest) -> DraftSpec:
    return DraftSpec(
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


def version_edit_from_proto(request: pb.UpdateArtifactVersionRequest) -> VersionEdit:
    v = request.version
    return VersionEdit(
        name=v.name,
        mask=list(request.update_mask.paths),
        description=v.description,
        metadata_json=v.metadata_json,
        ttl=to_timedelta(v, "ttl"),
        ttl_disabled=v.ttl_disabled,
    )


def version_to_proto(v: Version) -> artifact_pb2.ArtifactVersion:
    msg = artifact_pb2.ArtifactVersion(
        name=v.name,
        artifact=str(v.artifact),
        type=v.type,
        version=-1 if v.version is None else v.version,
        state=v.state,  # type: ignore[arg-type]  # reason: protoc's .pyi takes only its enum class; any int is valid
        description=v.description,
        metadata_json=_compact(v.metadata_json),
        aliases=list(v.aliases),
        manifest_digest=v.manifest_digest,
        file_count=v.file_count,
        total_size=v.total_size,
        ttl=wellknown.duration_message(v.ttl),
        ttl_disabled=v.ttl_disabled,
        expire_time=ts(v.expire_time),
        producer_run=v.producer_run,
        base_version=v.base_version,
        author=actor_pb2.Actor(name=v.author_name, kind=v.author_kind),  # type: ignore[arg-type]  # reason: protoc's .pyi takes only its enum class; any int is valid
        create_time=ts(v.create_time),
        commit_time=ts(v.commit_time),
        update_time=ts(v.update_time),
        delete_time=ts(v.delete_time),
        linked_from=v.linked_from,
    )
    if v.provenance:
        json_format.ParseDict(v.provenance, msg.provenance, ignore_unknown_fields=True)
    return msg


def _compact(text: str) -> str:
    """jsonb text as compact JSON (integers stay integers, key order is jsonb's)."""
    try:
        return json.dumps(json.loads(text), separators=(",", ":"))
    except ValueError:
        return text


def artifact_to_proto(a: Artifact) -> artifact_pb2.Artifact:
    return message_from(
        artifact_pb2.Artifact,
        a,
        name=str(a.name),
        create_time=ts(a.create_time),
        update_time=ts(a.update_time),
    )


def alias_to_proto(a: Alias) -> artifact_pb2.Alias:
    return message_from(artifact_pb2.Alias, a, update_time=ts(a.update_time))


def event_to_proto(e: AliasEvent) -> artifact_pb2.AliasEvent:
    actor = actor_pb2.Actor(name=e.actor_name, kind=e.actor_kind)  # type: ignore[arg-type]  # reason: protoc's .pyi takes only its enum class; any int is valid
    return message_from(artifact_pb2.AliasEvent, e, actor=actor, create_time=ts(e.create_time))


def report_to_proto(r: GcReport) -> artifact_pb2.GarbageCollectionReport:
    return artifact_pb2.GarbageCollectionReport(**r.__dict__)


def usage_to_proto(u: StorageUsage) -> artifact_pb2.StorageUsage:
    return artifact_pb2.StorageUsage(**u.__dict__)


def blobs_to_proto(blobs: list[tuple[str, int, bytes]]) -> list[pb.BlobContent]:
    """(sha256, size, bytes) triples as BatchReadBlobs answers them."""
    return [
        pb.BlobContent(digest=blob_pb2.BlobDigest(sha256=sha, size=size), data=data)
        for sha, size, data in blobs
    ]
