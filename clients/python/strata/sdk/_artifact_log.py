"""Logging an artifact as a new version: upload what the project lacks, create the draft (manifests
over 10,000 entries in several calls), commit; on BLOB_MISSING (garbage collection took a blob between
upload and commit) upload again and retry. Used by strata.sdk.artifact (log_artifact, Artifact.save)."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.client import Client
from strata.errors import Reason, StrataError
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb

if TYPE_CHECKING:
    from .artifact import Artifact

ENTRIES_PER_CALL = 10_000
COMMIT_ATTEMPTS = 3


def jsonable(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"metadata value {value!r} is not JSON serializable")


def say(message: str) -> None:
    if os.environ.get("STRATA_QUIET", "").lower() not in {"1", "true", "yes"}:
        print(f"strata: {message}", file=sys.stderr)


def _create_request(
    parent: str, art: Artifact, entries: list[artifact_pb2.ManifestEntry], run: str
) -> pb.CreateArtifactVersionRequest:
    from ._provenance import capture

    request = pb.CreateArtifactVersionRequest(
        parent=parent,
        artifact=art.collection,
        type=art.type,
        description=art.description,
        metadata_json=json.dumps(art.metadata, default=jsonable),
        entries=entries[:ENTRIES_PER_CALL],
        base_version=art._base.name if art._base is not None else "",
        removed_paths=sorted(art._removed),
        run=run,
        provenance=capture(),
    )
    if isinstance(art.ttl, timedelta):
        request.ttl.FromTimedelta(art.ttl)
    elif art.ttl is None:
        request.ttl_disabled = True
    return request


def _entries(client: Client, parent: str, art: Artifact) -> list[artifact_pb2.ManifestEntry]:
    from strata.sdk import transfer

    digests = transfer.upload_files(client, parent, sorted(art._files.items())) if art._files else {}
    entries = [artifact_pb2.ManifestEntry(path=path, blob=digest) for path, digest in sorted(digests.items())]
    for ref in sorted(art._refs.values(), key=lambda r: r.path):
        ext = artifact_pb2.ExternalReference(uri=ref.uri, etag=ref.etag, size=ref.size, checksum=ref.checksum)
        entries.append(artifact_pb2.ManifestEntry(path=ref.path, reference=ext))
    return entries


def log_version(client: Client, parent: str, art: Artifact, aliases: list[str], run: str) -> Artifact:
    if art._version is not None:
        raise ValueError(f"{art.qualified_name} is already logged; use new_draft() for a new version")
    entries = _entries(client, parent, art)
    draft = client.registry.CreateArtifactVersion(_create_request(parent, art, entries, run)).version
    for start in range(ENTRIES_PER_CALL, len(entries), ENTRIES_PER_CALL):
        chunk = entries[start : start + ENTRIES_PER_CALL]
        client.registry.AppendManifestEntries(
            pb.AppendManifestEntriesRequest(draft=draft.name, entries=chunk)
        )
    for attempt in range(COMMIT_ATTEMPTS):
        try:
            response = client.registry.CommitArtifactVersion(
                pb.CommitArtifactVersionRequest(draft=draft.name, aliases=aliases)
            )
            break
        except StrataError as e:  # garbage collection took a blob between upload and commit: upload again
            if e.reason != Reason.BLOB_MISSING or attempt == COMMIT_ATTEMPTS - 1 or not art._files:
                raise
            _entries(client, parent, art)
    art._bind(client, response.version, response.deduplicated)
    if response.deduplicated:
        say(f"{art.collection}: content identical to {art.qualified_name}; no new version logged")
    return art
