from strata.ingest.v1 import media_pb2 as _media_pb2
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

class MediaKeyInfo(_message.Message):
    __slots__ = ("key", "type", "count", "first_step", "last_step")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_STEP_FIELD_NUMBER: _ClassVar[int]
    LAST_STEP_FIELD_NUMBER: _ClassVar[int]
    key: str
    type: _media_pb2.MediaType
    count: int
    first_step: int
    last_step: int
    def __init__(self, key: _Optional[str] = ..., type: _Optional[_Union[_media_pb2.MediaType, str]] = ..., count: _Optional[int] = ..., first_step: _Optional[int] = ..., last_step: _Optional[int] = ...) -> None: ...

class ListMediaKeysRequest(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: str
    def __init__(self, run: _Optional[str] = ...) -> None: ...

class ListMediaKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[MediaKeyInfo]
    def __init__(self, keys: _Optional[_Iterable[_Union[MediaKeyInfo, _Mapping]]] = ...) -> None: ...

class ListMediaRequest(_message.Message):
    __slots__ = ("run", "key", "min_step", "max_step", "page_size", "page_token")
    RUN_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MIN_STEP_FIELD_NUMBER: _ClassVar[int]
    MAX_STEP_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    run: str
    key: str
    min_step: int
    max_step: int
    page_size: int
    page_token: str
    def __init__(self, run: _Optional[str] = ..., key: _Optional[str] = ..., min_step: _Optional[int] = ..., max_step: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMediaResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_media_pb2.MediaEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[_media_pb2.MediaEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetMediaTableRequest(_message.Message):
    __slots__ = ("run", "key", "step", "index")
    RUN_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    run: str
    key: str
    step: int
    index: int
    def __init__(self, run: _Optional[str] = ..., key: _Optional[str] = ..., step: _Optional[int] = ..., index: _Optional[int] = ...) -> None: ...

class TableColumn(_message.Message):
    __slots__ = ("name", "values_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    values_json: str
    def __init__(self, name: _Optional[str] = ..., values_json: _Optional[str] = ...) -> None: ...

class GetMediaTableResponse(_message.Message):
    __slots__ = ("entry", "columns", "rows")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    entry: _media_pb2.MediaEntry
    columns: _containers.RepeatedCompositeFieldContainer[TableColumn]
    rows: int
    def __init__(self, entry: _Optional[_Union[_media_pb2.MediaEntry, _Mapping]] = ..., columns: _Optional[_Iterable[_Union[TableColumn, _Mapping]]] = ..., rows: _Optional[int] = ...) -> None: ...

class ReadMediaRequest(_message.Message):
    __slots__ = ("run", "sha256", "offset", "length")
    RUN_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    run: str
    sha256: str
    offset: int
    length: int
    def __init__(self, run: _Optional[str] = ..., sha256: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class ReadMediaResponse(_message.Message):
    __slots__ = ("offset", "data")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    offset: int
    data: bytes
    def __init__(self, offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...
