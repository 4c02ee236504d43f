from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class MetricBatch(_message.Message):
    __slots__ = ("sequence", "keys", "key_indices", "steps", "values", "times", "last_sequence")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    KEY_INDICES_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TIMES_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    keys: _containers.RepeatedScalarFieldContainer[str]
    key_indices: _containers.RepeatedScalarFieldContainer[int]
    steps: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    times: _containers.RepeatedScalarFieldContainer[float]
    last_sequence: int
    def __init__(self, sequence: _Optional[int] = ..., keys: _Optional[_Iterable[str]] = ..., key_indices: _Optional[_Iterable[int]] = ..., steps: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., times: _Optional[_Iterable[float]] = ..., last_sequence: _Optional[int] = ...) -> None: ...

class MetricAck(_message.Message):
    __slots__ = ("sequence", "committed_points")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_POINTS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    committed_points: int
    def __init__(self, sequence: _Optional[int] = ..., committed_points: _Optional[int] = ...) -> None: ...
