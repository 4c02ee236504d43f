from google.protobuf import timestamp_pb2 as _timestamp_pb2
from strata.common.v1 import actor_pb2 as _actor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Aggregation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGGREGATION_UNSPECIFIED: _ClassVar[Aggregation]
    AGGREGATION_MEAN: _ClassVar[Aggregation]
    AGGREGATION_MEDIAN: _ClassVar[Aggregation]
    AGGREGATION_MIN: _ClassVar[Aggregation]
    AGGREGATION_MAX: _ClassVar[Aggregation]

class Band(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BAND_UNSPECIFIED: _ClassVar[Band]
    BAND_MINMAX: _ClassVar[Band]
    BAND_STDDEV: _ClassVar[Band]
    BAND_NONE: _ClassVar[Band]
AGGREGATION_UNSPECIFIED: Aggregation
AGGREGATION_MEAN: Aggregation
AGGREGATION_MEDIAN: Aggregation
AGGREGATION_MIN: Aggregation
AGGREGATION_MAX: Aggregation
BAND_UNSPECIFIED: Band
BAND_MINMAX: Band
BAND_STDDEV: Band
BAND_NONE: Band

class Report(_message.Message):
    __slots__ = ("name", "title", "description", "blocks", "revision", "create_time", "update_time", "creator", "updater")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    UPDATER_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    description: str
    blocks: _containers.RepeatedCompositeFieldContainer[Block]
    revision: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    creator: _actor_pb2.Actor
    updater: _actor_pb2.Actor
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., blocks: _Optional[_Iterable[_Union[Block, _Mapping]]] = ..., revision: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., creator: _Optional[_Union[_actor_pb2.Actor, _Mapping]] = ..., updater: _Optional[_Union[_actor_pb2.Actor, _Mapping]] = ...) -> None: ...

class Block(_message.Message):
    __slots__ = ("heading", "markdown", "panel_grid", "artifact_lineage", "artifact_versions")
    HEADING_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    PANEL_GRID_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_LINEAGE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    heading: Heading
    markdown: MarkdownBlock
    panel_grid: PanelGrid
    artifact_lineage: ArtifactLineage
    artifact_versions: ArtifactVersions
    def __init__(self, heading: _Optional[_Union[Heading, _Mapping]] = ..., markdown: _Optional[_Union[MarkdownBlock, _Mapping]] = ..., panel_grid: _Optional[_Union[PanelGrid, _Mapping]] = ..., artifact_lineage: _Optional[_Union[ArtifactLineage, _Mapping]] = ..., artifact_versions: _Optional[_Union[ArtifactVersions, _Mapping]] = ...) -> None: ...

class Heading(_message.Message):
    __slots__ = ("text", "level")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    text: str
    level: int
    def __init__(self, text: _Optional[str] = ..., level: _Optional[int] = ...) -> None: ...

class MarkdownBlock(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class PanelGrid(_message.Message):
    __slots__ = ("runsets", "panels")
    RUNSETS_FIELD_NUMBER: _ClassVar[int]
    PANELS_FIELD_NUMBER: _ClassVar[int]
    runsets: _containers.RepeatedCompositeFieldContainer[Runset]
    panels: _containers.RepeatedCompositeFieldContainer[Panel]
    def __init__(self, runsets: _Optional[_Iterable[_Union[Runset, _Mapping]]] = ..., panels: _Optional[_Iterable[_Union[Panel, _Mapping]]] = ...) -> None: ...

class Runset(_message.Message):
    __slots__ = ("name", "project", "filters", "order", "limit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    project: str
    filters: str
    order: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    def __init__(self, name: _Optional[str] = ..., project: _Optional[str] = ..., filters: _Optional[str] = ..., order: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ...) -> None: ...

class Panel(_message.Message):
    __slots__ = ("line_plot", "scalar_chart", "bar_plot", "scatter_plot", "parallel_coordinates", "runs_table", "media_panel")
    LINE_PLOT_FIELD_NUMBER: _ClassVar[int]
    SCALAR_CHART_FIELD_NUMBER: _ClassVar[int]
    BAR_PLOT_FIELD_NUMBER: _ClassVar[int]
    SCATTER_PLOT_FIELD_NUMBER: _ClassVar[int]
    PARALLEL_COORDINATES_FIELD_NUMBER: _ClassVar[int]
    RUNS_TABLE_FIELD_NUMBER: _ClassVar[int]
    MEDIA_PANEL_FIELD_NUMBER: _ClassVar[int]
    line_plot: LinePlot
    scalar_chart: ScalarChart
    bar_plot: BarPlot
    scatter_plot: ScatterPlot
    parallel_coordinates: ParallelCoordinates
    runs_table: RunsTable
    media_panel: MediaPanel
    def __init__(self, line_plot: _Optional[_Union[LinePlot, _Mapping]] = ..., scalar_chart: _Optional[_Union[ScalarChart, _Mapping]] = ..., bar_plot: _Optional[_Union[BarPlot, _Mapping]] = ..., scatter_plot: _Optional[_Union[ScatterPlot, _Mapping]] = ..., parallel_coordinates: _Optional[_Union[ParallelCoordinates, _Mapping]] = ..., runs_table: _Optional[_Union[RunsTable, _Mapping]] = ..., media_panel: _Optional[_Union[MediaPanel, _Mapping]] = ...) -> None: ...

class LinePlot(_message.Message):
    __slots__ = ("x", "y", "title", "groupby", "aggregation", "band", "smoothing", "log_x", "log_y", "max_runs")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    GROUPBY_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    BAND_FIELD_NUMBER: _ClassVar[int]
    SMOOTHING_FIELD_NUMBER: _ClassVar[int]
    LOG_X_FIELD_NUMBER: _ClassVar[int]
    LOG_Y_FIELD_NUMBER: _ClassVar[int]
    MAX_RUNS_FIELD_NUMBER: _ClassVar[int]
    x: str
    y: _containers.RepeatedScalarFieldContainer[str]
    title: str
    groupby: str
    aggregation: Aggregation
    band: Band
    smoothing: float
    log_x: bool
    log_y: bool
    max_runs: int
    def __init__(self, x: _Optional[str] = ..., y: _Optional[_Iterable[str]] = ..., title: _Optional[str] = ..., groupby: _Optional[str] = ..., aggregation: _Optional[_Union[Aggregation, str]] = ..., band: _Optional[_Union[Band, str]] = ..., smoothing: _Optional[float] = ..., log_x: bool = ..., log_y: bool = ..., max_runs: _Optional[int] = ...) -> None: ...

class ScalarChart(_message.Message):
    __slots__ = ("metric", "aggregation", "title")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    metric: str
    aggregation: Aggregation
    title: str
    def __init__(self, metric: _Optional[str] = ..., aggregation: _Optional[_Union[Aggregation, str]] = ..., title: _Optional[str] = ...) -> None: ...

class BarPlot(_message.Message):
    __slots__ = ("metric", "groupby", "aggregation", "title")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    GROUPBY_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    metric: str
    groupby: str
    aggregation: Aggregation
    title: str
    def __init__(self, metric: _Optional[str] = ..., groupby: _Optional[str] = ..., aggregation: _Optional[_Union[Aggregation, str]] = ..., title: _Optional[str] = ...) -> None: ...

class ScatterPlot(_message.Message):
    __slots__ = ("x", "y", "title", "log_x", "log_y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    LOG_X_FIELD_NUMBER: _ClassVar[int]
    LOG_Y_FIELD_NUMBER: _ClassVar[int]
    x: str
    y: str
    title: str
    log_x: bool
    log_y: bool
    def __init__(self, x: _Optional[str] = ..., y: _Optional[str] = ..., title: _Optional[str] = ..., log_x: bool = ..., log_y: bool = ...) -> None: ...

class ParallelCoordinates(_message.Message):
    __slots__ = ("columns", "title")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    title: str
    def __init__(self, columns: _Optional[_Iterable[str]] = ..., title: _Optional[str] = ...) -> None: ...

class RunsTable(_message.Message):
    __slots__ = ("columns", "title")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    title: str
    def __init__(self, columns: _Optional[_Iterable[str]] = ..., title: _Optional[str] = ...) -> None: ...

class MediaPanel(_message.Message):
    __slots__ = ("key", "title")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    key: str
    title: str
    def __init__(self, key: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class ArtifactLineage(_message.Message):
    __slots__ = ("artifact", "depth")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    depth: int
    def __init__(self, artifact: _Optional[str] = ..., depth: _Optional[int] = ...) -> None: ...

class ArtifactVersions(_message.Message):
    __slots__ = ("artifact", "limit")
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    artifact: str
    limit: int
    def __init__(self, artifact: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ReportRevision(_message.Message):
    __slots__ = ("name", "revision", "report", "author", "create_time", "action", "reverted_from")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REVERTED_FROM_FIELD_NUMBER: _ClassVar[int]
    name: str
    revision: int
    report: Report
    author: _actor_pb2.Actor
    create_time: _timestamp_pb2.Timestamp
    action: str
    reverted_from: int
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[int] = ..., report: _Optional[_Union[Report, _Mapping]] = ..., author: _Optional[_Union[_actor_pb2.Actor, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., action: _Optional[str] = ..., reverted_from: _Optional[int] = ...) -> None: ...

class Series(_message.Message):
    __slots__ = ("key", "group", "run_count", "x", "y", "lower", "upper")
    KEY_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    key: str
    group: str
    run_count: int
    x: _containers.RepeatedScalarFieldContainer[float]
    y: _containers.RepeatedScalarFieldContainer[float]
    lower: _containers.RepeatedScalarFieldContainer[float]
    upper: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, key: _Optional[str] = ..., group: _Optional[str] = ..., run_count: _Optional[int] = ..., x: _Optional[_Iterable[float]] = ..., y: _Optional[_Iterable[float]] = ..., lower: _Optional[_Iterable[float]] = ..., upper: _Optional[_Iterable[float]] = ...) -> None: ...

class RunRow(_message.Message):
    __slots__ = ("run", "display_name", "values")
    RUN_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    run: str
    display_name: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run: _Optional[str] = ..., display_name: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class PanelData(_message.Message):
    __slots__ = ("series", "columns", "rows", "labels", "values", "run_count", "live")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[Series]
    columns: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[RunRow]
    labels: _containers.RepeatedScalarFieldContainer[str]
    values: _containers.RepeatedScalarFieldContainer[float]
    run_count: int
    live: bool
    def __init__(self, series: _Optional[_Iterable[_Union[Series, _Mapping]]] = ..., columns: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[RunRow, _Mapping]]] = ..., labels: _Optional[_Iterable[str]] = ..., values: _Optional[_Iterable[float]] = ..., run_count: _Optional[int] = ..., live: bool = ...) -> None: ...
