"""Artifacts: versioned datasets, models and files, W&B-shaped.

    art = strata.Artifact("bert-classifier", type="model", description="...", metadata={"f1": 0.89})
    art.add_file("model.pth"); art.add_dir("data/processed/"); art.add_reference("s3://bucket/key")
    run.log_artifact(art, aliases=["staging"])          # -> art, now version v3 (art.version == "v3")
    a = run.use_artifact("ml-research/text-classifier/bert-classifier:production")
    path = a.download()                                 # resumable, verified, cached
    a.aliases.append("production"); a.save()            # moves the alias (recorded in its history)
    a.ttl = datetime.timedelta(days=7); a.save()

Logging uploads only the files the project does not hold yet (content-addressed), creates a draft,
and commits it atomically: v0, v1, ... with no gaps even when many jobs log the same name at once.
If the content equals the current latest version, no version is created: the artifact is bound to
that version and `artifact.deduplicated` is True (the SDK says so on stderr unless STRATA_QUIET=1).
`new_draft()` starts a new version from a logged one: only added, changed or removed paths are sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import field_mask_pb2

from strata.client import Client
from strata.errors import Reason, StrataError
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb
from strata.wire.paths import printable

from . import _references
from ._artifact_extras import ArtifactExtras
from ._artifact_log import jsonable, log_version, say
from ._artifact_objects import ArtifactObjectNotFound, ArtifactObjects
from ._artifact_refs import TTL, ArtifactTTL, parse_ref
from ._context import default_entity, default_project, project_parent
from ._transfer_common import DownloadIncomplete, safe_relative_path

__all__ = [
    "Artifact",
    "ArtifactObjectNotFound",
    "ArtifactTTL",
    "fetch_artifact",
    "list_artifact_versions",
    "log_artifact",
    "use_artifact",
]

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_TYPE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


def _invalid(field: str, reason: str, message: str) -> StrataError:
    return StrataError(grpc.StatusCode.INVALID_ARGUMENT, reason, message, field=field)


def _check_path(path: str) -> str:
    """The path rule of run files and manifests (strata.wire.paths), checked before anything is sent."""
    return safe_relative_path(path, "name")


def _download_references(
    entries: list[artifact_pb2.ManifestEntry], target: Path, failures: list[tuple[str, BaseException]]
) -> list[str]:
    """Fetch the references in checksum mode into target; returns the paths skipped (logged without
    checksum) and appends a failure (a path outside the rule, a changed object) to `failures`."""
    skipped = []
    for i, entry in enumerate(entries):
        if not entry.HasField("reference"):
            continue
        ref = entry.reference
        try:
            safe_relative_path(entry.path, f"entries[{i}]")
            if not _references.download(ref.uri, ref.etag, ref.size, ref.checksum, target / entry.path):
                skipped.append(entry.path)
        except Exception as error:
            failures.append((entry.path, error))
    return skipped


class Artifact(ArtifactExtras, ArtifactObjects):
    """A versioned collection of files. Build one and log it, or get one with use_artifact / Api.artifact.
    Reading a logged one (files(), get_entry(), logged_by(), used_by(), ...): see _artifact_extras;
    rich values inside it (add(table, name), get(name)): see _artifact_objects."""

    INHERIT = ArtifactTTL.INHERIT

    def __init__(
        self, name: str, type: str, description: str | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        if not _NAME.fullmatch(name) or name in {".", ".."}:
            raise _invalid("name", Reason.INVALID_NAME, f"artifact name {name!r} must match {_NAME.pattern}")
        if not _TYPE.fullmatch(type):
            raise _invalid("type", Reason.INVALID_NAME, f"artifact type {type!r} must match {_TYPE.pattern}")
        self._name, self._type = name, type
        self.description = description or ""
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.aliases: list[str] = []
        self._ttl: TTL = ArtifactTTL.INHERIT
        self._files: dict[str, Path] = {}
        self._refs: dict[str, _references.Reference] = {}
        self._removed: set[str] = set()
        self._base: artifact_pb2.ArtifactVersion | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._client: Client | None = None
        self._version: artifact_pb2.ArtifactVersion | None = None
        self.deduplicated = False
        self._tags: list[str] = []

    # --- identity ---

    @property
    def name(self) -> str:
        """ "bert:v3" once logged (W&B), the collection name before."""
        return f"{self._name}:{self.version}" if self._version else self._name

    @property
    def collection(self) -> str:
        return self._name

    @property
    def type(self) -> str:
        return self._type

    @property
    def version(self) -> str | None:
        """ "v3" once logged; None for a draft."""
        return f"v{self._version.version}" if self._version else None

    @property
    def resource_name(self) -> str | None:
        """ "entities/e/projects/p/artifacts/bert/versions/v3" once logged."""
        return self._version.name if self._version else None

    id = resource_name

    @property
    def entity(self) -> str | None:
        return self._version.name.split("/")[1] if self._version else None

    @property
    def project(self) -> str | None:
        return self._version.name.split("/")[3] if self._version else None

    @property
    def qualified_name(self) -> str:
        """ "entity/project/bert:v3" once logged."""
        return f"{self.entity}/{self.project}/{self.name}" if self._version else self._name

    @property
    def is_draft(self) -> bool:
        return self._version is None

    def _logged(self) -> artifact_pb2.ArtifactVersion:
        if self._version is None:
            raise ValueError(f"artifact {self._name!r} is not logged yet: run.log_artifact(artifact) first")
        return self._version

    @property
    def digest(self) -> str:
        return self._logged().manifest_digest

    @property
    def size(self) -> int:
        return self._logged().total_size

    @property
    def file_count(self) -> int:
        return self._logged().file_count

    @property
    def state(self) -> str:
        if self._version is None:
            return "PENDING"
        return artifact_pb2.ArtifactVersionState.Name(self._version.state).rsplit("_", 1)[-1]

    @property
    def created_at(self) -> datetime | None:
        return (
            self._version.commit_time.ToDatetime()
            if self._version and self._version.HasField("commit_time")
            else None
        )

    @property
    def expires_at(self) -> datetime | None:
        v = self._version
        return v.expire_time.ToDatetime() if v is not None and v.HasField("expire_time") else None

    @property
    def ttl(self) -> TTL:
        """timedelta (expire that long after commit), None (never), or Artifact.INHERIT (project default)."""
        return self._ttl

    @ttl.setter
    def ttl(self, value: TTL) -> None:
        if isinstance(value, timedelta) and value.total_seconds() <= 0:
            raise ValueError("ttl must be positive")
        if value is not None and not isinstance(value, (timedelta, ArtifactTTL)):
            raise TypeError("ttl must be a timedelta, None or Artifact.INHERIT")
        self._ttl = value

    def __repr__(self) -> str:
        return f"<Artifact {self.qualified_name} type={self._type} state={self.state}>"

    # --- building a new version ---

    def _draft_only(self) -> None:
        if self._version is not None:
            raise ValueError(
                f"{self.qualified_name} is logged and immutable; use new_draft() to change files"
            )

    def _claim(self, path: str, overwrite: bool) -> str:
        _check_path(path)
        if not overwrite and (path in self._files or path in self._refs):
            raise ValueError(f"{path!r} is already in artifact {self._name!r} (pass overwrite=True)")
        self._files.pop(path, None)
        self._refs.pop(path, None)
        self._removed.discard(path)
        return path

    def add_file(
        self, local_path: str | os.PathLike[str], name: str | None = None, *, overwrite: bool = False
    ) -> str:
        """Add a local file under `name` (default: its file name); returns the path in the artifact."""
        self._draft_only()
        local = Path(local_path)
        if not local.is_file():
            raise FileNotFoundError(f"{local} is not a file")
        path = self._claim(name or local.name, overwrite)
        self._files[path] = local
        return path

    def add_dir(
        self, local_path: str | os.PathLike[str], name: str | None = None, *, overwrite: bool = False
    ) -> list[str]:
        """Add every file under a local folder, under `name/` (default: the artifact root)."""
        self._draft_only()
        root = Path(local_path)
        if not root.is_dir():
            raise NotADirectoryError(f"{root} is not a directory")
        prefix = (name or "").strip("/")
        added = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for file in sorted(filenames):
                local = Path(dirpath) / file
                if local.is_file():
                    rel = local.relative_to(root).as_posix()
                    path = self._claim(f"{prefix}/{rel}" if prefix else rel, overwrite)
                    self._files[path] = local
                    added.append(path)
        return added

    def add_reference(self, uri: str, name: str | None = None, *, checksum: bool = True) -> list[str]:
        """Record an s3:// or http(s):// object (or every object under an s3:// prefix ending in "/") by
        URI, ETag and size, without copying it. See strata.sdk._references for checksum mode."""
        self._draft_only()
        refs = _references.resolve(uri, name, checksum)
        for ref in refs:
            self._refs[self._claim(ref.path, overwrite=True)] = ref
        return [r.path for r in refs]

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "w", encoding: str | None = None) -> Iterator[Any]:
        """Write a file straight into the artifact: `with art.new_file("labels.json") as f: f.write(...)`."""
        self._draft_only()
        _check_path(name)
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="strata-artifact-")
        local = Path(self._tmp.name) / name
        local.parent.mkdir(parents=True, exist_ok=True)
        with open(local, mode, encoding=encoding) as f:
            yield f
        self.add_file(local, name, overwrite=True)

    def remove(self, path: str) -> None:
        """Remove a path (a file added here, or an entry inherited from new_draft()'s base)."""
        self._draft_only()
        self._files.pop(path, None)
        self._refs.pop(path, None)
        if self._base is not None:
            self._removed.add(path)

    def new_draft(self) -> Artifact:
        """A new version starting from this one's manifest; log it to record only what changed."""
        base = self._logged()
        draft = Artifact(self._name, self._type, self.description, dict(self.metadata))
        draft._base = base
        draft._client = self._client
        draft._ttl = self._ttl
        return draft

    # --- reading a logged version ---

    def _entries(self, path_prefix: str | None = None) -> Iterator[artifact_pb2.ManifestEntry]:
        """The manifest entries (path, blob digest or reference), ordered by path."""
        v, client = self._logged(), self._require_client()
        token = ""
        while True:
            page = client.registry.ListManifestEntries(
                pb.ListManifestEntriesRequest(
                    version=v.name, path_prefix=path_prefix or "", page_size=10_000, page_token=token
                )
            )
            yield from page.entries
            token = page.next_page_token
            if not token:
                return

    def _default_root(self) -> Path:
        sep = "-" if os.name == "nt" else ":"
        return Path(os.environ.get("STRATA_ARTIFACT_DIR", "artifacts")) / f"{self._name}{sep}{self.version}"

    def download(
        self,
        root: str | os.PathLike[str] | None = None,
        path_prefix: str | None = None,
        *,
        progress: bool | None = None,
    ) -> str:
        """Download the files (or those under path_prefix) into root (default ./artifacts/<name>:vN); returns
        root. Resumable and verified; unchanged files are not fetched again. References in checksum mode
        are fetched from their source (REFERENCE_CHANGED if they changed); others are skipped. One file
        that fails never stops the others: DownloadIncomplete then names every failure."""
        from strata.sdk import transfer

        v, client = self._logged(), self._require_client()
        target = Path(root) if root is not None else self._default_root()
        entries = list(self._entries(path_prefix))
        blobs = [(e.path, e.blob.sha256, e.blob.size) for e in entries if e.HasField("blob")]
        target.mkdir(parents=True, exist_ok=True)
        failures: list[tuple[str, BaseException]] = []
        try:
            transfer.download_files(client, v.name, blobs, target, progress=progress)
        except DownloadIncomplete as incomplete:
            failures += incomplete.failures
        skipped = _download_references(entries, target, failures)
        if skipped:
            say(
                f"{len(skipped)} reference(s) logged without checksum were not downloaded, e.g. {printable(skipped[0])}"
            )
        if failures:
            raise DownloadIncomplete(target, failures)
        return str(target)

    def verify(self, root: str | os.PathLike[str] | None = None) -> None:
        """Check that root holds exactly this version's files (sha256 and size; references logged with
        checksums: their size, and for s3:// objects uploaded in one part their ETag, the MD5 of the
        content); raises ValueError if not."""
        from strata.sdk import transfer

        target = Path(root) if root is not None else self._default_root()
        problems, expected = [], set()
        for e in self._entries():
            expected.add(e.path)
            local = target / e.path
            if e.HasField("reference"):
                if e.reference.checksum and (not local.is_file() or local.stat().st_size != e.reference.size):
                    problems.append(f"{e.path}: missing or wrong size")
                elif e.reference.checksum and not _matches_s3_etag(local, e.reference.uri, e.reference.etag):
                    problems.append(f"{e.path}: content differs from the S3 object's ETag (MD5)")
                continue
            if not local.is_file() or transfer.hash_file(local) != (e.blob.sha256, e.blob.size):
                problems.append(f"{e.path}: missing or different content")
        for local in sorted(p for p in target.rglob("*") if p.is_file()):
            rel = local.relative_to(target).as_posix()
            if rel not in expected:
                problems.append(f"{rel}: not a member of {self.qualified_name}")
        if problems:
            raise ValueError(f"{target} does not match {self.qualified_name}: " + "; ".join(problems[:20]))

    # --- editing a logged version ---

    def _require_client(self) -> Client:
        if self._client is None:
            self._client = Client()
        return self._client

    def save(self, project: str | None = None, entity: str | None = None) -> Artifact:
        """Logged: push description, metadata, TTL and alias changes (each audited; alias moves are
        recorded in the alias history). Not logged yet: log it outside a run (to entity/project)."""
        if self._version is None:
            client = self._require_client()
            parent = project_parent(default_entity(client, entity), default_project(project))
            return log_version(
                client, parent, self, [a for a in dict.fromkeys(self.aliases) if a != "latest"], ""
            )
        client = self._require_client()
        mask, update = self._changes()
        if mask:
            request = pb.UpdateArtifactVersionRequest(
                version=update, update_mask=field_mask_pb2.FieldMask(paths=mask)
            )
            client.registry.UpdateArtifactVersion(request)
        self._save_aliases(client)
        self._refresh()
        return self

    def _changes(self) -> tuple[list[str], artifact_pb2.ArtifactVersion]:
        v = self._logged()
        update = artifact_pb2.ArtifactVersion(name=v.name)
        mask = []
        if self.description != v.description:
            mask.append("description")
            update.description = self.description
        if self.metadata != json.loads(v.metadata_json or "{}"):
            mask.append("metadata_json")
            update.metadata_json = json.dumps(self.metadata, default=jsonable)
        if self._ttl != _ttl_of(v):
            if isinstance(self._ttl, timedelta):
                mask.append("ttl")
                update.ttl.FromTimedelta(self._ttl)
            elif self._ttl is None:
                mask.append("ttl_disabled")
                update.ttl_disabled = True
            else:
                mask += ["ttl", "ttl_disabled"]
        return mask, update

    def _save_aliases(self, client: Client) -> None:
        v = self._logged()
        wanted = [a for a in dict.fromkeys(self.aliases) if a != "latest"]
        held = [a for a in v.aliases if a != "latest"]
        for alias in wanted:
            if alias not in held:
                client.registry.SetAlias(pb.SetAliasRequest(version=v.name, alias=alias))
        for alias in held:
            if alias not in wanted:
                client.registry.RemoveAlias(pb.RemoveAliasRequest(artifact=v.artifact, alias=alias))

    def _refresh(self) -> None:
        got = self._require_client().registry.GetArtifactVersion(
            pb.GetArtifactVersionRequest(name=self._logged().name)
        )
        self._bind(self._require_client(), got.version)

    def delete(self, delete_aliases: bool = False) -> None:
        """Soft-delete this version. Refused (VERSION_HAS_ALIASES) while it holds aliases, unless
        delete_aliases=True. Its files are reclaimed by garbage collection when nothing else uses them."""
        v = self._logged()
        got = self._require_client().registry.DeleteArtifactVersion(
            pb.DeleteArtifactVersionRequest(name=v.name, delete_aliases=delete_aliases)
        )
        self._bind(self._require_client(), got.version)

    def wait(self) -> Artifact:
        """W&B compatibility: logging is synchronous here, so there is nothing to wait for."""
        return self

    # --- binding to a server version ---

    def _bind(self, client: Client, v: artifact_pb2.ArtifactVersion, deduplicated: bool = False) -> Artifact:
        self._client, self._version = client, v
        self._name, self._type = v.artifact.rsplit("/", 1)[1], v.type
        self.description = v.description
        self.metadata = json.loads(v.metadata_json or "{}")
        self.aliases = list(v.aliases)
        self._ttl = _ttl_of(v)
        self.deduplicated = deduplicated
        self._files, self._refs, self._removed, self._base = {}, {}, set(), None
        return self

    @classmethod
    def _from_version(cls, client: Client, v: artifact_pb2.ArtifactVersion) -> Artifact:
        return cls(v.artifact.rsplit("/", 1)[1], v.type)._bind(client, v)


def _ttl_of(v: artifact_pb2.ArtifactVersion) -> TTL:
    if v.ttl_disabled:
        return None
    if v.HasField("ttl"):
        return v.ttl.ToTimedelta()
    return ArtifactTTL.INHERIT


# --- logging and using (run.log_artifact / run.use_artifact delegate here) ---


def log_artifact(
    run: Any,
    artifact: Artifact | str | os.PathLike[str],
    aliases: list[str] | None = None,
    *,
    name: str | None = None,
    type: str | None = None,
) -> Artifact:
    """Log `artifact` (or a file/folder path, as W&B accepts) as the next version of its collection in
    the run's project; returns it, bound to the logged version (or to the existing latest when the
    content is identical: .deduplicated). Offline runs queue it in their spool for `strata sync`."""
    if not isinstance(artifact, Artifact):
        artifact = _from_path(Path(artifact), name, type)
    wanted = [a for a in dict.fromkeys([*(aliases or []), *artifact.aliases]) if a != "latest"]
    if run._offline:
        from ._artifact_offline import queue_artifact

        return queue_artifact(run, artifact, wanted)
    return log_version(run.client, run.parent, artifact, wanted, run.resource_name)


def _from_path(path: Path, name: str | None, type: str | None) -> Artifact:
    art = Artifact(name or re.sub(r"[^A-Za-z0-9_.-]", "-", path.name) or "artifact", type or "unspecified")
    if path.is_dir():
        art.add_dir(path)
    else:
        art.add_file(path)
    return art


def use_artifact(run: Any, ref: str | Artifact, type: str | None = None) -> Artifact:
    """Resolve a reference (relative to the run's project) and record that the run used it (lineage).
    With `type`, the server refuses a version of another type (ARTIFACT_TYPE_MISMATCH) before
    recording anything."""
    if isinstance(ref, Artifact):
        ref = ref._logged().name
    if run._offline:
        raise RuntimeError("use_artifact needs the server: offline runs cannot resolve artifacts")
    request = pb.UseArtifactVersionRequest(run=run.resource_name, ref=ref, type=type or "")
    got = run.client.registry.UseArtifactVersion(request).version
    return Artifact._from_version(run.client, got)


def _check_type(v: artifact_pb2.ArtifactVersion, type: str | None) -> None:
    if type and v.type != type:
        raise StrataError(
            grpc.StatusCode.FAILED_PRECONDITION,
            Reason.ARTIFACT_TYPE_MISMATCH,
            f"{v.name} has type {v.type!r}, not {type!r}",
        )


def fetch_artifact(api: Any, ref: str, type: str | None = None) -> Artifact:
    """strata.Api().artifact("entity/project/name:alias"): resolve without recording usage."""
    client = api.client
    parsed = parse_ref(client, ref, getattr(api, "entity", None), getattr(api, "project", None))
    got = client.registry.ResolveArtifactVersion(pb.ResolveArtifactVersionRequest(ref=str(parsed))).version
    _check_type(got, type)
    return Artifact._from_version(client, got)


def list_artifact_versions(api: Any, name: str) -> list[Artifact]:
    """All live versions of "[[entity/]project/]name", newest first."""
    client = api.client
    parsed = parse_ref(
        client, name.split(":", 1)[0], getattr(api, "entity", None), getattr(api, "project", None)
    )
    out, token = [], ""
    while True:
        page = client.registry.ListArtifactVersions(
            pb.ListArtifactVersionsRequest(parent=parsed.artifact, page_size=500, page_token=token)
        )
        out += [Artifact._from_version(client, v) for v in page.versions]
        token = page.next_page_token
        if not token:
            return out


def _matches_s3_etag(local: Path, uri: str, etag: str) -> bool:
    """An S3 object stored in one part has its MD5 as ETag; multipart ETags ("...-N") and other
    stores' opaque ETags cannot be checked locally and pass (their size was checked)."""
    tag = etag.strip('"').lower()
    if not uri.startswith("s3://") or len(tag) != 32 or any(c not in "0123456789abcdef" for c in tag):
        return True
    md5 = hashlib.md5(usedforsecurity=False)
    with open(local, "rb") as f:
        while chunk := f.read(1 << 20):
            md5.update(chunk)
    return md5.hexdigest() == tag
