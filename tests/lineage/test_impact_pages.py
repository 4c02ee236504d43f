"""AnalyzeImpact in pages: the pages together are exactly the unpaged answer (nodes with depths,
edges, capped by max_nodes), in breadth-first order, each edge once; tokens are bound to the start
node and max_nodes; page_size 0 keeps the unpaged answer; sizes are checked and coerced."""

from __future__ import annotations

import random

import grpc
import pytest
from strata.errors import Reason
from strata.lineage.v1 import lineage_service_pb2 as ls

from tests.fixtures.lineage import GraphBuilder
from tests.lineage.test_trace import edges, error, nodes


@pytest.fixture(scope="module")
def layered(builder: GraphBuilder) -> str:
    """A layered pipeline of 6 layers x 5 versions; each run uses two versions of the previous
    layer, and every other run also the first raw version (so nodes are reached along several paths
    and at several depths)."""
    rng = random.Random(3)
    layers = [[builder.version("raw", "dataset", i) for i in range(5)]]
    for layer in range(1, 6):
        current = []
        for i in range(5):
            run = builder.run(f"l{layer}-r{i}", "train")
            inputs = rng.sample(layers[-1], 2) + ([layers[0][0]] if i % 2 else [])
            builder.use(run, *inputs)
            current.append(builder.version(f"layer{layer}", "dataset", i, producer=run))
        layers.append(current)
    return layers[0][0]


def pages(lineage, node: str, size: int, max_nodes: int = 0) -> list[ls.AnalyzeImpactResponse]:  # type: ignore[no-untyped-def]
    out, token = [], ""
    while True:
        req = ls.AnalyzeImpactRequest(node=node, page_size=size, page_token=token, max_nodes=max_nodes)
        out.append(lineage.AnalyzeImpact(req, timeout=30))
        token = out[-1].next_page_token
        if not token:
            return out
        assert len(out) < 200


@pytest.mark.parametrize(("size", "max_nodes"), [(1, 0), (4, 0), (7, 0), (1000, 0), (3, 8)])
def test_pages_together_are_the_unpaged_answer(lineage, layered, size, max_nodes) -> None:  # type: ignore[no-untyped-def]
    whole = lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=layered, max_nodes=max_nodes), timeout=30)
    got = pages(lineage, layered, size, max_nodes)
    listed = [n for p in got for n in p.graph.nodes]
    assert len(listed) == len({n.name for n in listed})  # no node twice
    assert {n.name: n.depth for n in listed} == nodes(whole.graph)
    assert [n.depth for n in listed] == sorted(n.depth for n in listed)  # breadth-first
    paged_edges = [e for p in got for e in edges(p.graph)]
    assert len(paged_edges) == len(set(paged_edges)) and set(paged_edges) == edges(whole.graph)
    assert {v for p in got for v in p.affected_versions} == set(whole.affected_versions)
    assert {r for p in got for r in p.affected_runs} == set(whole.affected_runs)
    assert all(p.graph.root == layered for p in got) and got[0].graph.nodes[0].name == layered
    assert all(len(p.graph.nodes) <= size for p in got) and len(listed) >= (8 if max_nodes else 40)
    assert any(p.graph.truncated for p in got) == whole.graph.truncated == bool(max_nodes)


def test_page_size_zero_is_the_unpaged_answer(lineage, layered) -> None:  # type: ignore[no-untyped-def]
    resp = lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=layered, page_size=0))
    whole = lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=layered))
    assert resp.next_page_token == "" and len(resp.graph.nodes) > 8
    assert resp == whole


def test_a_token_is_bound_to_its_node_and_max_nodes(lineage, layered, builder) -> None:  # type: ignore[no-untyped-def]
    token = lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=layered, page_size=2)).next_page_token
    assert token
    other = layered.replace("versions/v0", "versions/v1")
    for req in (
        ls.AnalyzeImpactRequest(node=other, page_size=2, page_token=token),
        ls.AnalyzeImpactRequest(node=layered, page_size=2, page_token=token, max_nodes=50),
        ls.AnalyzeImpactRequest(node=layered, page_size=2, page_token=token[:-3] + "xyz"),
    ):
        err = error(lambda req=req: lineage.AnalyzeImpact(req))
        assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.INVALID_PAGE_TOKEN)
    # a token with page_size 0 pages on with the default size
    rest = lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=layered, page_token=token))
    assert rest.graph.nodes and rest.next_page_token == ""


def test_negative_page_size_is_out_of_range(lineage, layered) -> None:  # type: ignore[no-untyped-def]
    err = error(lambda: lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=layered, page_size=-1)))
    assert (err.code, err.reason, err.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.OUT_OF_RANGE,
        "page_size",
    )
