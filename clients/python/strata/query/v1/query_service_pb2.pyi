from strata.ingest.v1 import run_pb2 as _run_pb2
from strata.query.v1 import query_pb2 as _query_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SearchRunsRequest(_message.Message):
    __slots__ = ("parent", "filter_json", "order_by", "page_size", "page_token", "fields")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    filter_json: str
    order_by: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., filter_json: _Optional[str] = ..., order_by: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_run_pb2.Run]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[_run_pb2.Run, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CountRunsRequest(_message.Message):
    __slots__ = ("parent", "filter_json", "allow_estimate")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    ALLOW_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    filter_json: str
    allow_estimate: bool
    def __init__(self, parent: _Optional[str] = ..., filter_json: _Optional[str] = ..., allow_estimate: bool = ...) -> None: ...

class CountRunsResponse(_message.Message):
    __slots__ = ("count", "estimated")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    count: int
    estimated: bool
    def __init__(self, count: _Optional[int] = ..., estimated: bool = ...) -> None: ...

class GroupRunsRequest(_message.Message):
    __slots__ = ("parent", "filter_json", "group_by", "metric")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    parent: str
    filter_json: str
    group_by: str
    metric: str
    def __init__(self, parent: _Optional[str] = ..., filter_json: _Optional[str] = ..., group_by: _Optional[str] = ..., metric: _Optional[str] = ...) -> None: ...

class GroupRunsResponse(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_query_pb2.RunGroup]
    def __init__(self, groups: _Optional[_Iterable[_Union[_query_pb2.RunGroup, _Mapping]]] = ...) -> None: ...

class ListMetricKeysRequest(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: str
    def __init__(self, run: _Optional[str] = ...) -> None: ...

class ListMetricKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[_query_pb2.MetricKeyInfo]
    def __init__(self, keys: _Optional[_Iterable[_Union[_query_pb2.MetricKeyInfo, _Mapping]]] = ...) -> None: ...

class GetHistoryRequest(_message.Message):
    __slots__ = ("run", "keys", "samples", "min_step", "max_step", "x_axis")
    RUN_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    MIN_STEP_FIELD_NUMBER: _ClassVar[int]
    MAX_STEP_FIELD_NUMBER: _ClassVar[int]
    X_AXIS_FIELD_NUMBER: _ClassVar[int]
    run: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    samples: int
    min_step: int
    max_step: int
    x_axis: str
    def __init__(self, run: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., samples: _Optional[int] = ..., min_step: _Optional[int] = ..., max_step: _Optional[int] = ..., x_axis: _Optional[str] = ...) -> None: ...

class GetHistoryResponse(_message.Message):
    __slots__ = ("series",)
    SERIES_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[_query_pb2.MetricSeries]
    def __init__(self, series: _Optional[_Iterable[_Union[_query_pb2.MetricSeries, _Mapping]]] = ...) -> None: ...

class ScanHistoryRequest(_message.Message):
    __slots__ = ("run", "keys", "page_size", "min_step", "max_step")
    RUN_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_STEP_FIELD_NUMBER: _ClassVar[int]
    MAX_STEP_FIELD_NUMBER: _ClassVar[int]
    run: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    min_step: int
    max_step: int
    def __init__(self, run: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., min_step: _Optional[int] = ..., max_step: _Optional[int] = ...) -> None: ...

class ScanHistoryResponse(_message.Message):
    __slots__ = ("series",)
    SERIES_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[_query_pb2.MetricSeries]
    def __init__(self, series: _Optional[_Iterable[_Union[_query_pb2.MetricSeries, _Mapping]]] = ...) -> None: ...

class BatchGetHistoryRequest(_message.Message):
    __slots__ = ("runs", "keys", "samples")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedScalarFieldContainer[str]
    keys: _containers.RepeatedScalarFieldContainer[str]
    samples: int
    def __init__(self, runs: _Optional[_Iterable[str]] = ..., keys: _Optional[_Iterable[str]] = ..., samples: _Optional[int] = ...) -> None: ...

class BatchGetHistoryResponse(_message.Message):
    __slots__ = ("series",)
    SERIES_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[_query_pb2.MetricSeries]
    def __init__(self, series: _Optional[_Iterable[_Union[_query_pb2.MetricSeries, _Mapping]]] = ...) -> None: ...

class AggregateHistoryRequest(_message.Message):
    __slots__ = ("parent", "filter_json", "group_by", "key", "buckets")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    FILTER_JSON_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    filter_json: str
    group_by: str
    key: str
    buckets: int
    def __init__(self, parent: _Optional[str] = ..., filter_json: _Optional[str] = ..., group_by: _Optional[str] = ..., key: _Optional[str] = ..., buckets: _Optional[int] = ...) -> None: ...

class AggregateHistoryResponse(_message.Message):
    __slots__ = ("bands",)
    BANDS_FIELD_NUMBER: _ClassVar[int]
    bands: _containers.RepeatedCompositeFieldContainer[_query_pb2.CurveBand]
    def __init__(self, bands: _Optional[_Iterable[_Union[_query_pb2.CurveBand, _Mapping]]] = ...) -> None: ...
