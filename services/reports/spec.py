"""Validation of a report's typed spec: every block, runset and panel, with the offending field's path
in the error (`report.blocks[2].panel_grid.panels[0].line_plot.y`).

An unknown block or panel kind (none set, e.g. a kind from a newer client), an enum value outside the
schema, or a value a kind does not allow is INVALID_REPORT_SPEC; a filter that does not parse is the
query language's own INVALID_FILTER; a missing required value is FIELD_REQUIRED. Filters and keys are
checked with the query service's parsers, so a report holds only queries the query service accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strata.reports.v1 import report_pb2

from ..common import text
from ..common.errors import InvalidArgument, Reason
from ..common.names import parse_project
from ..query.search.attrs import attr_or_invalid, check_metric_key, parse_order
from ..query.search.domain import group_key, metric_key
from ..query.search.filters import parse_filter

T = TypeVar("T")

TITLE_MAX = 256
MARKDOWN_MAX = 65536
MAX_BLOCKS = 200
MAX_RUNSETS = 10
MAX_PANELS = 50
MAX_Y = 20
MAX_COLUMNS = 50
MAX_RUNSET_LIMIT = 10_000
MAX_DEPTH = 10
MAX_VERSIONS = 1000
LINE_X = ("", "_step", "_timestamp", "_runtime")
AGGREGATIONS = frozenset(report_pb2.Aggregation.values())
BANDS = frozenset(report_pb2.Band.values())


def _spec_error(field: str, message: str) -> InvalidArgument:
    return InvalidArgument(field, Reason.INVALID_REPORT_SPEC, message)


def _at(field: str, check: Callable[[], T]) -> T:
    """Run a query-language check, re-raising its error at `field` (same reason)."""
    try:
        return check()
    except InvalidArgument as e:
        raise InvalidArgument(field, e.reason, e.message) from None


def _required(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    return value


def _bounded(value: float, lo: float, hi: float, field: str) -> None:
    if not lo <= value <= hi:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, f"{field} must be {lo:g}..{hi:g}")


def check_report(report: report_pb2.Report, field: str = "report") -> None:
    """Raise INVALID_ARGUMENT at the first problem of a report's title, description and blocks."""
    text.check(_required(report.title, f"{field}.title"), f"{field}.title", TITLE_MAX)
    text.check(report.description, f"{field}.description", text.DESCRIPTION_MAX)
    if len(report.blocks) > MAX_BLOCKS:
        raise InvalidArgument(f"{field}.blocks", Reason.OUT_OF_RANGE, f"at most {MAX_BLOCKS} blocks")
    for i, block in enumerate(report.blocks):
        check_block(block, f"{field}.blocks[{i}]")


def check_block(block: report_pb2.Block, field: str) -> None:
    kind = block.WhichOneof("kind")
    if kind is None:
        raise _spec_error(field, "unknown block kind (set heading, markdown, panel_grid, ...)")
    path = f"{field}.{kind}"
    if kind == "heading":
        text.check(_required(block.heading.text, f"{path}.text"), f"{path}.text", TITLE_MAX)
        _bounded(block.heading.level, 0, 3, f"{path}.level")
    elif kind == "markdown":
        text.check(block.markdown.text, f"{path}.text", MARKDOWN_MAX)
    elif kind == "panel_grid":
        _check_grid(block.panel_grid, path)
    elif kind == "artifact_lineage":
        _required(block.artifact_lineage.artifact, f"{path}.artifact")
        _bounded(block.artifact_lineage.depth, 0, MAX_DEPTH, f"{path}.depth")
    else:
        _required(block.artifact_versions.artifact, f"{path}.artifact")
        _bounded(block.artifact_versions.limit, 0, MAX_VERSIONS, f"{path}.limit")


def _check_grid(grid: report_pb2.PanelGrid, field: str) -> None:
    if len(grid.runsets) > MAX_RUNSETS:
        raise InvalidArgument(f"{field}.runsets", Reason.OUT_OF_RANGE, f"at most {MAX_RUNSETS} runsets")
    for i, runset in enumerate(grid.runsets):
        check_runset(runset, f"{field}.runsets[{i}]")
    if not grid.panels:
        raise InvalidArgument(f"{field}.panels", Reason.FIELD_REQUIRED, "a panel grid needs a panel")
    if len(grid.panels) > MAX_PANELS:
        raise InvalidArgument(f"{field}.panels", Reason.OUT_OF_RANGE, f"at most {MAX_PANELS} panels")
    for i, panel in enumerate(grid.panels):
        check_panel(panel, f"{field}.panels[{i}]")


def check_runset(runset: report_pb2.Runset, field: str) -> None:
    text.check(runset.name, f"{field}.name", text.DISPLAY_NAME_MAX)
    if runset.project:
        parse_project(runset.project, f"{field}.project")
    parse_filter(runset.filters, f"{field}.filters")
    _at(f"{field}.order", lambda: parse_order(list(runset.order)))
    _bounded(runset.limit, 0, MAX_RUNSET_LIMIT, f"{field}.limit")


def check_panel(panel: report_pb2.Panel, field: str) -> None:
    kind = panel.WhichOneof("kind")
    if kind is None:
        raise _spec_error(field, "unknown panel kind (set line_plot, runs_table, ...)")
    path = f"{field}.{kind}"
    _PANEL_CHECKS[kind](getattr(panel, kind), path)
    title = getattr(getattr(panel, kind), "title")  # noqa: B009 (every kind has a title)
    text.check(title, f"{path}.title", TITLE_MAX)


def _attr(value: str, field: str) -> None:
    attr_or_invalid(_required(value, field), field, Reason.INVALID_REPORT_SPEC)


def _line_plot(p: report_pb2.LinePlot, field: str) -> None:
    if not p.y:
        raise InvalidArgument(f"{field}.y", Reason.FIELD_REQUIRED, "a line plot needs at least one y key")
    if len(p.y) > MAX_Y:
        raise InvalidArgument(f"{field}.y", Reason.OUT_OF_RANGE, f"at most {MAX_Y} y keys")
    for key in p.y:
        check_metric_key(key, f"{field}.y")
    _line_x(p.x, f"{field}.x")
    if p.groupby:
        _at(f"{field}.groupby", lambda: group_key(p.groupby))
    _enums(p.aggregation, p.band, field)
    _bounded(p.smoothing, 0.0, 0.99, f"{field}.smoothing")
    _bounded(p.max_runs, 0, MAX_RUNSET_LIMIT, f"{field}.max_runs")


def _line_x(x: str, field: str) -> None:
    """A LinePlot's x: one of LINE_X, or a metric key; a name starting with "_" is reserved for the
    built-in axes, so any other ("_wall", "_epoch") is an unknown kind of x."""
    if x in LINE_X:
        return
    if x.startswith("_"):
        raise _spec_error(field, f"unknown x {x[:80]!r}: one of {', '.join(LINE_X[1:])} or a metric key")
    check_metric_key(x, field)


def _enums(aggregation: int, band: int, field: str) -> None:
    if aggregation not in AGGREGATIONS:
        raise _spec_error(f"{field}.aggregation", f"unknown aggregation {aggregation}")
    if band not in BANDS:
        raise _spec_error(f"{field}.band", f"unknown band {band}")


def _scalar(p: report_pb2.ScalarChart, field: str) -> None:
    _at(f"{field}.metric", lambda: metric_key(p.metric))
    _enums(p.aggregation, 0, field)


def _bar(p: report_pb2.BarPlot, field: str) -> None:
    _at(f"{field}.metric", lambda: metric_key(p.metric))
    if p.groupby:
        _at(f"{field}.groupby", lambda: group_key(p.groupby))
    _enums(p.aggregation, 0, field)


def _scatter(p: report_pb2.ScatterPlot, field: str) -> None:
    _attr(p.x, f"{field}.x")
    _attr(p.y, f"{field}.y")


def _parallel(p: report_pb2.ParallelCoordinates, field: str) -> None:
    if not 2 <= len(p.columns) <= 20:
        raise InvalidArgument(f"{field}.columns", Reason.OUT_OF_RANGE, "2 to 20 columns")
    for column in p.columns:
        _attr(column, f"{field}.columns")


def _table(p: report_pb2.RunsTable, field: str) -> None:
    if len(p.columns) > MAX_COLUMNS:
        raise InvalidArgument(f"{field}.columns", Reason.OUT_OF_RANGE, f"at most {MAX_COLUMNS} columns")
    for column in p.columns:
        if column != "name":
            _attr(column, f"{field}.columns")


def _media(p: report_pb2.MediaPanel, field: str) -> None:
    check_metric_key(_required(p.key, f"{field}.key"), f"{field}.key")


_PANEL_CHECKS: dict[str, Callable[..., None]] = {
    "line_plot": _line_plot,
    "scalar_chart": _scalar,
    "bar_plot": _bar,
    "scatter_plot": _scatter,
    "parallel_coordinates": _parallel,
    "runs_table": _table,
    "media_panel": _media,
}
