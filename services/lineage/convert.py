"""Protobuf messages of the lineage service <-> the domain's requests and results.

The only place besides handlers.py that reads or builds strata.lineage.v1 messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TypeVar

from strata.lineage.v1 import lineage_pb2, lineage_service_pb2
from strata.wire.fields import message_from

from ..common.errors import InvalidArgument, Reason
from .diff.domain import FileChange, VersionDiff
from .edges.domain import Link
from .model import RUN_TO_VERSION, Direction, Graph, Node, NodeKind, TraversalOptions
from .trace.domain import traversal_options

_T = TypeVar("_T")

_FORMATS: dict[int, str] = {
    lineage_service_pb2.GRAPH_FORMAT_JSON: "json",
    lineage_service_pb2.GRAPH_FORMAT_DOT: "dot",
    lineage_service_pb2.GRAPH_FORMAT_MERMAID: "mermaid",
}
_DIRECTIONS: dict[int, Direction] = {
    lineage_service_pb2.LINEAGE_DIRECTION_UPSTREAM: Direction.UPSTREAM,
    lineage_service_pb2.LINEAGE_DIRECTION_DOWNSTREAM: Direction.DOWNSTREAM,
    lineage_service_pb2.LINEAGE_DIRECTION_BOTH: Direction.BOTH,
}
_FILE_CHANGES = {
    "added": lineage_pb2.FILE_CHANGE_KIND_ADDED,
    "removed": lineage_pb2.FILE_CHANGE_KIND_REMOVED,
    "modified": lineage_pb2.FILE_CHANGE_KIND_MODIFIED,
}

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _timestamp(value: datetime) -> dict[str, int]:
    """Timestamp fields by arithmetic (Timestamp.FromDatetime is ~5x slower; 100,000s of edges)."""
    delta = value - _EPOCH
    return {"seconds": delta.days * 86400 + delta.seconds, "nanos": delta.microseconds * 1000}


def options(opts: lineage_service_pb2.TraversalOptions) -> TraversalOptions:
    """Request bounds, validated (0: the default; above the documented maximum: OUT_OF_RANGE)."""
    return traversal_options(opts.max_depth, opts.max_nodes, list(opts.artifact_types), list(opts.job_types))


def _enum_value(value: int, table: dict[int, _T], field: str) -> _T:
    if value == 0:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    if value not in table:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, f"unknown {field} {value}")
    return table[value]


def direction(value: int) -> Direction:
    return _enum_value(value, _DIRECTIONS, "direction")


def graph_format(value: int) -> str:
    return _enum_value(value, _FORMATS, "format")


def graph(g: Graph, also: Sequence[Node] = ()) -> lineage_pb2.Graph:
    """`also`: nodes that edges reach but the message does not list (the next page's)."""
    runs = {n.key[1]: n.name for n in (*g.nodes, *also) if n.kind is NodeKind.RUN}
    versions = {n.key[1]: n.name for n in (*g.nodes, *also) if n.kind is NodeKind.VERSION}
    out = lineage_pb2.Graph(root=g.root.name, truncated=g.truncated)
    # spelled out, not message_from: an impact answer builds 100,000s of nodes, and keyword arguments
    # are the fastest way to build them
    out.nodes.extend(
        lineage_pb2.Node(
            name=n.name,
            kind=n.kind,  # type: ignore[arg-type]  # reason: protoc's .pyi takes only its enum class; any int is valid
            job_type=n.job_type,
            artifact_type=n.artifact_type,
            label=n.label,
            depth=n.depth,
            state=n.state,
        )
        for n in g.nodes
    )
    out.edges.extend(
        lineage_pb2.Edge(
            source=runs[e.run_id] if e.kind in RUN_TO_VERSION else versions[e.version_id],
            target=versions[e.version_id] if e.kind in RUN_TO_VERSION else runs[e.run_id],
            kind=e.kind,  # type: ignore[arg-type]  # reason: protoc's .pyi takes only its enum class; any int is valid
            create_time=_timestamp(e.create_time),
        )
        for e in g.edges
    )
    return out


def link_edge(link: Link) -> lineage_pb2.Edge:
    produced = link.edge.kind in RUN_TO_VERSION
    source, target = (link.run, link.version) if produced else (link.version, link.run)
    return lineage_pb2.Edge(
        source=source,
        target=target,
        kind=int(link.edge.kind),  # type: ignore[arg-type]  # reason: protoc's .pyi takes only its enum class; any int is valid
        create_time=_timestamp(link.edge.create_time),
    )


def diff_response(d: VersionDiff) -> lineage_service_pb2.DiffArtifactVersionsResponse:
    """The diff as its message: same-named fields copied, the others named here."""
    return message_from(
        lineage_service_pb2.DiffArtifactVersionsResponse,
        d,
        manifest_changes=[_manifest_change(f) for f in d.files],
        manifest_changes_truncated=d.files_truncated,
        metadata_changes=[message_from(lineage_pb2.MetadataChange, m) for m in d.metadata],
        old_producer_run=d.old_producer,
        new_producer_run=d.new_producer,
        config_changes=[message_from(lineage_pb2.ConfigChange, c) for c in d.config],
        input_changes=[message_from(lineage_pb2.InputChange, c) for c in d.inputs],
    )


def _manifest_change(f: FileChange) -> lineage_pb2.ManifestChange:
    return message_from(lineage_pb2.ManifestChange, f, change=_FILE_CHANGES[f.change])
