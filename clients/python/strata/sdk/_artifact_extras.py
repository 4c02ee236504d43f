"""The W&B reading surface of a logged artifact: `logged_by()`, `used_by()`, `get_entry()`/`get_path()`,
`files()` objects, `checkout()`, `source_name`, `tags`, `updated_at`, `url`, `link()`, `linked_from`.

    art = api.artifact("ml-research/text-classifier/bert-classifier:v3")
    art.logged_by().name                          # the producing run's display name (a public Run)
    [r.id for r in art.used_by()]                 # runs that used this version
    art.get_path("model.pth").download("/tmp/m")  # one file -> its local path
    for f in art.files(): f.name, f.size, f.digest
    art.checkout("./model")                       # the folder holds exactly this version afterwards
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.registry.v1 import artifact_pb2

from . import _artifact_codec as codec
from ._urls import artifact_url

if TYPE_CHECKING:
    from strata.client import Client

    from .api import Run as PublicRun


@dataclass
class ArtifactFile:
    """One member of a logged version: `.name` (its path), `.size`, `.digest` (sha256 hex of a stored
    file; the ETag of a reference), `.ref` (the URI of a reference, else None), `.download(root)`."""

    artifact: ArtifactExtras
    entry: artifact_pb2.ManifestEntry

    @property
    def name(self) -> str:
        return self.entry.path

    path = name

    @property
    def size(self) -> int:
        return self.entry.blob.size if self.entry.HasField("blob") else self.entry.reference.size

    @property
    def digest(self) -> str:
        return self.entry.blob.sha256 if self.entry.HasField("blob") else self.entry.reference.etag

    @property
    def ref(self) -> str | None:
        return self.entry.reference.uri if self.entry.HasField("reference") else None

    def download(self, root: str | os.PathLike[str] | None = None) -> str:
        """Fetch this file alone under root (default: the artifact's download folder); returns its path."""
        target = self.artifact.download(root, path_prefix=self.name)
        return str(Path(target) / self.name)

    def __repr__(self) -> str:
        return f"<ArtifactFile {self.name} size={self.size}>"


class ArtifactExtras:
    """Mixed into Artifact (which defines the members declared below)."""

    _tags: list[str]
    if TYPE_CHECKING:

        def _logged(self) -> artifact_pb2.ArtifactVersion: ...
        def _require_client(self) -> Client: ...
        def _entries(self, path_prefix: str | None = None) -> Iterator[artifact_pb2.ManifestEntry]: ...
        def download(
            self,
            root: str | os.PathLike[str] | None = None,
            path_prefix: str | None = None,
            *,
            progress: bool | None = None,
        ) -> str: ...
        @property
        def name(self) -> str: ...
        @property
        def qualified_name(self) -> str: ...
        @property
        def collection(self) -> str: ...
        @property
        def entity(self) -> str | None: ...
        @property
        def project(self) -> str | None: ...

    def files(self, names: list[str] | None = None, per_page: int = 50) -> Iterator[ArtifactFile]:
        """The version's files as objects with .name, .size, .digest and .download(); `names`
        keeps only those paths."""
        del per_page  # pages are the server's concern here
        wanted = set(names) if names else None
        for entry in self._entries():
            if wanted is None or entry.path in wanted:
                yield ArtifactFile(self, entry)

    def get_entry(self, name: str) -> ArtifactFile:
        """The member at path `name`, or, as W&B does, the file of the value added under `name`
        ("preds" -> "preds.table.json"); KeyError when neither is there."""
        candidates = [name, *(codec.with_suffix(name, kind) for kind in codec.KINDS)]
        found = {e.path: e for e in self._entries(name) if e.path in candidates}
        for path in candidates:
            if path in found:
                return ArtifactFile(self, found[path])
        raise KeyError(f"{name!r} is not in {self.qualified_name}")

    get_path = get_entry

    def checkout(self, root: str | os.PathLike[str] | None = None) -> str:
        """Download into root and delete every other file there, so root holds exactly this version."""
        target = Path(self.download(root))
        members = {e.path for e in self._entries()}
        for local in sorted(target.rglob("*"), reverse=True):
            rel = local.relative_to(target).as_posix()
            if local.is_file() and rel not in members:
                local.unlink()
            elif local.is_dir() and not any(local.iterdir()):
                shutil.rmtree(local, ignore_errors=True)
        return str(target)

    def logged_by(self) -> PublicRun | None:
        """The run that logged this version (a public Run), None when it was logged outside a run or
        that run was deleted."""
        from .api import Api

        producer = self._logged().producer_run
        if not producer:
            return None
        return Api(client=self._require_client()).run(producer)

    def used_by(self) -> list[PublicRun]:
        """The runs that used this version (one hop of lineage downstream)."""
        from . import lineage
        from .api import Api

        client = self._require_client()
        graph = lineage.downstream(client, self._logged().name, depth=1)
        consumers = {e.target for e in graph.edges if e.source == self._logged().name}
        api = Api(client=client)
        return [api.run(n.name) for n in graph.runs if n.name in consumers]

    def _linked_source(self) -> list[str]:
        """A registry link's source version name in parts (entities/e/projects/p/artifacts/a/versions/vN);
        [] when this version is not a link."""
        source = self._logged().linked_from
        return source.split("/") if source else []

    @property
    def source_name(self) -> str:
        """ "name:v3" in the project that holds the files (for a registry link: the linked source)."""
        parts = self._linked_source()
        return f"{parts[5]}:{parts[7]}" if parts else self.name

    @property
    def source_qualified_name(self) -> str:
        parts = self._linked_source()
        return f"{parts[1]}/{parts[3]}/{self.source_name}" if parts else self.qualified_name

    @property
    def tags(self) -> list[str]:
        """Kept on this object only: Strata has no artifact tags yet (use aliases or metadata)."""
        return self._tags

    @tags.setter
    def tags(self, tags: list[str]) -> None:
        self._tags = list(tags)

    @property
    def updated_at(self) -> datetime | None:
        v = self._logged()
        for field in ("update_time", "commit_time", "create_time"):
            if v.HasField(field):
                when: datetime = getattr(v, field).ToDatetime()
                return when
        return None

    @property
    def url(self) -> str:
        """The version's page in the web console."""
        v = self._logged()
        return artifact_url(str(self.entity), str(self.project), self.collection, f"v{v.version}")

    @property
    def linked_from(self) -> str | None:
        """For a version of a registry collection: the resource name of the version it links to."""
        return self._logged().linked_from or None

    def link(self, target: str, aliases: list[str] | None = None) -> Any:
        """Link this logged version into the registry collection "[entity/]registry/collection" (entity
        defaults to this version's); returns the link, a version of that collection. Needs write on the
        registry and read on this version's project; linking it again returns the existing link."""
        from ._artifact_links import link_version
        from .artifact import Artifact

        client = self._require_client()
        v = link_version(client, self._logged().name, target, aliases, self._logged().name.split("/")[1])
        return Artifact._from_version(client, v)
