from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class MetricSeries(_message.Message):
    __slots__ = ("run", "key", "steps", "values", "times", "total_points", "x_values")
    RUN_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TIMES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_POINTS_FIELD_NUMBER: _ClassVar[int]
    X_VALUES_FIELD_NUMBER: _ClassVar[int]
    run: str
    key: str
    steps: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    times: _containers.RepeatedScalarFieldContainer[float]
    total_points: int
    x_values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, run: _Optional[str] = ..., key: _Optional[str] = ..., steps: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., times: _Optional[_Iterable[float]] = ..., total_points: _Optional[int] = ..., x_values: _Optional[_Iterable[float]] = ...) -> None: ...

class RunGroup(_message.Message):
    __slots__ = ("value_json", "run_count", "metric_count", "mean", "min", "max")
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    METRIC_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    value_json: str
    run_count: int
    metric_count: int
    mean: float
    min: float
    max: float
    def __init__(self, value_json: _Optional[str] = ..., run_count: _Optional[int] = ..., metric_count: _Optional[int] = ..., mean: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ...) -> None: ...

class CurveBand(_message.Message):
    __slots__ = ("value_json", "run_count", "steps", "mean", "min", "max")
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    value_json: str
    run_count: int
    steps: _containers.RepeatedScalarFieldContainer[int]
    mean: _containers.RepeatedScalarFieldContainer[float]
    min: _containers.RepeatedScalarFieldContainer[float]
    max: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, value_json: _Optional[str] = ..., run_count: _Optional[int] = ..., steps: _Optional[_Iterable[int]] = ..., mean: _Optional[_Iterable[float]] = ..., min: _Optional[_Iterable[float]] = ..., max: _Optional[_Iterable[float]] = ...) -> None: ...

class MetricKeyInfo(_message.Message):
    __slots__ = ("key", "count", "min_step", "max_step")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_STEP_FIELD_NUMBER: _ClassVar[int]
    MAX_STEP_FIELD_NUMBER: _ClassVar[int]
    key: str
    count: int
    min_step: int
    max_step: int
    def __init__(self, key: _Optional[str] = ..., count: _Optional[int] = ..., min_step: _Optional[int] = ..., max_step: _Optional[int] = ...) -> None: ...
