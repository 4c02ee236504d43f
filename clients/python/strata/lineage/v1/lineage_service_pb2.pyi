from strata.lineage.v1 import lineage_pb2 as _lineage_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GraphFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRAPH_FORMAT_UNSPECIFIED: _ClassVar[GraphFormat]
    GRAPH_FORMAT_JSON: _ClassVar[GraphFormat]
    GRAPH_FORMAT_DOT: _ClassVar[GraphFormat]
    GRAPH_FORMAT_MERMAID: _ClassVar[GraphFormat]

class LineageDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINEAGE_DIRECTION_UNSPECIFIED: _ClassVar[LineageDirection]
    LINEAGE_DIRECTION_UPSTREAM: _ClassVar[LineageDirection]
    LINEAGE_DIRECTION_DOWNSTREAM: _ClassVar[LineageDirection]
    LINEAGE_DIRECTION_BOTH: _ClassVar[LineageDirection]
GRAPH_FORMAT_UNSPECIFIED: GraphFormat
GRAPH_FORMAT_JSON: GraphFormat
GRAPH_FORMAT_DOT: GraphFormat
GRAPH_FORMAT_MERMAID: GraphFormat
LINEAGE_DIRECTION_UNSPECIFIED: LineageDirection
LINEAGE_DIRECTION_UPSTREAM: LineageDirection
LINEAGE_DIRECTION_DOWNSTREAM: LineageDirection
LINEAGE_DIRECTION_BOTH: LineageDirection

class TraversalOptions(_message.Message):
    __slots__ = ("max_depth", "max_nodes", "artifact_types", "job_types")
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    MAX_NODES_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_TYPES_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPES_FIELD_NUMBER: _ClassVar[int]
    max_depth: int
    max_nodes: int
    artifact_types: _containers.RepeatedScalarFieldContainer[str]
    job_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, max_depth: _Optional[int] = ..., max_nodes: _Optional[int] = ..., artifact_types: _Optional[_Iterable[str]] = ..., job_types: _Optional[_Iterable[str]] = ...) -> None: ...

class TraceUpstreamRequest(_message.Message):
    __slots__ = ("node", "options")
    NODE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    node: str
    options: TraversalOptions
    def __init__(self, node: _Optional[str] = ..., options: _Optional[_Union[TraversalOptions, _Mapping]] = ...) -> None: ...

class TraceUpstreamResponse(_message.Message):
    __slots__ = ("graph",)
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    graph: _lineage_pb2.Graph
    def __init__(self, graph: _Optional[_Union[_lineage_pb2.Graph, _Mapping]] = ...) -> None: ...

class TraceDownstreamRequest(_message.Message):
    __slots__ = ("node", "options")
    NODE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    node: str
    options: TraversalOptions
    def __init__(self, node: _Optional[str] = ..., options: _Optional[_Union[TraversalOptions, _Mapping]] = ...) -> None: ...

class TraceDownstreamResponse(_message.Message):
    __slots__ = ("graph",)
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    graph: _lineage_pb2.Graph
    def __init__(self, graph: _Optional[_Union[_lineage_pb2.Graph, _Mapping]] = ...) -> None: ...

class AnalyzeImpactRequest(_message.Message):
    __slots__ = ("node", "max_nodes", "page_size", "page_token")
    NODE_FIELD_NUMBER: _ClassVar[int]
    MAX_NODES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    node: str
    max_nodes: int
    page_size: int
    page_token: str
    def __init__(self, node: _Optional[str] = ..., max_nodes: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class AnalyzeImpactResponse(_message.Message):
    __slots__ = ("graph", "affected_versions", "affected_runs", "next_page_token")
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    AFFECTED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    AFFECTED_RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    graph: _lineage_pb2.Graph
    affected_versions: _containers.RepeatedScalarFieldContainer[str]
    affected_runs: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    def __init__(self, graph: _Optional[_Union[_lineage_pb2.Graph, _Mapping]] = ..., affected_versions: _Optional[_Iterable[str]] = ..., affected_runs: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DiffArtifactVersionsRequest(_message.Message):
    __slots__ = ("old_version", "new_version", "max_depth", "max_manifest_changes")
    OLD_VERSION_FIELD_NUMBER: _ClassVar[int]
    NEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    MAX_MANIFEST_CHANGES_FIELD_NUMBER: _ClassVar[int]
    old_version: str
    new_version: str
    max_depth: int
    max_manifest_changes: int
    def __init__(self, old_version: _Optional[str] = ..., new_version: _Optional[str] = ..., max_depth: _Optional[int] = ..., max_manifest_changes: _Optional[int] = ...) -> None: ...

class DiffArtifactVersionsResponse(_message.Message):
    __slots__ = ("manifest_changes", "metadata_changes", "input_changes", "old_version", "new_version", "files_added", "files_removed", "files_changed", "manifest_changes_truncated", "old_producer_run", "new_producer_run", "config_changes")
    MANIFEST_CHANGES_FIELD_NUMBER: _ClassVar[int]
    METADATA_CHANGES_FIELD_NUMBER: _ClassVar[int]
    INPUT_CHANGES_FIELD_NUMBER: _ClassVar[int]
    OLD_VERSION_FIELD_NUMBER: _ClassVar[int]
    NEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    FILES_ADDED_FIELD_NUMBER: _ClassVar[int]
    FILES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    FILES_CHANGED_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_CHANGES_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    OLD_PRODUCER_RUN_FIELD_NUMBER: _ClassVar[int]
    NEW_PRODUCER_RUN_FIELD_NUMBER: _ClassVar[int]
    CONFIG_CHANGES_FIELD_NUMBER: _ClassVar[int]
    manifest_changes: _containers.RepeatedCompositeFieldContainer[_lineage_pb2.ManifestChange]
    metadata_changes: _containers.RepeatedCompositeFieldContainer[_lineage_pb2.MetadataChange]
    input_changes: _containers.RepeatedCompositeFieldContainer[_lineage_pb2.InputChange]
    old_version: str
    new_version: str
    files_added: int
    files_removed: int
    files_changed: int
    manifest_changes_truncated: bool
    old_producer_run: str
    new_producer_run: str
    config_changes: _containers.RepeatedCompositeFieldContainer[_lineage_pb2.ConfigChange]
    def __init__(self, manifest_changes: _Optional[_Iterable[_Union[_lineage_pb2.ManifestChange, _Mapping]]] = ..., metadata_changes: _Optional[_Iterable[_Union[_lineage_pb2.MetadataChange, _Mapping]]] = ..., input_changes: _Optional[_Iterable[_Union[_lineage_pb2.InputChange, _Mapping]]] = ..., old_version: _Optional[str] = ..., new_version: _Optional[str] = ..., files_added: _Optional[int] = ..., files_removed: _Optional[int] = ..., files_changed: _Optional[int] = ..., manifest_changes_truncated: bool = ..., old_producer_run: _Optional[str] = ..., new_producer_run: _Optional[str] = ..., config_changes: _Optional[_Iterable[_Union[_lineage_pb2.ConfigChange, _Mapping]]] = ...) -> None: ...

class ExportLineageGraphRequest(_message.Message):
    __slots__ = ("node", "direction", "format", "options")
    NODE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    node: str
    direction: LineageDirection
    format: GraphFormat
    options: TraversalOptions
    def __init__(self, node: _Optional[str] = ..., direction: _Optional[_Union[LineageDirection, str]] = ..., format: _Optional[_Union[GraphFormat, str]] = ..., options: _Optional[_Union[TraversalOptions, _Mapping]] = ...) -> None: ...

class ExportLineageGraphResponse(_message.Message):
    __slots__ = ("text", "truncated")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    text: str
    truncated: bool
    def __init__(self, text: _Optional[str] = ..., truncated: bool = ...) -> None: ...

class CreateLineageEdgeRequest(_message.Message):
    __slots__ = ("run", "version", "kind")
    RUN_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    run: str
    version: str
    kind: _lineage_pb2.EdgeKind
    def __init__(self, run: _Optional[str] = ..., version: _Optional[str] = ..., kind: _Optional[_Union[_lineage_pb2.EdgeKind, str]] = ...) -> None: ...

class CreateLineageEdgeResponse(_message.Message):
    __slots__ = ("edge", "existed")
    EDGE_FIELD_NUMBER: _ClassVar[int]
    EXISTED_FIELD_NUMBER: _ClassVar[int]
    edge: _lineage_pb2.Edge
    existed: bool
    def __init__(self, edge: _Optional[_Union[_lineage_pb2.Edge, _Mapping]] = ..., existed: bool = ...) -> None: ...
