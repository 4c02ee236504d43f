"""Lineage from Python: walk the run <-> artifact graph, find what a version affects, explain how two
versions differ, export pictures, and link artifacts to runs after the fact.

    import strata
    from strata.sdk import lineage

    api = strata.Api()                                        # or a strata.client.Client, or a Run
    g = lineage.upstream(api, "ml-research/text-classifier/bert-classifier:v12", depth=10)
    print(g.to_text())
    hit = lineage.impact(api, "support-tickets:v0", entity="ml-research", project="text-classifier")
    print(hit.affected_runs)
    d = lineage.diff(api, "bert-classifier:v11", "bert-classifier:v12")
    print(d.to_text())                                       # "tokenizer v1 -> v2 (origin)" ...
    open("lineage.dot", "w").write(lineage.export(api, "bert-classifier:v12", format="dot"))

    lin = strata.Lineage()                                   # the same, bound to one client
    lin.upstream("bert-classifier:v12")

Nodes are artifact references (`name:v3`, `name:alias`, `project/name:alias`, `entity/project/name:alias`,
or a version resource name) or run resource names (`entities/e/projects/p/runs/id`, or a `Run`). A
reference without entity/project is completed with `entity=`/`project=`, else $STRATA_ENTITY /
$STRATA_PROJECT and the caller's own entity. Results are plain dataclasses (no graph library needed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from strata.client import Client
from strata.lineage.v1 import lineage_pb2
from strata.lineage.v1 import lineage_service_pb2 as pb
from strata.sdk._context import default_entity, default_project, ref_project
from strata.wire.fields import dataclass_from

__all__ = [
    "Edge",
    "FileChange",
    "Graph",
    "Impact",
    "InputChange",
    "Lineage",
    "Link",
    "MetadataChange",
    "Node",
    "VersionDiff",
    "diff",
    "downstream",
    "export",
    "impact",
    "link",
    "upstream",
]

_FORMATS = {"json": pb.GRAPH_FORMAT_JSON, "dot": pb.GRAPH_FORMAT_DOT, "mermaid": pb.GRAPH_FORMAT_MERMAID}
_DIRECTIONS = {
    "upstream": pb.LINEAGE_DIRECTION_UPSTREAM,
    "downstream": pb.LINEAGE_DIRECTION_DOWNSTREAM,
    "both": pb.LINEAGE_DIRECTION_BOTH,
}
_EDGE_KINDS = {"produced": lineage_pb2.EDGE_KIND_PRODUCED, "used": lineage_pb2.EDGE_KIND_USED}
# "linked": the version is a registry link to a version the run produced (run -> link)
_KIND_WORDS = {v: k for k, v in _EDGE_KINDS.items()} | {lineage_pb2.EDGE_KIND_LINKED: "linked"}
_FILE_CHANGES = {
    lineage_pb2.FILE_CHANGE_KIND_ADDED: "added",
    lineage_pb2.FILE_CHANGE_KIND_REMOVED: "removed",
    lineage_pb2.FILE_CHANGE_KIND_MODIFIED: "modified",
}


# --- results ---


@dataclass(frozen=True)
class Node:
    name: str  # resource name
    kind: str  # "run" or "artifact_version"
    label: str  # run display name, or "artifact:vN"
    depth: int  # hops from the start node
    job_type: str = ""
    artifact_type: str = ""
    state: str = ""

    @property
    def is_run(self) -> bool:
        return self.kind == "run"


@dataclass(frozen=True)
class Edge:
    source: str  # data flows source -> target
    target: str
    kind: str  # "produced" or "linked" (run -> version: a registry link to its output), or "used" (version -> run)
    create_time: datetime | None = None


@dataclass
class Graph:
    root: str
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, name: object) -> bool:
        return any(n.name == name for n in self.nodes)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def runs(self) -> list[Node]:
        return [n for n in self.nodes if n.is_run]

    @property
    def versions(self) -> list[Node]:
        return [n for n in self.nodes if not n.is_run]

    def inputs_of(self, name: str) -> list[str]:
        return sorted(e.source for e in self.edges if e.target == name)

    def outputs_of(self, name: str) -> list[str]:
        return sorted(e.target for e in self.edges if e.source == name)

    def to_dict(self) -> dict[str, Any]:
        """The same shape as the server's JSON export."""
        edges = [
            {**asdict(e), "create_time": e.create_time.isoformat() if e.create_time else None}
            for e in self.edges
        ]
        return {
            "root": self.root,
            "truncated": self.truncated,
            "nodes": [asdict(n) for n in self.nodes],
            "edges": edges,
        }

    def to_text(self) -> str:
        from strata.sdk._lineage_text import graph_text

        return graph_text(self)


@dataclass
class Impact:
    graph: Graph
    affected_versions: list[str]
    affected_runs: list[str]


@dataclass(frozen=True)
class FileChange:
    path: str
    change: str  # "added", "removed" or "modified"
    old_sha256: str = ""
    new_sha256: str = ""
    old_size: int = 0
    new_size: int = 0
    old_reference_uri: str = ""
    new_reference_uri: str = ""


_ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "<absent>"})()


@dataclass(frozen=True)
class MetadataChange:
    key: str
    old_value_json: str  # "" when the key is absent
    new_value_json: str

    @property
    def old(self) -> Any:
        """The parsed old value (MetadataChange.ABSENT when the key was not there)."""
        return json.loads(self.old_value_json) if self.old_value_json else _ABSENT

    @property
    def new(self) -> Any:
        return json.loads(self.new_value_json) if self.new_value_json else _ABSENT

    ABSENT = _ABSENT


@dataclass(frozen=True)
class InputChange:
    artifact: str  # collection resource name
    old_version: str  # version resource names ("" when absent on that side)
    new_version: str
    depth: int  # hops upstream of the compared versions
    origin: bool  # nothing upstream of this input differs: the change started here


@dataclass
class VersionDiff:
    old_version: str
    new_version: str
    inputs: list[InputChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    metadata: list[MetadataChange] = field(default_factory=list)
    files_added: int = 0
    files_removed: int = 0
    files_changed: int = 0
    files_truncated: bool = False
    old_producer: str = ""  # the runs that produced each version ("" when unknown or not readable)
    new_producer: str = ""
    config: list[MetadataChange] = field(default_factory=list)  # producing runs' config, dotted keys

    @property
    def origins(self) -> list[InputChange]:
        """The input changes where the difference started (the likely culprits)."""
        return [c for c in self.inputs if c.origin]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self) -> str:
        from strata.sdk._lineage_text import diff_text

        return diff_text(self)


@dataclass(frozen=True)
class Link:
    edge: Edge
    existed: bool  # True when the edge was already recorded (the call changed nothing)


# --- conversions ---


def _node(n: lineage_pb2.Node) -> Node:
    kind = "run" if n.kind == lineage_pb2.NODE_KIND_RUN else "artifact_version"
    return Node(n.name, kind, n.label, n.depth, n.job_type, n.artifact_type, n.state)


def _edge(e: lineage_pb2.Edge) -> Edge:
    kind = _KIND_WORDS.get(e.kind, "used")
    when = e.create_time.ToDatetime(tzinfo=timezone.utc) if e.HasField("create_time") else None
    return Edge(e.source, e.target, kind, when)


def graph_from_proto(g: lineage_pb2.Graph) -> Graph:
    return Graph(g.root, [_node(n) for n in g.nodes], [_edge(e) for e in g.edges], g.truncated)


def _diff_from_proto(r: pb.DiffArtifactVersionsResponse) -> VersionDiff:
    """The response as a VersionDiff: same-named fields copied, the others named here."""
    return dataclass_from(
        VersionDiff,
        r,
        inputs=[dataclass_from(InputChange, c) for c in r.input_changes],
        files=[
            dataclass_from(FileChange, f, change=_FILE_CHANGES.get(f.change, "modified"))
            for f in r.manifest_changes
        ],
        metadata=[dataclass_from(MetadataChange, m) for m in r.metadata_changes],
        files_truncated=r.manifest_changes_truncated,
        old_producer=r.old_producer_run,
        new_producer=r.new_producer_run,
        config=[dataclass_from(MetadataChange, c) for c in r.config_changes],
    )


# --- naming ---


def _client(obj: Any) -> Client:
    """A Client, or anything holding one (strata.Api, a Run, Lineage)."""
    if isinstance(obj, Client):
        return obj
    inner = getattr(obj, "client", None)
    if isinstance(inner, Client):
        return inner
    raise TypeError(f"expected a strata Client, Api or Run, not {type(obj).__name__}")


def _text(node: Any) -> str:
    if isinstance(node, str):
        return node
    for attr in ("resource_name", "name"):  # a Run (its resource name) or a logged Artifact
        name = getattr(node, attr, None)
        if isinstance(name, str) and name.startswith("entities/"):
            return name
    raise TypeError(f"expected a resource name or artifact reference, not {type(node).__name__}")


def qualify(client: Client, node: Any, entity: str | None = None, project: str | None = None) -> str:
    """Complete a relative artifact reference with the default entity and project."""
    text = _text(node)
    if text.startswith("entities/"):
        return text
    parts = text.partition(":")[0].split("/")
    if len(parts) >= 3:
        return text
    if len(parts) == 2:
        return f"{default_entity(client, entity)}/{text}"
    owner = default_entity(client, entity)
    return f"{owner}/{ref_project(client, owner, project, parts[0])}/{text}"


def qualify_run(client: Client, run: Any, entity: str | None = None, project: str | None = None) -> str:
    """A run resource name from a Run, a resource name, "entity/project/id", "project/id" or "id"."""
    text = _text(run)
    if text.startswith("entities/"):
        return text
    parts = text.split("/")
    if len(parts) == 3:
        return f"entities/{parts[0]}/projects/{parts[1]}/runs/{parts[2]}"
    if len(parts) == 2:
        return f"entities/{default_entity(client, entity)}/projects/{parts[0]}/runs/{parts[1]}"
    return f"entities/{default_entity(client, entity)}/projects/{default_project(project)}/runs/{text}"


def _options(
    depth: int | None, max_nodes: int | None, artifact_types: Sequence[str], job_types: Sequence[str]
) -> pb.TraversalOptions:
    return pb.TraversalOptions(
        max_depth=depth or 0,
        max_nodes=max_nodes or 0,
        artifact_types=list(artifact_types),
        job_types=list(job_types),
    )


# --- the calls ---


def upstream(
    client: Any,
    node: Any,
    *,
    depth: int = 5,
    max_nodes: int | None = None,
    artifact_types: Sequence[str] = (),
    job_types: Sequence[str] = (),
    entity: str | None = None,
    project: str | None = None,
    timeout: float | None = None,
) -> Graph:
    """Everything `node` came from, up to `depth` hops (max 50), at most `max_nodes` (default 1000)."""
    options = _options(depth, max_nodes, artifact_types, job_types)
    return _trace(client, "TraceUpstream", node, options, entity, project, timeout)


def downstream(
    client: Any,
    node: Any,
    *,
    depth: int = 5,
    max_nodes: int | None = None,
    artifact_types: Sequence[str] = (),
    job_types: Sequence[str] = (),
    entity: str | None = None,
    project: str | None = None,
    timeout: float | None = None,
) -> Graph:
    """Everything derived from `node`, up to `depth` hops (max 50)."""
    options = _options(depth, max_nodes, artifact_types, job_types)
    return _trace(client, "TraceDownstream", node, options, entity, project, timeout)


def _trace(
    client: Any,
    rpc: str,
    node: Any,
    options: pb.TraversalOptions,
    entity: str | None,
    project: str | None,
    timeout: float | None,
) -> Graph:
    """One TraceUpstream / TraceDownstream call (their requests have the same fields)."""
    c = _client(client)
    request = getattr(pb, f"{rpc}Request")(node=qualify(c, node, entity, project), options=options)
    return graph_from_proto(getattr(c.lineage, rpc)(request, timeout=timeout).graph)


def impact(
    client: Any,
    node: Any,
    *,
    max_nodes: int | None = None,
    entity: str | None = None,
    project: str | None = None,
    timeout: float | None = None,
) -> Impact:
    """Every version and run downstream of `node`, at any depth (at most `max_nodes`, default 10000)."""
    c = _client(client)
    req = pb.AnalyzeImpactRequest(node=qualify(c, node, entity, project), max_nodes=max_nodes or 0)
    r = c.lineage.AnalyzeImpact(req, timeout=timeout)
    return Impact(graph_from_proto(r.graph), list(r.affected_versions), list(r.affected_runs))


def diff(
    client: Any,
    old: Any,
    new: Any,
    *,
    depth: int = 10,
    max_manifest_changes: int | None = None,
    entity: str | None = None,
    project: str | None = None,
    timeout: float | None = None,
) -> VersionDiff:
    """How two versions of one artifact differ: upstream inputs, files and metadata."""
    c = _client(client)
    req = pb.DiffArtifactVersionsRequest(
        old_version=qualify(c, old, entity, project),
        new_version=qualify(c, new, entity, project),
        max_depth=depth or 0,
        max_manifest_changes=max_manifest_changes or 0,
    )
    return _diff_from_proto(c.lineage.DiffArtifactVersions(req, timeout=timeout))


def export(
    client: Any,
    node: Any,
    *,
    format: str = "dot",
    direction: str = "upstream",
    depth: int = 5,
    max_nodes: int | None = None,
    artifact_types: Sequence[str] = (),
    job_types: Sequence[str] = (),
    entity: str | None = None,
    project: str | None = None,
    timeout: float | None = None,
) -> str:
    """The graph around `node` as text: format "json", "dot" (Graphviz) or "mermaid";
    direction "upstream", "downstream" or "both"."""
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {sorted(_FORMATS)}")
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {sorted(_DIRECTIONS)}")
    c = _client(client)
    req = pb.ExportLineageGraphRequest(
        node=qualify(c, node, entity, project),
        direction=_DIRECTIONS[direction],
        format=_FORMATS[format],
        options=_options(depth, max_nodes, artifact_types, job_types),
    )
    return c.lineage.ExportLineageGraph(req, timeout=timeout).text


def link(
    client: Any,
    run: Any,
    version: Any,
    *,
    kind: str = "produced",
    entity: str | None = None,
    project: str | None = None,
    timeout: float | None = None,
) -> Link:
    """Record that `run` produced (or used) `version`, e.g. for a run that already finished.
    Idempotent: a repeated call returns the existing edge with existed=True."""
    if kind not in _EDGE_KINDS:
        raise ValueError(f"kind must be one of {sorted(_EDGE_KINDS)}")
    c = _client(client)
    req = pb.CreateLineageEdgeRequest(
        run=qualify_run(c, run, entity, project),
        version=qualify(c, version, entity, project),
        kind=_EDGE_KINDS[kind],
    )
    r = c.lineage.CreateLineageEdge(req, timeout=timeout)
    return Link(_edge(r.edge), r.existed)


class Lineage:
    """The lineage calls bound to one client (and optional default entity/project).

    `strata.Lineage()` connects to $STRATA_ADDR; `Lineage(api)` / `Lineage(run)` reuses their client.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        addr: str | None = None,
        api_key: str | None = None,
        entity: str | None = None,
        project: str | None = None,
    ) -> None:
        self.client = _client(client) if client is not None else Client(addr, api_key=api_key)
        self.entity, self.project = entity, project

    def _where(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("entity", self.entity)
        kwargs.setdefault("project", self.project)
        return kwargs

    def upstream(self, node: Any, **kwargs: Any) -> Graph:
        return upstream(self.client, node, **self._where(kwargs))

    def downstream(self, node: Any, **kwargs: Any) -> Graph:
        return downstream(self.client, node, **self._where(kwargs))

    def impact(self, node: Any, **kwargs: Any) -> Impact:
        return impact(self.client, node, **self._where(kwargs))

    def diff(self, old: Any, new: Any, **kwargs: Any) -> VersionDiff:
        return diff(self.client, old, new, **self._where(kwargs))

    def export(self, node: Any, **kwargs: Any) -> str:
        return export(self.client, node, **self._where(kwargs))

    def link(self, run: Any, version: Any, **kwargs: Any) -> Link:
        return link(self.client, run, version, **self._where(kwargs))
