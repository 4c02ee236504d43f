"""The rest of W&B's public API surface: projects, artifact types and collections, `artifact_exists`, and
on public runs `logged_artifacts()`, `used_artifacts()`, `files()`, `update()`, `delete()`, `url`.

    api = strata.Api(overrides={"entity": "ml-research", "project": "text-classifier"})
    [p.name for p in api.projects()]                     # the entity's projects
    [t.name for t in api.artifact_types()]               # "dataset", "model", ...
    [c.name for c in api.artifact_collections("text-classifier", "model")]
    api.artifact_versions("model", "bert-classifier")    # W&B's (type, name) form
    api.artifact_exists("bert-classifier:production")
    run = api.run("ml-research/text-classifier/abc123")
    run.tags.append("keep"); run.summary["note"] = "best"; run.update()
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import field_mask_pb2

from strata.errors import StrataError
from strata.iam.v1 import iam_service_pb2 as iam
from strata.ingest.v1 import ingest_service_pb2 as ipb
from strata.ingest.v1 import run_pb2
from strata.registry.v1 import registry_service_pb2 as rpb

from ._metric_defs import RESERVED
from ._urls import run_url

if TYPE_CHECKING:
    from strata.client import Client

    from .api import Api, Summary
    from .artifact import Artifact


@dataclass(frozen=True)
class Project:
    name: str
    entity: str
    description: str
    created_at: datetime | None

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.name}"


@dataclass(frozen=True)
class ArtifactType:
    name: str
    project: str


@dataclass(frozen=True)
class ArtifactCollection:
    name: str
    type: str
    project: str
    description: str
    version_count: int
    latest_version: str


def _pages(call: Any, request: Any, field: str) -> Iterator[Any]:
    while True:
        page = call(request)
        yield from getattr(page, field)
        if not page.next_page_token:
            return
        request.page_token = page.next_page_token


class ApiExtras:
    """Mixed into Api (which defines the members declared below)."""

    if TYPE_CHECKING:
        client: Client

        @property
        def default_entity(self) -> str: ...
        def _parent(self, path: str | None = None) -> str: ...
        def artifact(self, ref: str, type: str | None = None) -> Any: ...

    def projects(self, entity: str | None = None, per_page: int = 200) -> list[Project]:
        """The projects of `entity` (default: the Api's entity) the caller may see."""
        owner = entity or self.default_entity
        request = iam.ListProjectsRequest(parent=f"entities/{owner}", page_size=min(per_page, 1000))
        return [
            Project(p.name.rsplit("/", 1)[-1], owner, p.description, _time(p, "create_time"))
            for p in _pages(self.client.iam.ListProjects, request, "projects")
        ]

    def _collections(self, project: str | None, type_name: str = "") -> Iterator[Any]:
        request = rpb.ListArtifactsRequest(parent=self._parent(project), type=type_name, page_size=500)
        return _pages(self.client.registry.ListArtifacts, request, "artifacts")

    def artifact_types(self, project: str | None = None) -> list[ArtifactType]:
        """The artifact types used in a project ("entity/project", "project" or the default)."""
        parent = self._parent(project)
        types = sorted({a.type for a in self._collections(project)})
        return [ArtifactType(t, parent) for t in types]

    def artifact_collections(
        self, project_name: str | None = None, type_name: str = "", per_page: int = 500
    ) -> list[ArtifactCollection]:
        """The artifact collections of a project, of one type when `type_name` is given."""
        del per_page
        parent = self._parent(project_name)
        return [
            ArtifactCollection(
                a.name.rsplit("/", 1)[-1], a.type, parent, a.description, a.version_count, a.latest_version
            )
            for a in self._collections(project_name, type_name)
        ]

    def artifact_exists(self, name: str, type: str | None = None) -> bool:
        """True when the reference resolves (to a version of `type`, if given)."""
        try:
            self.artifact(name, type=type)
        except StrataError as e:
            if e.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                return False
            raise
        return True


def _time(msg: Any, field: str) -> datetime | None:
    return getattr(msg, field).ToDatetime() if msg.HasField(field) else None


class RunExtras:
    """Mixed into the query API's Run (which sets the members declared below)."""

    if TYPE_CHECKING:
        _api: Api
        _msg: run_pb2.Run
        entity: str
        project: str
        id: str
        resource_name: str
        name: str
        tags: list[str]
        notes: str
        config: dict[str, Any]
        summary: Summary

        def _reload(self, msg: run_pb2.Run) -> None: ...

    @property
    def url(self) -> str:
        return run_url(self.entity, self.project, self.id)

    def _versions(self, upstream: bool) -> list[Artifact]:
        from . import lineage
        from .artifact import Artifact

        client = self._api.client
        trace = lineage.upstream if upstream else lineage.downstream
        graph = trace(client, self.resource_name, depth=1)
        names = {e.source if upstream else e.target for e in graph.edges}
        out = []
        for node in graph.versions:
            if node.name in names:
                got = client.registry.GetArtifactVersion(rpb.GetArtifactVersionRequest(name=node.name))
                out.append(Artifact._from_version(client, got.version))
        return out

    def logged_artifacts(self) -> list[Artifact]:
        """The artifact versions this run logged (lineage: PRODUCED)."""
        return self._versions(upstream=False)

    def used_artifacts(self) -> list[Artifact]:
        """The artifact versions this run used (lineage: USED)."""
        return self._versions(upstream=True)

    def files(self) -> list[RunFile]:
        """The run's files (strata.save / run files), as W&B's File objects: .name (the path), .size,
        .download(root, replace=, exist_ok=); also .path, .blob, .create_time."""
        from .run_files import list_run_files

        return [
            RunFile(self._api.client, self.resource_name, f)
            for f in list_run_files(self._api.client, self.resource_name)
        ]

    def file(self, name: str) -> RunFile:
        """The run file at path `name` (W&B's run.file(name)); KeyError naming the files there."""
        found = {f.name: f for f in self.files()}
        if name not in found:
            held = ", ".join(sorted(found)[:20]) or "none"
            raise KeyError(f"run {self.resource_name} has no file {name!r} (it has: {held})")
        return found[name]

    def download_files(self, root: str | Path = ".", path_prefix: str = "") -> None:
        from .run_files import download_run_files

        download_run_files(self._api.client, self.resource_name, Path(root), path_prefix=path_prefix)

    def update(self) -> None:
        """Send local changes of name, tags, notes, config and summary to the server (W&B's
        `run.update()`): the whole tags list and notes, a config merge patch (keys removed locally are
        removed), and summary keys whose value differs from the server's as overrides."""
        run = run_pb2.Run(
            name=self.resource_name, display_name=self.name, tags=list(self.tags), notes=self.notes
        )
        paths = ["display_name", "tags", "notes"]
        stored = json.loads(self._msg.config_json or "{}")
        patch: dict[str, Any] = {k: None for k in stored if k not in self.config and k != RESERVED}
        patch.update({k: v for k, v in self.config.items() if stored.get(k) != v})
        if patch:
            run.config_json = json.dumps(patch)
            paths.append("config_json")
        overrides = self.summary.changed()
        if overrides:
            run.summary.extend(
                run_pb2.MetricSummary(key=k, override_json=json.dumps(v)) for k, v in overrides.items()
            )
            paths.append("summary")
        request = ipb.UpdateRunRequest(run=run, update_mask=field_mask_pb2.FieldMask(paths=paths))
        self._reload(self._api.client.ingest.UpdateRun(request).run)

    def delete(self, delete_artifacts: bool = False) -> None:
        """Delete the run on the server (project admins; audited). Artifact versions it logged stay
        unless delete_artifacts=True (then they are deleted first, with their aliases)."""
        if delete_artifacts:
            for art in self.logged_artifacts():
                art.delete(delete_aliases=True)
        self._api.client.ingest.DeleteRun(ipb.DeleteRunRequest(name=self.resource_name))


class RunFile:
    """A file attached to a run (W&B's File): `.name` is its path in the run."""

    def __init__(self, client: Any, run_name: str, msg: Any) -> None:
        self._client, self._run_name = client, run_name
        self.name = self.path = msg.path
        self.blob = msg.blob
        self.size = msg.blob.size
        self.digest = msg.blob.sha256
        self.create_time = msg.create_time
        self.updated_at = msg.create_time.ToDatetime() if msg.HasField("create_time") else None

    def download(self, root: str | Path = ".", replace: bool = False, exist_ok: bool = False) -> Any:
        """Download to root/<name>, verified, and return it opened for reading (as W&B does). A file
        already there is an error unless replace=True (download again) or exist_ok=True (keep it)."""
        from . import transfer

        target = Path(root) / self.name
        if target.exists() and not replace:
            if exist_ok:
                return open(target)  # W&B's File.download returns the open file
            raise ValueError(
                f"{target} already exists: pass replace=True to overwrite it or exist_ok=True to keep it"
            )
        transfer.download_run_file_entries(
            self._client, self._run_name, [(self.name, self.digest, self.size)], Path(root), progress=False
        )
        return open(target)

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.size} bytes)>"
