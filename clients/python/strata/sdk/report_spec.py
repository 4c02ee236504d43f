"""The typed building blocks of a report (`strata.report.*`): blocks, runsets and panels, each a small
dataclass that turns into its strata.reports.v1 message and back.

    import strata
    strata.report.PanelGrid(
        runsets=[strata.report.Runset(filters={"state": "finished"}, order="-summary.val/acc", limit=5)],
        panels=[strata.report.LinePlot(x="_step", y=["train/loss"], groupby="config.learning_rate"),
                strata.report.RunsTable(columns=["name", "config.architecture", "summary.val/acc"])])

The server validates every spec (INVALID_ARGUMENT naming the field, e.g.
`report.blocks[0].panel_grid.panels[0].line_plot.y`); here only names are mapped to enum values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strata.reports.v1 import report_pb2 as rp

AGGREGATIONS = {"mean": rp.AGGREGATION_MEAN, "median": rp.AGGREGATION_MEDIAN, "min": rp.AGGREGATION_MIN,
                "max": rp.AGGREGATION_MAX}  # fmt: skip
BANDS = {"minmax": rp.BAND_MINMAX, "min-max": rp.BAND_MINMAX, "stddev": rp.BAND_STDDEV, "none": rp.BAND_NONE}


def _enum(table: Mapping[str, int], value: str | int, what: str) -> Any:
    if isinstance(value, int):
        return value  # a raw enum number (the server refuses unknown ones)
    try:
        return table[value.lower()]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r} (one of {', '.join(table)})") from None


def _name(table: Mapping[str, int], number: int, default: str) -> str:
    return next((k for k, v in table.items() if v == number), default)


def _list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


@dataclass
class Runset:
    """Which runs a panel grid draws: a project (default: the report's), a Mongo-style filter (dict or
    JSON text; relative times such as {"created_at": {"$gte": "-7d"}} stay current), order keys and a
    limit (0: 1000)."""

    filters: Mapping[str, Any] | str | None = None
    order: str | Sequence[str] | None = None
    limit: int = 0
    name: str = ""
    project: str = ""

    def to_pb(self) -> rp.Runset:
        text = self.filters if isinstance(self.filters, str) else json.dumps(self.filters or {})
        return rp.Runset(
            name=self.name, project=self.project, filters="" if text == "{}" else text,
            order=_list(self.order), limit=self.limit,
        )  # fmt: skip

    @classmethod
    def from_pb(cls, m: rp.Runset) -> Runset:
        filters = json.loads(m.filters) if m.filters else None
        return cls(filters, list(m.order), m.limit, m.name, m.project)


@dataclass
class LinePlot:
    """Metric curves; with `groupby` one line per group value, folded by `aggregation` (mean, median,
    min, max) with a `band` (minmax, stddev, none)."""

    x: str = "_step"
    y: str | Sequence[str] = ()
    title: str = ""
    groupby: str = ""
    aggregation: str | int = "mean"
    band: str | int = "minmax"
    smoothing: float = 0.0
    log_x: bool = False
    log_y: bool = False
    max_runs: int = 0

    def to_pb(self) -> rp.Panel:
        return rp.Panel(
            line_plot=rp.LinePlot(
                x=self.x, y=_list(self.y), title=self.title, groupby=self.groupby,
                aggregation=_enum(AGGREGATIONS, self.aggregation, "aggregation"),
                band=_enum(BANDS, self.band, "band"), smoothing=self.smoothing, log_x=self.log_x,
                log_y=self.log_y, max_runs=self.max_runs,
            )
        )  # fmt: skip

    @classmethod
    def from_pb(cls, m: rp.LinePlot) -> LinePlot:
        return cls(
            m.x or "_step", list(m.y), m.title, m.groupby, _name(AGGREGATIONS, m.aggregation, "mean"),
            _name(BANDS, m.band, "minmax"), m.smoothing, m.log_x, m.log_y, m.max_runs,
        )  # fmt: skip


@dataclass
class ScalarChart:
    """One number: a summary metric ("summary.val/acc") folded over the runs."""

    metric: str
    aggregation: str | int = "mean"
    title: str = ""

    def to_pb(self) -> rp.Panel:
        agg = _enum(AGGREGATIONS, self.aggregation, "aggregation")
        return rp.Panel(scalar_chart=rp.ScalarChart(metric=self.metric, aggregation=agg, title=self.title))

    @classmethod
    def from_pb(cls, m: rp.ScalarChart) -> ScalarChart:
        return cls(m.metric, _name(AGGREGATIONS, m.aggregation, "mean"), m.title)


@dataclass
class BarPlot:
    """A summary metric per group (or per run without `groupby`)."""

    metric: str
    groupby: str = ""
    aggregation: str | int = "mean"
    title: str = ""

    def to_pb(self) -> rp.Panel:
        agg = _enum(AGGREGATIONS, self.aggregation, "aggregation")
        bar = rp.BarPlot(metric=self.metric, groupby=self.groupby, aggregation=agg, title=self.title)
        return rp.Panel(bar_plot=bar)

    @classmethod
    def from_pb(cls, m: rp.BarPlot) -> BarPlot:
        return cls(m.metric, m.groupby, _name(AGGREGATIONS, m.aggregation, "mean"), m.title)


@dataclass
class ScatterPlot:
    """One point per run: `x` against `y` (run attributes, e.g. "config.lr" and "summary.val/f1")."""

    x: str
    y: str
    title: str = ""
    log_x: bool = False
    log_y: bool = False

    def to_pb(self) -> rp.Panel:
        p = rp.ScatterPlot(x=self.x, y=self.y, title=self.title, log_x=self.log_x, log_y=self.log_y)
        return rp.Panel(scatter_plot=p)

    @classmethod
    def from_pb(cls, m: rp.ScatterPlot) -> ScatterPlot:
        return cls(m.x, m.y, m.title, m.log_x, m.log_y)


@dataclass
class ParallelCoordinates:
    """One line per run across 2 to 20 run attributes."""

    columns: Sequence[str]
    title: str = ""

    def to_pb(self) -> rp.Panel:
        p = rp.ParallelCoordinates(columns=list(self.columns), title=self.title)
        return rp.Panel(parallel_coordinates=p)

    @classmethod
    def from_pb(cls, m: rp.ParallelCoordinates) -> ParallelCoordinates:
        return cls(list(m.columns), m.title)


@dataclass
class RunsTable:
    """The runset's runs in its order; columns are run attributes or "name" (default: name, state,
    created_at)."""

    columns: Sequence[str] = ()
    title: str = ""

    def to_pb(self) -> rp.Panel:
        return rp.Panel(runs_table=rp.RunsTable(columns=list(self.columns), title=self.title))

    @classmethod
    def from_pb(cls, m: rp.RunsTable) -> RunsTable:
        return cls(list(m.columns), m.title)


@dataclass
class MediaPanel:
    """A rich value (image, table) logged under `key`, per run."""

    key: str
    title: str = ""

    def to_pb(self) -> rp.Panel:
        return rp.Panel(media_panel=rp.MediaPanel(key=self.key, title=self.title))

    @classmethod
    def from_pb(cls, m: rp.MediaPanel) -> MediaPanel:
        return cls(m.key, m.title)


Panel = LinePlot | ScalarChart | BarPlot | ScatterPlot | ParallelCoordinates | RunsTable | MediaPanel
_PANELS: dict[str, Any] = {
    "line_plot": LinePlot, "scalar_chart": ScalarChart, "bar_plot": BarPlot, "scatter_plot": ScatterPlot,
    "parallel_coordinates": ParallelCoordinates, "runs_table": RunsTable, "media_panel": MediaPanel,
}  # fmt: skip


@dataclass
class PanelGrid:
    """Panels drawn from runsets (none: the report's project, all runs)."""

    runsets: list[Runset] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)

    def to_pb(self) -> rp.Block:
        grid = rp.PanelGrid(
            runsets=[r.to_pb() for r in self.runsets], panels=[p.to_pb() for p in self.panels]
        )
        return rp.Block(panel_grid=grid)

    @classmethod
    def from_pb(cls, m: rp.PanelGrid) -> PanelGrid:
        panels = []
        for p in m.panels:
            kind = p.WhichOneof("kind")
            if kind is not None:
                panels.append(_PANELS[kind].from_pb(getattr(p, kind)))
        return cls([Runset.from_pb(r) for r in m.runsets], panels)


@dataclass
class Heading:
    """A section title (level 1 to 3)."""

    text: str
    level: int = 1

    def to_pb(self) -> rp.Block:
        return rp.Block(heading=rp.Heading(text=self.text, level=self.level))


def H1(text: str) -> Heading:  # W&B's names
    return Heading(text, 1)


def H2(text: str) -> Heading:
    return Heading(text, 2)


def H3(text: str) -> Heading:
    return Heading(text, 3)


@dataclass
class MarkdownBlock:
    """Markdown text."""

    text: str = ""

    def to_pb(self) -> rp.Block:
        return rp.Block(markdown=rp.MarkdownBlock(text=self.text))


@dataclass
class ArtifactLineage:
    """An artifact version's lineage graph ("model:latest", or a full reference)."""

    artifact: str
    depth: int = 0

    def to_pb(self) -> rp.Block:
        return rp.Block(artifact_lineage=rp.ArtifactLineage(artifact=self.artifact, depth=self.depth))


@dataclass
class ArtifactVersions:
    """A collection's versions and aliases."""

    artifact: str
    limit: int = 0

    def to_pb(self) -> rp.Block:
        return rp.Block(artifact_versions=rp.ArtifactVersions(artifact=self.artifact, limit=self.limit))


Block = Heading | MarkdownBlock | PanelGrid | ArtifactLineage | ArtifactVersions


def block_from_pb(m: rp.Block) -> Block | None:
    """The block of a message (None for a kind this client does not know)."""
    kind = m.WhichOneof("kind")
    if kind == "heading":
        return Heading(m.heading.text, m.heading.level or 1)
    if kind == "markdown":
        return MarkdownBlock(m.markdown.text)
    if kind == "panel_grid":
        return PanelGrid.from_pb(m.panel_grid)
    if kind == "artifact_lineage":
        return ArtifactLineage(m.artifact_lineage.artifact, m.artifact_lineage.depth)
    if kind == "artifact_versions":
        return ArtifactVersions(m.artifact_versions.artifact, m.artifact_versions.limit)
    return None
