"""AnalyzeImpact in pages: everything downstream of a node, in breadth-first order, page by page.

Order: (depth, kind, id), the order in which the walk of domain.py admits nodes, so the pages
together hold exactly the nodes and edges of the unpaged answer (same node cap, same visibility).
A page walks from the root only as far as it needs: the first page of a huge impact costs a few hops,
whatever the graph's size. Each edge is on the page of its source node (the end the walk came from).

The page token (services/common/paging.py) holds the position (depth, kind, id) of the page's last
node and is bound to the resolved root and max_nodes; anything else is INVALID_PAGE_TOKEN.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...common import paging
from ..model import DEFAULT_IMPACT_NODES, MAX_NODES, Edge, Graph, Node, NodeKey, NodeKind, TraversalOptions
from ..nodes.domain import Reader, Resolved
from . import domain, store

DEFAULT_PAGE_SIZE = 1000  # when a page_token comes with page_size 0
MAX_PAGE_SIZE = 10_000

Position = tuple[int, int, int]  # (depth, kind, id)


@dataclass
class ImpactPage:
    graph: Graph
    affected_versions: list[str]
    affected_runs: list[str]
    next_page_token: str
    endpoints: list[Node]  # nodes the page's edges reach that are on other pages


def page_size(requested: int, token: str) -> int:
    """0 without a token: unpaged (the whole impact at once, as before paging existed)."""
    if requested == 0 and not token:
        return 0
    return paging.page_size(requested, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _query(root: Resolved, max_nodes: int) -> list[object]:
    return ["impact", int(root.key[0]), root.key[1], max_nodes]


def _decode(token: str, query: list[object]) -> Position | None:
    data = paging.decode(token, query)
    if data is None:
        return None
    valid = isinstance(data, list) and len(data) == 3
    valid = valid and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 for v in data)
    if not valid or data[1] not in {int(k) for k in NodeKind}:
        raise paging.invalid_token("malformed")
    return (data[0], data[1], data[2])


def _pos(key: NodeKey, depth: int) -> Position:
    return (depth, int(key[0]), key[1])


async def impact_page(reader: Reader, root: Resolved, max_nodes: int, size: int, token: str) -> ImpactPage:
    nodes = domain.bounded(max_nodes, DEFAULT_IMPACT_NODES, MAX_NODES, "max_nodes")
    query = _query(root, nodes)
    after = _decode(token, query)
    await store.prefer_generic_plans(reader.conn, reader.timeout)
    depths, page, edges, truncated = await _walk_page(reader, root.key, nodes, size, after)
    more = len(page) > size
    page = page[:size]
    in_page = set(page)
    page_edges = sorted(e for e in edges if e.source in in_page)
    shown = {root.key, *page, *(e.target for e in page_edges)}
    details = await domain._details(reader, {k: depths[k] for k in shown})
    ordered = [details[k] for k in page if k in details]
    rest = [n for n in ordered if n.key != root.key]
    token_out = paging.encode(list(_pos(page[-1], depths[page[-1]])), query) if more else ""
    graph = Graph(details[root.key], ordered, page_edges, truncated)
    return ImpactPage(
        graph,
        [n.name for n in rest if n.kind is NodeKind.VERSION],
        [n.name for n in rest if n.kind is NodeKind.RUN],
        token_out,
        [details[k] for k in shown - in_page],
    )


async def _walk_page(
    reader: Reader, root: NodeKey, max_nodes: int, size: int, after: Position | None
) -> tuple[dict[NodeKey, int], list[NodeKey], list[Edge], bool]:
    """domain.walk (downstream, no depth limit), stopped once the page has size + 1 nodes and the
    hop out of the last page node's level (which finds that level's edges) is done."""
    opts = TraversalOptions(None, max_nodes)
    depths: dict[NodeKey, int] = {root: 0}
    page: list[NodeKey] = [root] if after is None else []
    edges: list[Edge] = []
    frontier, depth, truncated = [root], 0, False
    while frontier:
        if len(page) > size and depths[page[size - 1]] < depth:
            break  # every page node's level has been expanded
        rows, to_runs = await domain._hop(reader, frontier, False, opts)
        new = await domain._admissible(reader, rows, to_runs, depths)
        room = max(0, max_nodes - len(depths))
        if len(new) > room:
            truncated, new = True, new[:room]
        depth += 1
        depths.update((key, depth) for key in new)
        domain._collect_edges(rows, to_runs, depths, edges)
        if len(page) <= size:
            page += [k for k in new if after is None or _pos(k, depth) > after][: size + 1 - len(page)]
        frontier = new
    return depths, page, edges, truncated
