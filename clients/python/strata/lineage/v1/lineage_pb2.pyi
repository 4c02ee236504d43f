from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NODE_KIND_UNSPECIFIED: _ClassVar[NodeKind]
    NODE_KIND_RUN: _ClassVar[NodeKind]
    NODE_KIND_ARTIFACT_VERSION: _ClassVar[NodeKind]

class EdgeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EDGE_KIND_UNSPECIFIED: _ClassVar[EdgeKind]
    EDGE_KIND_PRODUCED: _ClassVar[EdgeKind]
    EDGE_KIND_USED: _ClassVar[EdgeKind]
    EDGE_KIND_LINKED: _ClassVar[EdgeKind]

class FileChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_CHANGE_KIND_UNSPECIFIED: _ClassVar[FileChangeKind]
    FILE_CHANGE_KIND_ADDED: _ClassVar[FileChangeKind]
    FILE_CHANGE_KIND_REMOVED: _ClassVar[FileChangeKind]
    FILE_CHANGE_KIND_MODIFIED: _ClassVar[FileChangeKind]
NODE_KIND_UNSPECIFIED: NodeKind
NODE_KIND_RUN: NodeKind
NODE_KIND_ARTIFACT_VERSION: NodeKind
EDGE_KIND_UNSPECIFIED: EdgeKind
EDGE_KIND_PRODUCED: EdgeKind
EDGE_KIND_USED: EdgeKind
EDGE_KIND_LINKED: EdgeKind
FILE_CHANGE_KIND_UNSPECIFIED: FileChangeKind
FILE_CHANGE_KIND_ADDED: FileChangeKind
FILE_CHANGE_KIND_REMOVED: FileChangeKind
FILE_CHANGE_KIND_MODIFIED: FileChangeKind

class Node(_message.Message):
    __slots__ = ("name", "kind", "job_type", "artifact_type", "label", "depth", "state")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_TYPE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: NodeKind
    job_type: str
    artifact_type: str
    label: str
    depth: int
    state: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[NodeKind, str]] = ..., job_type: _Optional[str] = ..., artifact_type: _Optional[str] = ..., label: _Optional[str] = ..., depth: _Optional[int] = ..., state: _Optional[str] = ...) -> None: ...

class Edge(_message.Message):
    __slots__ = ("source", "target", "kind", "create_time")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    source: str
    target: str
    kind: EdgeKind
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, source: _Optional[str] = ..., target: _Optional[str] = ..., kind: _Optional[_Union[EdgeKind, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Graph(_message.Message):
    __slots__ = ("root", "nodes", "edges", "truncated")
    ROOT_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    root: str
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    edges: _containers.RepeatedCompositeFieldContainer[Edge]
    truncated: bool
    def __init__(self, root: _Optional[str] = ..., nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[Edge, _Mapping]]] = ..., truncated: bool = ...) -> None: ...

class ManifestChange(_message.Message):
    __slots__ = ("path", "old_sha256", "new_sha256", "old_size", "new_size", "change", "old_reference_uri", "new_reference_uri")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OLD_SHA256_FIELD_NUMBER: _ClassVar[int]
    NEW_SHA256_FIELD_NUMBER: _ClassVar[int]
    OLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEW_SIZE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    OLD_REFERENCE_URI_FIELD_NUMBER: _ClassVar[int]
    NEW_REFERENCE_URI_FIELD_NUMBER: _ClassVar[int]
    path: str
    old_sha256: str
    new_sha256: str
    old_size: int
    new_size: int
    change: FileChangeKind
    old_reference_uri: str
    new_reference_uri: str
    def __init__(self, path: _Optional[str] = ..., old_sha256: _Optional[str] = ..., new_sha256: _Optional[str] = ..., old_size: _Optional[int] = ..., new_size: _Optional[int] = ..., change: _Optional[_Union[FileChangeKind, str]] = ..., old_reference_uri: _Optional[str] = ..., new_reference_uri: _Optional[str] = ...) -> None: ...

class MetadataChange(_message.Message):
    __slots__ = ("key", "old_value_json", "new_value_json")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OLD_VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    NEW_VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    old_value_json: str
    new_value_json: str
    def __init__(self, key: _Optional[str] = ..., old_value_json: _Optional[str] = ..., new_value_json: _Optional[str] = ...) -> None: ...

class ConfigChange(_message.Message):
    __slots__ = ("key", "old_value_json", "new_value_json")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OLD_VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    NEW_VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    old_value_json: str
    new_value_json: str
    def __init__(self, key: _Optional[str] = ..., old_value_json: _Optional[str] = ..., new_value_json: _Optional[str] = ...) -> None: ...

class InputChange(_message.Message):
    __slots__ = ("artifact", "old_version", "new_version", "depth", "origin")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    OLD_VERSION_FIELD_NUMBER: _ClassVar[int]
    NEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    old_version: str
    new_version: str
    depth: int
    origin: bool
    def __init__(self, artifact: _Optional[str] = ..., old_version: _Optional[str] = ..., new_version: _Optional[str] = ..., depth: _Optional[int] = ..., origin: bool = ...) -> None: ...
