"""`strata.report`: the blocks, runsets and panels of a report (W&B's `wandb.report` names).

import strata
report = strata.Report(project="text-classifier", title="Week 6")
report.blocks = [strata.report.H1("Loss"),
                 strata.report.PanelGrid(panels=[strata.report.LinePlot(y=["train/loss"])])]
report.save()
"""

from strata.sdk.report import Report
from strata.sdk.report_spec import (
    H1,
    H2,
    H3,
    ArtifactLineage,
    ArtifactVersions,
    BarPlot,
    Block,
    Heading,
    LinePlot,
    MarkdownBlock,
    MediaPanel,
    Panel,
    PanelGrid,
    ParallelCoordinates,
    Runset,
    RunsTable,
    ScalarChart,
    ScatterPlot,
)

__all__ = [
    "H1",
    "H2",
    "H3",
    "ArtifactLineage",
    "ArtifactVersions",
    "BarPlot",
    "Block",
    "Heading",
    "LinePlot",
    "MarkdownBlock",
    "MediaPanel",
    "Panel",
    "PanelGrid",
    "ParallelCoordinates",
    "Report",
    "RunsTable",
    "Runset",
    "ScalarChart",
    "ScatterPlot",
]
