"""Lineage traversal: upstream/downstream/impact over a text-classifier pipeline, bounds, filters,
truncation, cycles, visibility, and bad input (codes and reasons, never message text)."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from strata.errors import Reason, StrataError
from strata.lineage.v1 import lineage_pb2
from strata.lineage.v1 import lineage_service_pb2 as ls
from strata_server.common.auth import OpenLocalAuthorizer

from tests.fixtures.lineage import ClassifierPipeline, GraphBuilder

RUN, VERSION = lineage_pb2.NODE_KIND_RUN, lineage_pb2.NODE_KIND_ARTIFACT_VERSION
PRODUCED, USED = lineage_pb2.EDGE_KIND_PRODUCED, lineage_pb2.EDGE_KIND_USED
P = "entities/ml-research/projects/text-classifier"


def up(lineage, node: str, **options) -> lineage_pb2.Graph:
    req = ls.TraceUpstreamRequest(node=node, options=ls.TraversalOptions(**options))
    return lineage.TraceUpstream(req).graph


def down(lineage, node: str, **options) -> lineage_pb2.Graph:
    req = ls.TraceDownstreamRequest(node=node, options=ls.TraversalOptions(**options))
    return lineage.TraceDownstream(req).graph


def nodes(graph: lineage_pb2.Graph) -> dict[str, int]:
    return {n.name: n.depth for n in graph.nodes}


def edges(graph: lineage_pb2.Graph) -> set[tuple[str, str, int]]:
    return {(e.source, e.target, e.kind) for e in graph.edges}


def error(call) -> StrataError:
    with pytest.raises(StrataError) as info:
        call()
    return info.value


def test_upstream_of_model_v1_is_exactly_the_pipeline_that_made_it(lineage, pipe: ClassifierPipeline) -> None:
    graph = up(lineage, pipe.model_v1)
    assert graph.root == pipe.model_v1 and graph.nodes[0].name == pipe.model_v1
    assert nodes(graph) == {
        pipe.model_v1: 0,
        pipe.train_2: 1,
        pipe.clean: 2,
        pipe.preprocess: 3,
        pipe.raw: 4,
        pipe.log_raw: 5,
    }
    assert edges(graph) == {
        (pipe.train_2, pipe.model_v1, PRODUCED),
        (pipe.clean, pipe.train_2, USED),
        (pipe.preprocess, pipe.clean, PRODUCED),
        (pipe.raw, pipe.preprocess, USED),
        (pipe.log_raw, pipe.raw, PRODUCED),
    }
    assert not graph.truncated
    assert [n.depth for n in graph.nodes] == sorted(n.depth for n in graph.nodes)
    by_name = {n.name: n for n in graph.nodes}
    assert by_name[pipe.model_v1].kind == VERSION and by_name[pipe.model_v1].artifact_type == "model"
    assert (
        by_name[pipe.model_v1].label == "bert-classifier:v1" and by_name[pipe.model_v1].state == "committed"
    )
    assert by_name[pipe.train_2].kind == RUN and by_name[pipe.train_2].job_type == "train"
    assert by_name[pipe.train_2].state == "finished" and by_name[pipe.train_2].label == "train-2"
    assert by_name[pipe.log_raw].label == "log raw tickets"
    assert all(e.create_time.seconds > 0 for e in graph.edges)


@pytest.mark.parametrize(
    "ref",
    [
        "ml-research/text-classifier/bert-classifier:v1",
        "ml-research/text-classifier/bert-classifier:staging",
        "ml-research/text-classifier/bert-classifier:latest",
        "ml-research/text-classifier/bert-classifier",
    ],
)
def test_artifact_refs_and_aliases_resolve_to_the_version(
    lineage, pipe: ClassifierPipeline, ref: str
) -> None:
    assert up(lineage, ref, max_depth=1).root == pipe.model_v1


def test_upstream_of_a_run_starts_from_its_inputs(lineage, pipe: ClassifierPipeline) -> None:
    graph = up(lineage, pipe.train_1, max_depth=2)
    assert nodes(graph) == {pipe.train_1: 0, pipe.clean: 1, pipe.preprocess: 2}
    assert graph.truncated  # raw:v0 lies one hop further


def test_impact_of_raw_v0_reaches_every_downstream_node(lineage, pipe: ClassifierPipeline) -> None:
    resp = lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=pipe.raw))
    assert set(resp.affected_versions) == {pipe.clean, pipe.model_v0, pipe.model_v1}
    assert set(resp.affected_runs) == {pipe.preprocess, pipe.train_1, pipe.train_2, pipe.eval_1, pipe.eval_2}
    assert resp.graph.root == pipe.raw and not resp.graph.truncated
    assert nodes(resp.graph)[pipe.eval_1] == 5
    assert (pipe.model_v1, pipe.eval_1, USED) in edges(resp.graph)
    assert len(resp.graph.edges) == 8


def test_impact_is_capped_by_max_nodes_with_truncated(lineage, pipe: ClassifierPipeline) -> None:
    resp = lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=pipe.raw, max_nodes=3))
    assert len(resp.graph.nodes) == 3 and resp.graph.truncated
    assert len(resp.affected_runs) + len(resp.affected_versions) == 2


def test_downstream_depth_limit_and_truncated_flag(lineage, pipe: ClassifierPipeline) -> None:
    one = down(lineage, pipe.clean, max_depth=1)
    assert nodes(one) == {pipe.clean: 0, pipe.train_1: 1, pipe.train_2: 1} and one.truncated
    full = down(lineage, pipe.clean, max_depth=2)
    assert set(nodes(full)) == {pipe.clean, pipe.train_1, pipe.train_2, pipe.model_v0, pipe.model_v1}
    assert full.truncated  # the eval runs are one hop further
    everything = down(lineage, pipe.clean, max_depth=50)
    assert {pipe.eval_1, pipe.eval_2} <= set(nodes(everything)) and not everything.truncated


def test_job_type_filter_only_follows_matching_runs(lineage, pipe: ClassifierPipeline) -> None:
    graph = up(lineage, pipe.model_v1, job_types=["train"])
    assert set(nodes(graph)) == {pipe.model_v1, pipe.train_2, pipe.clean}
    graph = down(lineage, pipe.raw, max_depth=10, job_types=["preprocess", "eval"])
    assert set(nodes(graph)) == {pipe.raw, pipe.preprocess, pipe.clean}


def test_artifact_type_filter_only_follows_matching_versions(lineage, pipe: ClassifierPipeline) -> None:
    graph = down(lineage, pipe.raw, max_depth=10, artifact_types=["dataset"])
    assert set(nodes(graph)) == {pipe.raw, pipe.preprocess, pipe.clean, pipe.train_1, pipe.train_2}
    graph = down(lineage, pipe.preprocess, max_depth=10, artifact_types=["model"])
    assert set(nodes(graph)) == {pipe.preprocess}


def test_node_cap_truncates_and_keeps_the_nearest_nodes(lineage, pipe: ClassifierPipeline) -> None:
    graph = down(lineage, pipe.raw, max_depth=10, max_nodes=4)
    assert len(graph.nodes) == 4 and graph.truncated
    assert set(nodes(graph)) >= {pipe.raw, pipe.preprocess, pipe.clean}
    assert all(e.source in nodes(graph) and e.target in nodes(graph) for e in graph.edges)


def test_traversal_terminates_on_a_cycle(lineage, builder: GraphBuilder) -> None:
    """Cycles cannot come from ordinary logging, but a retroactive link can close one."""
    x, y = builder.run("cycle-x", "train"), builder.run("cycle-y", "train")
    a = builder.version("cycle-a", "dataset", 0, producer=x)
    builder.use(y, a)
    b = builder.version("cycle-b", "dataset", 0, producer=y)
    builder.use(x, b)  # x used b, which came from a, which x produced
    graph = up(lineage, a, max_depth=50)
    assert nodes(graph) == {a: 0, x: 1, b: 2, y: 3}
    assert (a, y, USED) in edges(graph) and not graph.truncated
    impact = lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=a))
    assert set(impact.affected_versions) == {b} and set(impact.affected_runs) == {x, y}


def test_deleted_versions_keep_their_lineage(
    lineage, builder: GraphBuilder, pipe: ClassifierPipeline
) -> None:
    old = builder.version("old-model", "model", 0, producer=pipe.train_1, state=3)
    graph = up(lineage, old, max_depth=1)
    assert graph.nodes[0].state == "deleted" and nodes(graph) == {old: 0, pipe.train_1: 1}


class HidingAuthorizer(OpenLocalAuthorizer):
    """Open-local, except that one project is unreadable (stands in for the IAM check)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden

    async def readable_project_ids(self, principal, project_ids, conn=None):
        return {p for p in project_ids if p != self.hidden}


def test_nodes_in_unreadable_projects_are_left_out(server, lineage, builder: GraphBuilder, pipe) -> None:
    other = builder.project_id("other-team", "pretraining")
    base = builder.version("bert-base", "model", 0, entity="other-team", project="pretraining")
    finetune = builder.run("finetune-1", "train")
    builder.use(finetune, base, pipe.clean)
    mine = builder.version("finetuned", "model", 0, producer=finetune)
    assert base in nodes(up(lineage, mine))
    original = server.deps.authorizer
    server.deps.authorizer = HidingAuthorizer(other)
    try:
        graph = up(lineage, mine)
        assert base not in nodes(graph) and pipe.clean in nodes(graph)
        assert all(base not in (e.source, e.target) for e in graph.edges)
        err = error(lambda: up(lineage, base))
        assert err.code == grpc.StatusCode.NOT_FOUND
    finally:
        server.deps.authorizer = original


def resource_info(err: StrataError) -> error_details_pb2.ResourceInfo:
    return next(d for d in err.details if isinstance(d, error_details_pb2.ResourceInfo))


@pytest.mark.parametrize(
    ("node", "resource"),
    [
        (f"{P}/runs/nope", f"{P}/runs/nope"),
        (f"{P}/artifacts/bert-classifier/versions/v99", f"{P}/artifacts/bert-classifier/versions/v99"),
        ("ml-research/text-classifier/bert-classifier:v99", f"{P}/artifacts/bert-classifier/versions/v99"),
        ("ml-research/text-classifier/bert-classifier:gone", f"{P}/artifacts/bert-classifier:gone"),
        ("ml-research/text-classifier/no-such-artifact", f"{P}/artifacts/no-such-artifact:latest"),
        ("ml-research/no-project/x:v0", "entities/ml-research/projects/no-project/artifacts/x/versions/v0"),
    ],
)
def test_unknown_nodes_are_not_found_with_the_resource(lineage, pipe, node: str, resource: str) -> None:
    err = error(lambda: up(lineage, node))
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)
    assert resource_info(err).resource_name == resource


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_depth": 51}, "options.max_depth"),
        ({"max_depth": -1}, "options.max_depth"),
        ({"max_nodes": 100_001}, "options.max_nodes"),
        ({"max_nodes": -5}, "options.max_nodes"),
    ],
)
def test_bounds_beyond_the_maxima_are_out_of_range(lineage, pipe, options: dict, field: str) -> None:
    for call in (lambda: up(lineage, pipe.model_v1, **options), lambda: down(lineage, pipe.raw, **options)):
        err = error(call)
        assert (err.code, err.reason, err.field) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.OUT_OF_RANGE,
            field,
        )


def test_impact_max_nodes_beyond_the_maximum_is_out_of_range(lineage, pipe) -> None:
    err = error(lambda: lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=pipe.raw, max_nodes=100_001)))
    assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, Reason.OUT_OF_RANGE)


@pytest.mark.parametrize(
    ("node", "reason"),
    [
        ("", Reason.FIELD_REQUIRED),
        ("bert-classifier:v1", Reason.INVALID_ARTIFACT_REF),  # relative refs need entity/project
        ("entities/ml-research/projects/text-classifier/runs/bad name", Reason.INVALID_NAME),
        ("entities/x/projects/y/artifacts/z/versions/latest", Reason.INVALID_NAME),
        ("a//b:v1", Reason.INVALID_ARTIFACT_REF),
    ],
)
def test_malformed_nodes_are_invalid_argument(lineage, node: str, reason: str) -> None:
    err = error(lambda: up(lineage, node))
    assert (err.code, err.reason, err.field) == (grpc.StatusCode.INVALID_ARGUMENT, reason, "node")
