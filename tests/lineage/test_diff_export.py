"""Version diffs (the "why did v12 drop?" answer), DOT/Mermaid/JSON export, and retroactive links."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import grpc
import pydot
import pytest
from strata.errors import Reason, StrataError
from strata.lineage.v1 import lineage_pb2
from strata.lineage.v1 import lineage_service_pb2 as ls
from strata_server.common.auth import OpenLocalAuthorizer
from strata_server.common.auth.policy import Access
from strata_server.common.errors import PermissionDenied

from tests.fixtures.lineage import (
    ClassifierPipeline,
    GraphBuilder,
    TokenizerSwap,
    build_classifier_pipeline,
    digest,
)

P = "entities/ml-research/projects/text-classifier"
ADDED, REMOVED, MODIFIED = (
    lineage_pb2.FILE_CHANGE_KIND_ADDED,
    lineage_pb2.FILE_CHANGE_KIND_REMOVED,
    lineage_pb2.FILE_CHANGE_KIND_MODIFIED,
)


@pytest.fixture(scope="module")
def fresh(server) -> ClassifierPipeline:
    """The pipeline in a project of its own, which no other test adds edges to."""
    return build_classifier_pipeline(GraphBuilder(server, project="export-only"))


def error(call) -> StrataError:
    with pytest.raises(StrataError) as info:
        call()
    return info.value


def diff(lineage, old: str, new: str, **kw) -> ls.DiffArtifactVersionsResponse:
    return lineage.DiffArtifactVersions(
        ls.DiffArtifactVersionsRequest(old_version=old, new_version=new, **kw)
    )


# --- diff ---


def test_diff_names_the_swapped_tokenizer_as_the_origin(lineage, swap: TokenizerSwap) -> None:
    d = diff(lineage, swap.model_v11, swap.model_v12)
    changes = [(c.artifact, c.old_version, c.new_version, c.depth, c.origin) for c in d.input_changes]
    assert changes == [
        (f"{P}/artifacts/tickets-clean", swap.clean_v7, swap.clean_v8, 2, False),
        (f"{P}/artifacts/tokenizer", swap.tokenizer_v1, swap.tokenizer_v2, 4, True),
    ]
    assert (d.old_version, d.new_version) == (swap.model_v11, swap.model_v12)


def test_diff_lists_files_added_removed_and_changed_by_digest(lineage, swap: TokenizerSwap) -> None:
    d = diff(lineage, swap.model_v11, swap.model_v12)
    files = {(f.path, f.change): f for f in d.manifest_changes}
    assert set(files) == {("labels.txt", REMOVED), ("model.pth", MODIFIED), ("tokenizer.json", ADDED)}
    pth = files[("model.pth", MODIFIED)]
    assert (pth.old_sha256, pth.new_sha256) == (digest("weights-11"), digest("weights-12"))
    assert (
        files[("tokenizer.json", ADDED)].old_sha256 == "" and files[("labels.txt", REMOVED)].new_sha256 == ""
    )
    assert (d.files_added, d.files_removed, d.files_changed) == (1, 1, 1)
    assert not d.manifest_changes_truncated


def test_diff_compares_top_level_metadata_as_json(lineage, swap: TokenizerSwap) -> None:
    d = diff(lineage, swap.model_v11, swap.model_v12)
    meta = {m.key: (m.old_value_json, m.new_value_json) for m in d.metadata_changes}
    assert set(meta) == {"f1_score", "notes", "git_sha"}
    assert json.loads(meta["f1_score"][0]) == 0.89 and json.loads(meta["f1_score"][1]) == 0.84
    assert meta["notes"][1] == "" and json.loads(meta["git_sha"][1]) == "abc123"


def test_metadata_equal_as_json_is_not_a_change(lineage, builder: GraphBuilder) -> None:
    a = builder.version("meta", "model", 0, metadata={"a": {"x": 1, "y": [1, 2]}, "b": 1.0, "c": None})
    b = builder.version("meta", "model", 1, metadata={"b": 1, "a": {"y": [1, 2], "x": 1}, "c": False})
    d = diff(lineage, a, b)
    assert [(m.key, m.old_value_json, m.new_value_json) for m in d.metadata_changes] == [
        ("c", "null", "false")
    ]


def test_diff_of_references_compares_uri_and_etag(lineage, builder: GraphBuilder) -> None:
    a = builder.version("refs", "dataset", 0)
    b = builder.version("refs", "dataset", 1)
    builder.reference(a, "same.parquet", "s3://bucket/same.parquet", "etag-1")
    builder.reference(b, "same.parquet", "s3://bucket/same.parquet", "etag-1")
    builder.reference(a, "moved.parquet", "s3://bucket/old.parquet", "etag-2")
    builder.reference(b, "moved.parquet", "s3://bucket/new.parquet", "etag-2")
    builder.reference(a, "edited.parquet", "s3://bucket/edited.parquet", "etag-3")
    builder.reference(b, "edited.parquet", "s3://bucket/edited.parquet", "etag-4")
    d = diff(lineage, a, b)
    assert [(f.path, f.change) for f in d.manifest_changes] == [
        ("edited.parquet", MODIFIED),
        ("moved.parquet", MODIFIED),
    ]
    moved = d.manifest_changes[1]
    assert (moved.old_reference_uri, moved.new_reference_uri) == (
        "s3://bucket/old.parquet",
        "s3://bucket/new.parquet",
    )


def test_diff_truncates_the_file_list_but_counts_everything(lineage, builder: GraphBuilder) -> None:
    a = builder.version("big", "dataset", 0, files={f"f{i:02}": "old" for i in range(30)})
    b = builder.version("big", "dataset", 1, files={f"f{i:02}": "new" for i in range(10, 40)})
    d = diff(lineage, a, b, max_manifest_changes=5)
    assert len(d.manifest_changes) == 5 and d.manifest_changes_truncated
    assert [f.path for f in d.manifest_changes] == ["f00", "f01", "f02", "f03", "f04"]
    assert (d.files_added, d.files_removed, d.files_changed) == (10, 10, 20)


def test_a_version_diffed_with_itself_has_no_changes(lineage, swap: TokenizerSwap) -> None:
    d = diff(lineage, swap.model_v12, "ml-research/text-classifier/intent-model:v12")
    assert not d.manifest_changes and not d.metadata_changes and not d.input_changes


def test_diff_lineage_reports_inputs_only_on_one_side(lineage, builder: GraphBuilder, pipe) -> None:
    r1, r2 = builder.run("extra-a", "train"), builder.run("extra-b", "train")
    builder.use(r1, pipe.raw)
    builder.use(r2, pipe.raw, pipe.model_v0)
    a = builder.version("extra", "model", 0, producer=r1)
    b = builder.version("extra", "model", 1, producer=r2)
    d = diff(lineage, a, b)
    assert [(c.old_version, c.new_version, c.depth, c.origin) for c in d.input_changes] == [
        ("", pipe.model_v0, 2, True),  # the new input
        ("", pipe.clean, 4, False),  # only pulled in with it (raw:v0 is on both sides)
    ]


def test_diff_of_versions_of_different_artifacts_is_invalid(lineage, swap: TokenizerSwap) -> None:
    err = error(lambda: diff(lineage, swap.model_v11, swap.tokenizer_v2))
    assert (err.code, err.reason, err.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.DIFFERENT_ARTIFACTS,
        "new_version",
    )


@pytest.mark.parametrize(
    ("kw", "field", "reason"),
    [
        ({"max_depth": 51}, "max_depth", Reason.OUT_OF_RANGE),
        ({"max_manifest_changes": 100_001}, "max_manifest_changes", Reason.OUT_OF_RANGE),
        ({"old_version": ""}, "old_version", Reason.FIELD_REQUIRED),
        ({"old_version": f"{P}/runs/train-a"}, "old_version", Reason.INVALID_NAME),
    ],
)
def test_diff_bad_input_is_invalid_argument(lineage, swap, kw: dict, field: str, reason: str) -> None:
    req = {"old_version": swap.model_v11, "new_version": swap.model_v12, **kw}
    err = error(lambda: lineage.DiffArtifactVersions(ls.DiffArtifactVersionsRequest(**req)))
    assert (err.code, err.reason, err.field) == (grpc.StatusCode.INVALID_ARGUMENT, reason, field)


def test_diff_of_an_unknown_version_is_not_found(lineage, swap) -> None:
    err = error(lambda: diff(lineage, swap.model_v11, f"{P}/artifacts/intent-model/versions/v13"))
    assert err.code == grpc.StatusCode.NOT_FOUND


# --- export ---


def export(lineage, node: str, fmt: int, direction=ls.LINEAGE_DIRECTION_UPSTREAM, **options):
    req = ls.ExportLineageGraphRequest(
        node=node, format=fmt, direction=direction, options=ls.TraversalOptions(**options)
    )
    return lineage.ExportLineageGraph(req)


def test_json_export_is_the_traversal(lineage, fresh: ClassifierPipeline) -> None:
    doc = json.loads(export(lineage, fresh.model_v1, ls.GRAPH_FORMAT_JSON).text)
    assert doc["root"] == fresh.model_v1 and doc["truncated"] is False
    assert {n["name"] for n in doc["nodes"]} == {
        fresh.model_v1,
        fresh.train_2,
        fresh.clean,
        fresh.preprocess,
        fresh.raw,
        fresh.log_raw,
    }
    edges = {(e["source"], e["target"], e["kind"]) for e in doc["edges"]}
    assert (fresh.train_2, fresh.model_v1, "produced") in edges and (
        fresh.raw,
        fresh.preprocess,
        "used",
    ) in edges
    assert all(e["create_time"] for e in doc["edges"])
    assert len(doc["edges"]) == 5


def test_dot_export_parses_and_has_every_node_and_edge(lineage, fresh: ClassifierPipeline) -> None:
    resp = export(lineage, fresh.clean, ls.GRAPH_FORMAT_DOT, ls.LINEAGE_DIRECTION_BOTH, max_depth=10)
    (graph,) = pydot.graph_from_dot_data(resp.text)
    tooltips = {n.get_tooltip().strip('"') for n in graph.get_nodes() if n.get_tooltip()}
    expected = {fresh.clean, fresh.preprocess, fresh.raw, fresh.log_raw, fresh.train_1, fresh.train_2}
    assert expected | {fresh.model_v0, fresh.model_v1, fresh.eval_1, fresh.eval_2} == tooltips
    assert len(graph.get_edges()) == 9 and not resp.truncated


def test_mermaid_export_is_well_formed(lineage, fresh: ClassifierPipeline) -> None:
    resp = export(lineage, fresh.model_v1, ls.GRAPH_FORMAT_MERMAID, max_depth=2)
    lines = resp.text.splitlines()
    assert lines[0] == "flowchart LR" and resp.truncated
    declared = set()
    for line in lines[1:]:
        node = re.fullmatch(r'  (n\d+)(\["[^"]*"\]|\(\["[^"]*"\]\))', line)
        edge = re.fullmatch(r"  (n\d+) -->\|(produced|used)\| (n\d+)", line)
        other = re.fullmatch(r"  (%% .*|classDef \w+ [\w:#,-]+|class [n\d,]+ \w+)", line)
        assert node or edge or other, line
        if node:
            declared.add(node.group(1))
        if edge:
            assert {edge.group(1), edge.group(3)} <= declared
    assert len(declared) == 3


def test_labels_are_escaped_in_dot_and_mermaid(lineage, builder: GraphBuilder) -> None:
    nasty = 'say "hi" \\ <b>#1</b> `x` | a\nb'
    run = builder.run("nasty-run", "train", display_name=nasty)
    v = builder.version("nasty", "model", 0, producer=run)
    dot = export(lineage, v, ls.GRAPH_FORMAT_DOT).text
    (graph,) = pydot.graph_from_dot_data(dot)
    labels = [n.get_label() for n in graph.get_nodes() if n.get_label()]
    assert '"say \\"hi\\" \\\\ <b>#1</b> `x` | a\\nb\\ntrain"' in labels
    mermaid = export(lineage, v, ls.GRAPH_FORMAT_MERMAID).text
    assert "say #quot;hi#quot; \\ #lt;b#gt;#35;1#lt;/b#gt; #96;x#96; #124; a<br/>b<br/>train" in mermaid
    assert all(line.count('"') in (0, 2) for line in mermaid.splitlines())


@pytest.mark.parametrize(
    ("fmt", "direction", "field", "reason"),
    [
        (0, ls.LINEAGE_DIRECTION_UPSTREAM, "format", Reason.FIELD_REQUIRED),
        (ls.GRAPH_FORMAT_DOT, 0, "direction", Reason.FIELD_REQUIRED),
        (99, ls.LINEAGE_DIRECTION_UPSTREAM, "format", Reason.OUT_OF_RANGE),
    ],
)
def test_export_needs_a_format_and_a_direction(lineage, pipe, fmt, direction, field, reason) -> None:
    err = error(lambda: export(lineage, pipe.raw, fmt, direction))
    assert (err.code, err.reason, err.field) == (grpc.StatusCode.INVALID_ARGUMENT, reason, field)


# --- retroactive links ---


def link(lineage, run: str, version: str, kind: int) -> ls.CreateLineageEdgeResponse:
    return lineage.CreateLineageEdge(ls.CreateLineageEdgeRequest(run=run, version=version, kind=kind))


def audit_count(server, action: str) -> int:
    async def go() -> int:
        async with server.deps.pool.acquire() as conn:
            return await conn.fetchval("SELECT count(*) FROM audit_events WHERE action = $1", action)

    return server.run(go())


def test_linking_an_artifact_to_a_finished_run_shows_in_the_graph(server, lineage, builder, pipe) -> None:
    """An artifact linked to a run after the run finished appears in its lineage like any other edge."""
    report = builder.version("eval-report", "report", 0)
    before = audit_count(server, "lineage.link")
    resp = link(
        lineage, pipe.eval_1, "ml-research/text-classifier/eval-report:latest", lineage_pb2.EDGE_KIND_PRODUCED
    )
    assert not resp.existed and (resp.edge.source, resp.edge.target) == (pipe.eval_1, report)
    graph = lineage.TraceUpstream(ls.TraceUpstreamRequest(node=report)).graph
    assert [n.name for n in graph.nodes][:3] == [report, pipe.eval_1, pipe.model_v1]
    again = link(lineage, pipe.eval_1, report, lineage_pb2.EDGE_KIND_PRODUCED)
    assert again.existed and again.edge.create_time == resp.edge.create_time
    assert audit_count(server, "lineage.link") == before + 1

    async def producer() -> int:
        async with server.deps.pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT producer_run_id FROM artifact_versions WHERE id = $1", builder.ids[report]
            )

    assert server.run(producer()) == builder.ids[pipe.eval_1]


def test_linking_a_use_is_idempotent(lineage, builder, pipe) -> None:
    first = link(lineage, pipe.eval_2, pipe.clean, lineage_pb2.EDGE_KIND_USED)
    second = link(lineage, pipe.eval_2, pipe.clean, lineage_pb2.EDGE_KIND_USED)
    assert (first.existed, second.existed) == (False, True)
    assert (first.edge.source, first.edge.target) == (pipe.clean, pipe.eval_2)
    graph = lineage.TraceDownstream(ls.TraceDownstreamRequest(node=pipe.clean)).graph
    assert sum(1 for e in graph.edges if (e.source, e.target) == (pipe.clean, pipe.eval_2)) == 1


def test_a_version_has_one_producer(lineage, pipe) -> None:
    err = error(lambda: link(lineage, pipe.train_1, pipe.model_v1, lineage_pb2.EDGE_KIND_PRODUCED))
    assert (err.code, err.reason) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.PRODUCER_CONFLICT)
    assert link(lineage, pipe.train_2, pipe.model_v1, lineage_pb2.EDGE_KIND_PRODUCED).existed


def test_deleted_versions_take_no_new_edges(lineage, builder, pipe) -> None:
    gone = builder.version("gone", "model", 0, state=3)
    err = error(lambda: link(lineage, pipe.eval_1, gone, lineage_pb2.EDGE_KIND_USED))
    assert (err.code, err.reason) == (grpc.StatusCode.FAILED_PRECONDITION, Reason.VERSION_DELETED)


@pytest.mark.parametrize(
    ("run", "version", "kind", "code", "field_or_reason"),
    [
        ("", "v", 1, grpc.StatusCode.INVALID_ARGUMENT, Reason.FIELD_REQUIRED),
        (f"{P}/runs/train-1", "", 1, grpc.StatusCode.INVALID_ARGUMENT, Reason.FIELD_REQUIRED),
        (
            f"{P}/runs/train-1",
            f"{P}/artifacts/bert-classifier/versions/v0",
            0,
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.FIELD_REQUIRED,
        ),
        (
            f"{P}/runs/train-1",
            f"{P}/artifacts/bert-classifier/versions/v0",
            7,
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.OUT_OF_RANGE,
        ),
        (f"{P}/runs/train-1", f"{P}/runs/train-2", 2, grpc.StatusCode.INVALID_ARGUMENT, Reason.INVALID_NAME),
        (
            f"{P}/runs/ghost",
            f"{P}/artifacts/bert-classifier/versions/v0",
            2,
            grpc.StatusCode.NOT_FOUND,
            Reason.NOT_FOUND,
        ),
        (
            f"{P}/runs/train-1",
            f"{P}/artifacts/bert-classifier/versions/v9",
            2,
            grpc.StatusCode.NOT_FOUND,
            Reason.NOT_FOUND,
        ),
    ],
)
def test_link_bad_input(lineage, pipe, run, version, kind, code, field_or_reason) -> None:
    err = error(lambda: link(lineage, run, version, kind))
    assert (err.code, err.reason) == (code, field_or_reason)


def test_racing_producers_one_wins(server, builder: GraphBuilder) -> None:
    """Two links racing to become a version's producer: the version row lock lets exactly one win."""
    runs = [builder.run(f"racer-{i}", "train") for i in range(6)]
    target = builder.version("raced", "model", 0)

    def attempt(run: str) -> str:
        with server.client() as c:
            try:
                link(c.lineage, run, target, lineage_pb2.EDGE_KIND_PRODUCED)
                return "ok"
            except StrataError as e:
                return e.reason

    with ThreadPoolExecutor(len(runs)) as pool:
        outcomes = sorted(pool.map(attempt, runs))
    assert outcomes == [*[Reason.PRODUCER_CONFLICT] * 5, "ok"]


class ReadOnlyOn(OpenLocalAuthorizer):
    """Open-local, except that the caller may only read one project (stands in for the IAM check)."""

    def __init__(self, project: str) -> None:
        super().__init__()
        self.project = project

    async def require(self, principal, access, resource) -> None:
        if access is Access.PROJECT_WRITE and resource == self.project:
            raise PermissionDenied(Reason.PERMISSION_DENIED, "read-only")


def test_claiming_to_produce_a_version_needs_write_on_its_project(server, lineage, builder, pipe) -> None:
    theirs = builder.version("their-model", "model", 0, entity="other-team", project="shared")
    original = server.deps.authorizer
    server.deps.authorizer = ReadOnlyOn("entities/other-team/projects/shared")
    try:
        err = error(lambda: link(lineage, pipe.train_1, theirs, lineage_pb2.EDGE_KIND_PRODUCED))
        assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, Reason.PERMISSION_DENIED)
        assert not link(lineage, pipe.train_1, theirs, lineage_pb2.EDGE_KIND_USED).existed  # using is reading
    finally:
        server.deps.authorizer = original
