"""The lineage graph as every lineage feature sees it: node and edge kinds, nodes, edges, graphs and
traversal bounds (plain dataclasses and tuples; no gRPC, no SQL).

Enum numbers come from the generated protobuf enums (they are also what lineage_edges.kind and
artifact_versions.state store), so no number is restated here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from strata.lineage.v1 import lineage_pb2
from strata.registry.v1 import artifact_pb2


class NodeKind(enum.IntEnum):  # values of strata.lineage.v1.NodeKind
    RUN = lineage_pb2.NODE_KIND_RUN
    VERSION = lineage_pb2.NODE_KIND_ARTIFACT_VERSION


class EdgeKind(enum.IntEnum):  # values of strata.lineage.v1.EdgeKind and of lineage_edges.kind
    PRODUCED = lineage_pb2.EDGE_KIND_PRODUCED
    USED = lineage_pb2.EDGE_KIND_USED
    LINKED = lineage_pb2.EDGE_KIND_LINKED  # run -> a registry link to a version it produced


# Edge kinds that point from the run to the version (USED points the other way).
RUN_TO_VERSION = frozenset({EdgeKind.PRODUCED, EdgeKind.LINKED})


class VersionState(enum.IntEnum):  # values of strata.registry.v1.ArtifactVersionState
    DRAFT = artifact_pb2.ARTIFACT_VERSION_STATE_DRAFT
    COMMITTED = artifact_pb2.ARTIFACT_VERSION_STATE_COMMITTED
    DELETED = artifact_pb2.ARTIFACT_VERSION_STATE_DELETED


# artifact_versions.state -> the name answers show ("committed")
VERSION_STATES = {int(s): s.name.lower() for s in VersionState}


class Direction(enum.Enum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


NodeKey = tuple[NodeKind, int]  # (kind, runs.id or artifact_versions.id)

MAX_DEPTH, DEFAULT_DEPTH = 50, 5
MAX_NODES, DEFAULT_NODES, DEFAULT_IMPACT_NODES = 100_000, 1000, 10_000


class Node(NamedTuple):
    """A run or version as answers show it (a tuple: an impact answer can hold 100,000 of them)."""

    key: NodeKey
    name: str  # resource name
    label: str  # run display name (or id), or "artifact:vN"
    depth: int
    project_id: int
    job_type: str = ""
    artifact_type: str = ""
    state: str = ""
    artifact: str = ""  # versions: the collection's resource name
    version: int = -1

    @property
    def kind(self) -> NodeKind:
        return self.key[0]


class Edge(NamedTuple):
    """An edge as stored: PRODUCED and LINKED are run -> version, USED is version -> run (data flow).
    A tuple, not a dataclass: "everything downstream" can hold 100,000s of them."""

    run_id: int
    version_id: int
    kind: EdgeKind
    create_time: datetime

    @property
    def source(self) -> NodeKey:
        run, version = (NodeKind.RUN, self.run_id), (NodeKind.VERSION, self.version_id)
        return run if self.kind in RUN_TO_VERSION else version

    @property
    def target(self) -> NodeKey:
        run, version = (NodeKind.RUN, self.run_id), (NodeKind.VERSION, self.version_id)
        return version if self.kind in RUN_TO_VERSION else run


@dataclass
class Graph:
    root: Node
    nodes: list[Node]  # root first, then by depth, kind, name
    edges: list[Edge]
    truncated: bool

    def by_key(self) -> dict[NodeKey, Node]:
        return {n.key: n for n in self.nodes}


@dataclass(frozen=True)
class TraversalOptions:
    max_depth: int | None  # None: no limit (impact analysis)
    max_nodes: int
    artifact_types: tuple[str, ...] = ()
    job_types: tuple[str, ...] = ()
