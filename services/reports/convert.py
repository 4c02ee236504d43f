"""Protobuf messages <-> the reports domain's values.

A report's content is stored as a serialized strata.reports.v1.Report holding only title,
description and blocks; name, revision, times and actors come from the report's row.
"""

from __future__ import annotations

import json
import math
from typing import Any

from google.protobuf import field_mask_pb2
from strata.common.v1 import actor_pb2
from strata.reports.v1 import report_pb2, reports_service_pb2

from ..common.errors import InvalidArgument, Reason
from ..common.runs import ts
from . import spec
from .documents.domain import Content
from .documents.store import Actor, ReportRow, RevisionRow
from .panels.domain import PanelResult, PanelSpec, RunsetSpec

MASK_PATHS = ("title", "description", "blocks")
_AGGREGATIONS = {
    report_pb2.AGGREGATION_UNSPECIFIED: "mean",
    report_pb2.AGGREGATION_MEAN: "mean",
    report_pb2.AGGREGATION_MEDIAN: "median",
    report_pb2.AGGREGATION_MIN: "min",
    report_pb2.AGGREGATION_MAX: "max",
}
_BANDS = {
    report_pb2.BAND_UNSPECIFIED: "minmax",
    report_pb2.BAND_MINMAX: "minmax",
    report_pb2.BAND_STDDEV: "stddev",
    report_pb2.BAND_NONE: "none",
}


def _actor(actor: Actor) -> actor_pb2.Actor:
    return actor_pb2.Actor(name=actor.name, kind=actor.kind)  # type: ignore[arg-type]  # reason: any int is a valid open enum


def _content_message(data: bytes) -> report_pb2.Report:
    return report_pb2.Report.FromString(data)


def content(report: report_pb2.Report, field: str = "report") -> Content:
    """The validated content of a report message (INVALID_ARGUMENT with the field path otherwise)."""
    spec.check_report(report, field)
    stored = report_pb2.Report(title=report.title, description=report.description, blocks=report.blocks)
    return Content(report.title, stored.SerializeToString(deterministic=True))


def merged(current: ReportRow, edit: report_pb2.Report, mask: field_mask_pb2.FieldMask) -> report_pb2.Report:
    """The current content with the fields named by `mask` (all three when empty) taken from `edit`."""
    paths = list(mask.paths) or list(MASK_PATHS)
    for path in paths:
        if path not in MASK_PATHS:
            raise InvalidArgument(
                "update_mask", Reason.INVALID_UPDATE_MASK, f"update_mask may name {', '.join(MASK_PATHS)}"
            )
    out = _content_message(current.content)
    if "title" in paths:
        out.title = edit.title
    if "description" in paths:
        out.description = edit.description
    if "blocks" in paths:
        del out.blocks[:]
        out.blocks.extend(edit.blocks)
    return out


def report_pb(row: ReportRow, *, blocks: bool = True) -> report_pb2.Report:
    out = _content_message(row.content) if blocks else report_pb2.Report(title=row.title)
    out.name, out.revision = row.name, row.revision
    out.create_time.FromDatetime(row.create_time)
    out.update_time.FromDatetime(row.update_time)
    out.creator.CopyFrom(_actor(row.creator))
    out.updater.CopyFrom(_actor(row.updater))
    return out


def revision_pb(row: ReportRow, rev: RevisionRow) -> report_pb2.ReportRevision:
    report = _content_message(rev.content)
    report.name, report.revision = row.name, rev.revision
    return report_pb2.ReportRevision(
        name=f"{row.name}/revisions/{rev.revision}", revision=rev.revision, report=report,
        author=_actor(rev.author), create_time=ts(rev.create_time), action=rev.action,
        reverted_from=rev.reverted_from,
    )  # fmt: skip


def panel_of(row: ReportRow, block: int, panel: int) -> tuple[list[RunsetSpec], PanelSpec]:
    """The runsets and panel at (block, panel) of a saved report (OUT_OF_RANGE when there is none)."""
    blocks = _content_message(row.content).blocks
    if not 0 <= block < len(blocks) or blocks[block].WhichOneof("kind") != "panel_grid":
        raise InvalidArgument("block", Reason.OUT_OF_RANGE, f"block {block} is not a panel grid")
    grid = blocks[block].panel_grid
    if not 0 <= panel < len(grid.panels):
        raise InvalidArgument("panel", Reason.OUT_OF_RANGE, f"block {block} has no panel {panel}")
    runsets = [RunsetSpec(r.project, r.filters, tuple(r.order), r.limit) for r in grid.runsets]
    return runsets, panel_spec(grid.panels[panel])


def panel_spec(panel: report_pb2.Panel) -> PanelSpec:
    kind = panel.WhichOneof("kind") or ""
    if kind == "line_plot":
        p = panel.line_plot
        return PanelSpec(
            kind, y=tuple(p.y), x=p.x or "_step", groupby=p.groupby, aggregation=_AGGREGATIONS[p.aggregation],
            band=_BANDS[p.band], smoothing=p.smoothing, max_runs=p.max_runs,
        )  # fmt: skip
    if kind == "bar_plot":
        b = panel.bar_plot
        return PanelSpec(kind, metric=b.metric, groupby=b.groupby, aggregation=_AGGREGATIONS[b.aggregation])
    if kind == "scalar_chart":
        s = panel.scalar_chart
        return PanelSpec(kind, metric=s.metric, aggregation=_AGGREGATIONS[s.aggregation])
    if kind == "scatter_plot":
        return PanelSpec(kind, columns=("name", panel.scatter_plot.x, panel.scatter_plot.y))
    if kind == "parallel_coordinates":
        return PanelSpec(kind, columns=tuple(panel.parallel_coordinates.columns))
    if kind == "runs_table":
        return PanelSpec(kind, columns=tuple(panel.runs_table.columns))
    if kind == "media_panel":
        return PanelSpec(kind, key=panel.media_panel.key)
    return PanelSpec(kind)


def _json(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    return json.dumps(value, default=str)


def panel_data_pb(result: PanelResult) -> reports_service_pb2.GetPanelDataResponse:
    data = report_pb2.PanelData(
        columns=result.columns, labels=result.labels, values=result.values,
        run_count=result.run_count, live=result.live,
    )  # fmt: skip
    for line in result.lines:
        data.series.add(
            key=line.key, group=line.group, run_count=line.run_count, x=line.x.tolist(), y=line.y.tolist(),
            lower=line.lower.tolist(), upper=line.upper.tolist(),
        )  # fmt: skip
    for row in result.rows:
        data.rows.add(run=row.run, display_name=row.display_name, values=[_json(v) for v in row.values])
    return reports_service_pb2.GetPanelDataResponse(data=data)
