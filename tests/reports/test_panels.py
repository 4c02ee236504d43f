"""GetPanelData: a panel's data computed from live runs when viewed: grouped and aggregated curves
(one series per group and key), run tables in the runset's order, bars, scalars and scatter rows."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import grpc
import numpy as np
import pytest
from strata.errors import Reason
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from tests.fixtures import query as fx
from tests.fixtures.errors import expect
from tests.reports.helpers import ARCHS, create, curves_project, line_grid

PARENT = "entities/panels/projects/p"


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    server.run(curves_project(server.deps.pool, "panels", "p"))
    return server.client()


def data(client: Any, blocks: list[rp.Block], block: int = 0, panel: int = 0) -> rp.PanelData:
    name = create(client, PARENT, "panels", blocks).name
    return client.reports.GetPanelData(rs.GetPanelDataRequest(report=name, block=block, panel=panel)).data


def grid(panel: rp.Panel, runset: rp.Runset | None = None) -> rp.Block:
    return rp.Block(panel_grid=rp.PanelGrid(runsets=[runset] if runset else [], panels=[panel]))


def test_grouped_line_plot_has_one_series_per_group_and_key(client) -> None:  # type: ignore[no-untyped-def]
    got = data(client, [line_grid(y=["train/loss", "val/acc"], groupby="config.architecture")])
    assert [(s.key, json.loads(s.group)) for s in got.series] == [
        (key, arch) for key in ("train/loss", "val/acc") for arch in ARCHS
    ]
    assert all(s.run_count == 3 for s in got.series) and got.run_count == 9
    loss = {json.loads(s.group): s for s in got.series if s.key == "train/loss"}
    for k, arch in enumerate(ARCHS):  # every run of a group logs 1/(1+step) + k
        s = loss[arch]
        np.testing.assert_allclose(s.y, 1 / (1 + np.asarray(s.x)) + k, rtol=1e-9)
        np.testing.assert_allclose(s.lower, s.y) and np.testing.assert_allclose(s.upper, s.y)
    acc = {json.loads(s.group): s for s in got.series if s.key == "val/acc"}
    assert acc["cnn"].lower[0] == pytest.approx(0.0) and acc["cnn"].upper[0] == pytest.approx(0.06)
    assert acc["cnn"].y[0] == pytest.approx(0.03)  # runs 0, 3, 6: mean of 0.00, 0.03, 0.06


@pytest.mark.parametrize(
    ("aggregation", "band", "center", "spread"),
    [
        (rp.AGGREGATION_MEDIAN, rp.BAND_NONE, 0.05, None),  # vit: runs 2, 5, 8 -> 0.02, 0.05, 0.08
        (rp.AGGREGATION_MIN, rp.BAND_MINMAX, 0.02, (0.02, 0.08)),
        (rp.AGGREGATION_MAX, rp.BAND_STDDEV, 0.08, (0.05 - np.std([0.02, 0.05, 0.08]), 0.05 + np.std([0.02, 0.05, 0.08]))),
    ],
)  # fmt: skip
def test_aggregations_and_bands(client, aggregation, band, center, spread) -> None:  # type: ignore[no-untyped-def]
    got = data(
        client, [line_grid(y=["val/acc"], groupby="config.architecture", aggregation=aggregation, band=band)]
    )
    vit = next(s for s in got.series if json.loads(s.group) == "vit")
    assert vit.y[0] == pytest.approx(center)
    if spread is None:
        assert len(vit.lower) == len(vit.upper) == 0
    else:
        assert (vit.lower[0], vit.upper[0]) == pytest.approx(spread)


def test_ungrouped_line_plot_draws_each_run_up_to_max_runs(client) -> None:  # type: ignore[no-untyped-def]
    runset = rp.Runset(order=["-summary.val/acc"])
    got = data(client, [grid(rp.Panel(line_plot=rp.LinePlot(y=["val/acc"], max_runs=4)), runset)])
    assert [s.group for s in got.series] == ["p-8", "p-7", "p-6", "p-5"]  # in the runset's order
    assert all(s.run_count == 1 for s in got.series)


def test_runs_table_lists_the_top_runs_in_order(client) -> None:  # type: ignore[no-untyped-def]
    runset = rp.Runset(order=["-summary.val/acc"], limit=5, filters='{"state": "finished"}')
    table = rp.Panel(runs_table=rp.RunsTable(columns=["name", "config.architecture", "summary.val/acc"]))
    got = data(client, [grid(table, runset)])
    assert list(got.columns) == ["name", "config.architecture", "summary.val/acc"]
    assert [r.display_name for r in got.rows] == ["p-8", "p-7", "p-6", "p-5", "p-4"]
    assert [json.loads(r.values[2]) for r in got.rows] == pytest.approx([0.08, 0.07, 0.06, 0.05, 0.04])
    assert json.loads(got.rows[0].values[1]) == "vit" and got.run_count == 9 and not got.live


def test_bar_scalar_and_scatter(client) -> None:  # type: ignore[no-untyped-def]
    bar = rp.Panel(bar_plot=rp.BarPlot(metric="summary.val/acc", groupby="config.architecture",
                                       aggregation=rp.AGGREGATION_MAX))  # fmt: skip
    got = data(client, [grid(bar)])
    assert [json.loads(label) for label in got.labels] == list(ARCHS)
    assert list(got.values) == pytest.approx([0.06, 0.07, 0.08])
    scalar = rp.Panel(scalar_chart=rp.ScalarChart(metric="summary.val/acc", aggregation=rp.AGGREGATION_MAX))
    assert list(data(client, [grid(scalar)]).values) == pytest.approx([0.08])
    scatter = rp.Panel(scatter_plot=rp.ScatterPlot(x="config.lr", y="summary.val/acc"))
    got = data(client, [grid(scatter, rp.Runset(order=["created_at"]))])
    assert json.loads(got.rows[1].values[1]) == pytest.approx(0.01)
    assert json.loads(got.rows[1].values[2]) == pytest.approx(0.01)


def test_a_running_run_makes_the_panel_live(server, client) -> None:  # type: ignore[no-untyped-def]
    async def add() -> None:
        project_id = await fx.create_project(server.deps.pool, "panels", "p")
        await fx.add_run(
            server.deps.pool, project_id, "live-1", state="running", created=datetime.now(timezone.utc)
        )

    server.run(add())
    got = data(client, [grid(rp.Panel(runs_table=rp.RunsTable()))])
    assert got.live and got.rows[0].display_name == "live-1"  # default order: newest first
    assert [json.loads(v) for v in got.rows[0].values[:2]] == ["live-1", "running"]


def test_no_such_panel_is_out_of_range(client) -> None:  # type: ignore[no-untyped-def]
    name = create(client, PARENT, "x", [line_grid()]).name
    for block, panel in ((1, 0), (0, 1), (-1, 0)):
        expect(
            lambda b=block, p=panel: client.reports.GetPanelData(
                rs.GetPanelDataRequest(report=name, block=b, panel=p)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.OUT_OF_RANGE,
        )
