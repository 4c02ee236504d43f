"""Shared helpers of the reports tests: report messages and a project of runs with curves."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import numpy as np
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from tests.fixtures import query as fx

ARCHS = ("cnn", "mlp", "vit")


def line_grid(**line: Any) -> rp.Block:
    line.setdefault("y", ["train/loss"])
    return rp.Block(panel_grid=rp.PanelGrid(panels=[rp.Panel(line_plot=rp.LinePlot(**line))]))


def markdown(text: str) -> rp.Block:
    return rp.Block(markdown=rp.MarkdownBlock(text=text))


def create(client: Any, parent: str, title: str = "r", blocks: list[rp.Block] | None = None) -> rp.Report:
    report = rp.Report(title=title, blocks=blocks or [markdown("hello")])
    return client.reports.CreateReport(rs.CreateReportRequest(parent=parent, report=report)).report


async def curves_project(
    pool: asyncpg.Pool,
    entity: str,
    project: str,
    runs: int = 9,
    steps: int = 50,
    *,
    age: timedelta | None = None,
) -> list[str]:
    """`runs` finished runs, architecture cycling through ARCHS, each logging train/loss and val/acc
    (run i's val/acc summary is i/100, so the best runs are the last ones). Returns their run ids."""
    project_id = await fx.create_project(pool, entity, project)
    created = datetime.now(timezone.utc) - (age or timedelta(minutes=5))
    out = []
    for i in range(runs):
        run_id = f"{project}-{i}"
        pk = await fx.add_run(
            pool, project_id, run_id, state="finished", created=created + timedelta(seconds=i),
            config={"architecture": ARCHS[i % len(ARCHS)], "lr": 10.0 ** -(1 + i % 3)},
        )  # fmt: skip
        s = np.arange(steps)
        await fx.add_series(pool, pk, "train/loss", s, 1.0 / (1 + s) + i % len(ARCHS))
        await fx.add_series(pool, pk, "val/acc", s, np.full(steps, i / 100))
        out.append(run_id)
    return out
