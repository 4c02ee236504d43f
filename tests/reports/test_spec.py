"""Spec validation: a report that does not validate is INVALID_ARGUMENT naming the offending field's
path and a stable reason, and writes nothing."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2
from strata.errors import Reason
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from tests.fixtures import query as fx
from tests.fixtures.errors import expect
from tests.reports.helpers import create, line_grid, markdown

PARENT = "entities/spec/projects/p"
GRID = "report.blocks[2].panel_grid"


def _grid(panel: rp.Panel | None = None, runset: rp.Runset | None = None) -> rp.Block:
    grid = rp.PanelGrid(panels=[panel or rp.Panel(runs_table=rp.RunsTable())])
    if runset is not None:
        grid.runsets.append(runset)
    return rp.Block(panel_grid=grid)


BAD = [
    ("unknown block", rp.Block(), Reason.INVALID_REPORT_SPEC, "report.blocks[2]"),
    ("unknown panel", _grid(rp.Panel()), Reason.INVALID_REPORT_SPEC, f"{GRID}.panels[0]"),
    ("empty y", line_grid(y=[]), Reason.FIELD_REQUIRED, f"{GRID}.panels[0].line_plot.y"),
    ("bad y key", line_grid(y=["bad\x00key"]), Reason.INVALID_NAME, f"{GRID}.panels[0].line_plot.y"),
    ("unknown aggregation", line_grid(aggregation=42), Reason.INVALID_REPORT_SPEC,
     f"{GRID}.panels[0].line_plot.aggregation"),
    ("unknown band", line_grid(band=9), Reason.INVALID_REPORT_SPEC, f"{GRID}.panels[0].line_plot.band"),
    ("unknown x kind", line_grid(x="_wall"), Reason.INVALID_REPORT_SPEC, f"{GRID}.panels[0].line_plot.x"),
    ("bad x key", line_grid(x="bad\x00key"), Reason.INVALID_NAME, f"{GRID}.panels[0].line_plot.x"),
    ("smoothing", line_grid(smoothing=2.0), Reason.OUT_OF_RANGE, f"{GRID}.panels[0].line_plot.smoothing"),
    ("groupby summary", line_grid(groupby="summary.loss"), Reason.INVALID_ORDER,
     f"{GRID}.panels[0].line_plot.groupby"),
    ("bad filter", _grid(runset=rp.Runset(filters='{"config.lr": {"$foo": 1}}')), Reason.INVALID_FILTER,
     f"{GRID}.runsets[0].filters"),
    ("filter not json", _grid(runset=rp.Runset(filters="{oops")), Reason.INVALID_JSON,
     f"{GRID}.runsets[0].filters"),
    ("bad order", _grid(runset=rp.Runset(order=["nonsense"])), Reason.INVALID_ORDER, f"{GRID}.runsets[0].order"),
    ("bad project", _grid(runset=rp.Runset(project="nope")), Reason.INVALID_NAME, f"{GRID}.runsets[0].project"),
    ("no panels", rp.Block(panel_grid=rp.PanelGrid()), Reason.FIELD_REQUIRED, f"{GRID}.panels"),
    ("bad table column", _grid(rp.Panel(runs_table=rp.RunsTable(columns=["what?"]))), Reason.INVALID_REPORT_SPEC,
     f"{GRID}.panels[0].runs_table.columns"),
    ("scatter without y", _grid(rp.Panel(scatter_plot=rp.ScatterPlot(x="config.lr"))), Reason.FIELD_REQUIRED,
     f"{GRID}.panels[0].scatter_plot.y"),
    ("bar metric", _grid(rp.Panel(bar_plot=rp.BarPlot(metric="config.lr"))), Reason.INVALID_ORDER,
     f"{GRID}.panels[0].bar_plot.metric"),
    ("empty heading", rp.Block(heading=rp.Heading()), Reason.FIELD_REQUIRED, "report.blocks[2].heading.text"),
]  # fmt: skip


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    server.run(fx.create_project(server.deps.pool, "spec", "p"))
    return server.client()


@pytest.mark.parametrize(("what", "block", "reason", "field"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_spec_names_the_field(client, what, block, reason, field) -> None:  # type: ignore[no-untyped-def]
    report = rp.Report(title="t", blocks=[markdown("a"), markdown("b"), block])
    expect(
        lambda: client.reports.CreateReport(rs.CreateReportRequest(parent=PARENT, report=report)),
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        field,
    )


def test_an_update_is_validated_and_a_refused_one_writes_nothing(client) -> None:  # type: ignore[no-untyped-def]
    made = create(client, PARENT)
    edit = rp.Report(name=made.name, revision=1, blocks=[markdown("a"), markdown("b"), line_grid(y=[])])
    request = rs.UpdateReportRequest(report=edit, update_mask=field_mask_pb2.FieldMask(paths=["blocks"]))
    expect(
        lambda: client.reports.UpdateReport(request),
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.FIELD_REQUIRED,
        f"{GRID}.panels[0].line_plot.y",
    )
    assert client.reports.GetReport(rs.GetReportRequest(name=made.name)).report.revision == 1
    expect(
        lambda: client.reports.CreateReport(rs.CreateReportRequest(parent=PARENT, report=rp.Report())),
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.FIELD_REQUIRED,
        "report.title",
    )


def test_every_kind_of_block_and_panel_round_trips(client) -> None:  # type: ignore[no-untyped-def]
    panels = [
        rp.Panel(line_plot=rp.LinePlot(x="_step", y=["a", "b"], groupby="config.lr", aggregation=rp.AGGREGATION_MEDIAN,
                                       band=rp.BAND_STDDEV, smoothing=0.5, log_y=True, max_runs=10)),
        rp.Panel(scalar_chart=rp.ScalarChart(metric="summary.acc")),
        rp.Panel(bar_plot=rp.BarPlot(metric="summary.acc", groupby="config.arch")),
        rp.Panel(scatter_plot=rp.ScatterPlot(x="config.lr", y="summary.val/f1")),
        rp.Panel(parallel_coordinates=rp.ParallelCoordinates(columns=["config.lr", "summary.acc"])),
        rp.Panel(runs_table=rp.RunsTable(columns=["name", "config.lr", "summary.acc"])),
        rp.Panel(media_panel=rp.MediaPanel(key="samples")),
    ]  # fmt: skip
    runset = rp.Runset(
        name="last week", filters='{"created_at": {"$gte": "-7d"}}', order=["-summary.acc"], limit=5
    )
    blocks = [
        rp.Block(heading=rp.Heading(text="H", level=2)),
        markdown("*md*"),
        rp.Block(panel_grid=rp.PanelGrid(runsets=[runset], panels=panels)),
        rp.Block(artifact_lineage=rp.ArtifactLineage(artifact="model:latest")),
        rp.Block(artifact_versions=rp.ArtifactVersions(artifact="model")),
    ]
    made = create(client, PARENT, "all kinds", blocks)
    got = client.reports.GetReport(rs.GetReportRequest(name=made.name)).report
    assert list(got.blocks) == blocks
