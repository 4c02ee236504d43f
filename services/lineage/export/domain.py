"""ExportLineageGraph: walk from a node (as the traces do) and render the graph as text.

No gRPC and no SQL here: the walk is ../trace/, the formats are render.py. Export has no SQL of its
own, so this feature has no store.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Direction, TraversalOptions
from ..nodes.domain import Caller
from ..trace.domain import trace_node
from .render import render


@dataclass(frozen=True)
class Export:
    text: str
    truncated: bool


async def export_graph(
    caller: Caller, node: str, direction: Direction, fmt: str, opts: TraversalOptions
) -> Export:
    graph = await trace_node(caller, node, direction, opts)
    return Export(render(graph, fmt), graph.truncated)
