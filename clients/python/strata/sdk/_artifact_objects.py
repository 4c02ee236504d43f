"""Rich values inside artifacts, as W&B users write them: `artifact.add(obj, name)` / `artifact.get(name)`.

    art = strata.Artifact("predictions", type="eval")
    art.add(strata.Table(columns=["id", "label", "p"], data=rows), "preds")   # -> "preds.table.json"
    art.add(strata.Image(pixels, caption="cat"), "sample")  # sample.image-file.json + media/images/…png
    run.log_artifact(art)

    table = run.use_artifact("predictions:latest").get("preds")   # a strata.Table
    table.columns, table.data, table.get_dataframe()

`add` encodes the value at once (later changes to it are not stored) into files of the draft, named
as W&B names them (strata.sdk._artifact_codec). `get` fetches only the value's file and the media
files it refers to (into the artifact's download folder, verified and through the blob cache) and
returns a strata.Table / Image / Html / Plotly / Histogram. A missing name raises
ArtifactObjectNotFound (a KeyError naming the values the version holds).
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb

from . import _artifact_codec as codec
from ._transfer_common import safe_relative_path

if TYPE_CHECKING:
    from strata.client import Client

    from .media import Media

MAX_LISTED = 20  # value names an ArtifactObjectNotFound message lists


class ArtifactObjectNotFound(KeyError):
    """artifact.get(name) of a name the version holds no value under; the message lists those it holds."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ArtifactObjects:
    """Mixed into Artifact (which defines the members declared below)."""

    _files: dict[str, Path]
    _removed: set[str]
    _base: artifact_pb2.ArtifactVersion | None
    _tmp: tempfile.TemporaryDirectory[str] | None
    if TYPE_CHECKING:

        def _draft_only(self) -> None: ...
        def _claim(self, path: str, overwrite: bool) -> str: ...
        def _logged(self) -> artifact_pb2.ArtifactVersion: ...
        def _require_client(self) -> Client: ...
        def _entries(self, path_prefix: str | None = None) -> Iterator[artifact_pb2.ManifestEntry]: ...
        def _default_root(self) -> Path: ...
        def remove(self, path: str) -> None: ...
        @property
        def qualified_name(self) -> str: ...

    # --- adding to a draft ---

    def add(self, obj: Media, name: str, overwrite: bool = False) -> str:
        """Store a strata.Table, Image, Html, Plotly or Histogram under `name` (a path in the artifact,
        without suffix); returns the file's path ("preds" + a table -> "preds.table.json"). A name that
        already holds a value raises ValueError unless overwrite=True."""
        self._draft_only()
        log_type = codec.log_type_of(obj)
        safe_relative_path(name, "name")
        path = safe_relative_path(codec.with_suffix(name, log_type), "name")
        self._make_room(codec.object_name(path) or name, path, overwrite)
        encoder = codec.Encoder(name)
        document = encoder.document(obj)
        for media_path, data in encoder.files.items():
            if media_path not in self._files:  # named by content: the same bytes are stored once
                self._stage(media_path, data)
        self._stage(path, document)
        return path

    def _make_room(self, name: str, path: str, overwrite: bool) -> None:
        """Refuse (or, with overwrite, clear) `name` when it holds a value already, of any kind."""
        held = [p for p in self._held_paths(name) if p not in self._removed]
        if held and not overwrite:
            raise ValueError(
                f"{name!r} already holds a value in artifact {self.qualified_name!r} ({held[0]}); "
                "pass overwrite=True to replace it"
            )
        for other in held:
            if other != path:
                self.remove(other)

    def _held_paths(self, name: str) -> list[str]:
        paths = [codec.with_suffix(name, k) for k in codec.KINDS]
        held = [p for p in paths if p in self._files]
        if self._base is not None:  # new_draft(): the base's members are this version's too
            client = self._require_client()
            for path in paths:
                page = client.registry.ListManifestEntries(
                    pb.ListManifestEntriesRequest(version=self._base.name, path_prefix=path, page_size=10)
                )
                if path not in held and any(e.path == path for e in page.entries):
                    held.append(path)
        return held

    def _stage(self, path: str, data: bytes) -> None:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="strata-artifact-")
        local = Path(self._tmp.name) / path
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
        self._files[self._claim(path, overwrite=True)] = local

    # --- reading a logged version ---

    def get(self, name: str, *, root: str | os.PathLike[str] | None = None) -> Media:
        """The value stored under `name` ("preds", or the file name "preds.table.json"): a strata.Table,
        Image, Html, Plotly or Histogram. Fetches only its file and the media files it refers to, into
        root (default: the artifact's download folder). ArtifactObjectNotFound (a KeyError) when the
        version holds no value of that name."""
        v = self._logged()
        entry = self._object_entry(name)
        target = Path(root) if root is not None else self._default_root()
        [document] = self._fetch([entry], target)
        doc = json.loads(document.read_text(encoding="utf-8"))
        wanted = codec.media_paths(doc)
        entries = self._media_entries(wanted)
        missing = [p for p in wanted if p not in entries]
        if missing:
            raise ValueError(f"{entry.path} in {v.name} refers to {missing[0]!r}, which the version lacks")
        local = dict(zip(entries, self._fetch(list(entries.values()), target), strict=True))
        return codec.decode(doc, lambda path: local[path])

    def _object_entry(self, name: str) -> artifact_pb2.ManifestEntry:
        if codec.object_name(name) is not None:
            candidates, prefix = [name], name
        else:
            candidates, prefix = [codec.with_suffix(name, k) for k in codec.KINDS], name + "."
        found = [e for e in self._entries(prefix) if e.path in candidates]
        if len(found) > 1:
            names = ", ".join(e.path for e in found)
            raise ValueError(f"{name!r} names several values in {self.qualified_name} ({names}): pass one")
        if not found:
            raise ArtifactObjectNotFound(self._not_found(name))
        if not found[0].HasField("blob"):
            raise ValueError(
                f"{found[0].path} in {self.qualified_name} is an external reference, not a value"
            )
        return found[0]

    def _not_found(self, name: str) -> str:
        held = sorted({n for e in self._entries() if (n := codec.object_name(e.path)) is not None})
        if not held:
            return f"{self.qualified_name} holds no value named {name!r} (it holds no values: add them with add())"
        listed = ", ".join(repr(n) for n in held[:MAX_LISTED])
        more = f" and {len(held) - MAX_LISTED} more" if len(held) > MAX_LISTED else ""
        return f"{self.qualified_name} holds no value named {name!r}; it holds {listed}{more}"

    def _media_entries(self, paths: list[str]) -> dict[str, artifact_pb2.ManifestEntry]:
        """The manifest entries of `paths`, listed once per folder they are in."""
        wanted, out = set(paths), {}
        for folder in sorted({posixpath.dirname(p) for p in paths}):
            for e in self._entries(f"{folder}/" if folder else None):
                if e.path in wanted and e.HasField("blob"):
                    out[e.path] = e
        return {p: out[p] for p in paths if p in out}

    def _fetch(self, entries: list[artifact_pb2.ManifestEntry], target: Path) -> list[Path]:
        from strata.sdk import transfer

        if entries:
            files = [(e.path, e.blob.sha256, e.blob.size) for e in entries]
            transfer.download_files(
                self._require_client(), self._logged().name, files, target, progress=False
            )
        return [target / e.path for e in entries]
