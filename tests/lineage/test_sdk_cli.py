"""The lineage SDK (strata.sdk.lineage, strata.Lineage) and CLI (`strata lineage ...`) against a real
server: relative references completed from defaults, plain dataclass results, text/JSON/DOT/Mermaid
output, diff and link, and errors surfacing as exit codes."""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass

import pydot
import pytest
import strata
from strata.cli.main import main as cli
from strata.errors import Reason, StrataError
from strata.sdk import lineage

from tests.fixtures.lineage import (
    ClassifierPipeline,
    GraphBuilder,
    TokenizerSwap,
)

WHERE = {"entity": "ml-research", "project": "text-classifier"}
CLI_WHERE = ["--entity", "ml-research", "--project", "text-classifier"]


@pytest.fixture(scope="module")
def client(server):
    with server.client() as c:
        yield c


def test_upstream_returns_plain_objects_for_a_relative_ref(client, pipe: ClassifierPipeline) -> None:
    g = lineage.upstream(client, "bert-classifier:v1", **WHERE)
    assert isinstance(g, lineage.Graph) and g.root == pipe.model_v1 and len(g) == 6
    assert [n.name for n in g.runs] == [pipe.train_2, pipe.preprocess, pipe.log_raw]
    assert g.node(pipe.train_2).job_type == "train" and g.node(pipe.train_2).is_run
    assert g.inputs_of(pipe.model_v1) == [pipe.train_2] and g.outputs_of(pipe.clean) == [pipe.train_2]
    assert pipe.raw in g and "nope" not in g
    edge = next(e for e in g.edges if e.target == pipe.model_v1)
    assert edge.kind == "produced" and edge.create_time is not None and edge.create_time.tzinfo is not None
    doc = g.to_dict()
    assert doc["root"] == pipe.model_v1 and len(doc["edges"]) == 5 and json.dumps(doc)


def test_text_rendering_is_a_tree_from_the_start_node(client, pipe: ClassifierPipeline) -> None:
    text = lineage.upstream(client, "text-classifier/bert-classifier:staging", entity="ml-research").to_text()
    lines = text.splitlines()
    assert lines[0].startswith("bert-classifier:v1  [model]")
    assert lines[1].startswith("└─ produced by train-2  [train run]")
    assert "used support-tickets-clean:v0  [dataset]" in lines[2]
    assert len(lines) == 6


def test_defaults_come_from_the_environment_and_the_principal(
    server, client, monkeypatch, pipe: ClassifierPipeline
) -> None:
    me = GraphBuilder(server, entity=getpass.getuser(), project="scratch")
    run = me.run("mine", "train")
    version = me.version("notes", "dataset", 0, producer=run)
    monkeypatch.setenv("STRATA_PROJECT", "scratch")
    monkeypatch.delenv("STRATA_ENTITY", raising=False)
    assert lineage.upstream(client, "notes:v0").root == version  # entity: the caller's own
    monkeypatch.setenv("STRATA_ENTITY", "ml-research")
    monkeypatch.setenv("STRATA_PROJECT", "text-classifier")
    assert lineage.upstream(client, "bert-classifier:v0", depth=1).root == pipe.model_v0


def test_impact_diff_and_export(client, pipe: ClassifierPipeline, swap: TokenizerSwap) -> None:
    hit = lineage.impact(client, "support-tickets:v0", **WHERE)
    assert {pipe.eval_1, pipe.eval_2} <= set(hit.affected_runs) and pipe.model_v1 in hit.affected_versions
    d = lineage.diff(client, "intent-model:v11", "intent-model:v12", **WHERE)
    assert [c.new_version for c in d.origins] == [swap.tokenizer_v2]
    assert {f.change for f in d.files} == {"added", "removed", "modified"}
    assert d.metadata[0].key == "f1_score" and (d.metadata[0].old, d.metadata[0].new) == (0.89, 0.84)
    assert next(m for m in d.metadata if m.key == "notes").new is lineage.MetadataChange.ABSENT
    assert "tokenizer  v1 -> v2   <- origin" in d.to_text()
    dot = lineage.export(client, "bert-classifier:v1", format="dot", **WHERE)
    assert len(pydot.graph_from_dot_data(dot)[0].get_nodes()) >= 6
    assert lineage.export(
        client, "bert-classifier:v1", format="mermaid", direction="both", **WHERE
    ).startswith("flowchart LR")
    with pytest.raises(ValueError):
        lineage.export(client, "bert-classifier:v1", format="png", **WHERE)


def test_link_accepts_run_paths_and_is_idempotent(client, builder: GraphBuilder, pipe) -> None:
    builder.version("sdk-linked", "report", 0)
    first = lineage.link(
        client, "ml-research/text-classifier/eval-1", "sdk-linked:v0", kind="produced", **WHERE
    )
    again = lineage.link(client, "eval-1", "sdk-linked:v0", kind="produced", **WHERE)
    assert (first.existed, again.existed) == (False, True)
    assert first.edge.source == pipe.eval_1 and first.edge.kind == "produced"
    with pytest.raises(ValueError):
        lineage.link(client, "eval-1", "sdk-linked:v0", kind="consumed", **WHERE)


@dataclass
class FakeRun:
    """The shape the SDK relies on: a Run has .client and .name (its resource name)."""

    client: object
    name: str


def test_lineage_class_and_objects_holding_a_client(server, client, pipe: ClassifierPipeline) -> None:
    lin = strata.Lineage(addr=server.addr, **WHERE)
    try:
        assert lin.upstream("bert-classifier:v1").root == pipe.model_v1
        assert lin.downstream("support-tickets:v0", depth=1).nodes[1].name == pipe.preprocess
    finally:
        lin.client.close()
    run = FakeRun(client, pipe.train_1)
    assert lineage.upstream(run, run, depth=1).root == pipe.train_1  # a Run as the node, and as the client
    assert strata.Lineage(run).impact(pipe.model_v0).affected_runs == [pipe.eval_2]
    with pytest.raises(TypeError):
        lineage.upstream(object(), "x")


def test_sdk_errors_keep_code_and_reason(client) -> None:
    with pytest.raises(StrataError) as info:
        lineage.upstream(client, "bert-classifier:v99", **WHERE)
    assert info.value.reason == Reason.NOT_FOUND
    with pytest.raises(StrataError) as info:
        lineage.upstream(client, "bert-classifier:v1", depth=51, **WHERE)
    assert info.value.reason == Reason.OUT_OF_RANGE


# --- CLI ---


def run_cli(server, capsys, *args: str) -> tuple[int, str, str]:
    code = cli(["--addr", server.addr, "lineage", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_upstream_text_and_dot(server, capsys, pipe: ClassifierPipeline) -> None:
    code, out, _ = run_cli(server, capsys, "bert-classifier:v1", "--upstream", *CLI_WHERE)
    assert code == 0 and out.splitlines()[0].startswith("bert-classifier:v1") and "train-2" in out
    code, out, _ = run_cli(server, capsys, "bert-classifier:v1", "--upstream", "--format", "dot", *CLI_WHERE)
    assert code == 0 and len(pydot.graph_from_dot_data(out)[0].get_edges()) == 5
    code, out, _ = run_cli(server, capsys, pipe.clean, "--both", "--depth", "1")
    assert code == 0 and "preprocess-1" in out and "train-1" in out


def test_cli_downstream_json_and_mermaid_with_filters(server, capsys, pipe: ClassifierPipeline) -> None:
    args = ["support-tickets:v0", "--downstream", "--depth", "10", "--job-type", "preprocess", *CLI_WHERE]
    code, out, _ = run_cli(server, capsys, *args, "--format", "json")
    assert code == 0 and {n["name"] for n in json.loads(out)["nodes"]} == {
        pipe.raw,
        pipe.preprocess,
        pipe.clean,
    }
    code, out, _ = run_cli(server, capsys, *args, "--format", "mermaid")
    assert code == 0 and out.startswith("flowchart LR") and out.count("-->") == 2


def test_cli_impact_in_every_format(server, capsys, pipe: ClassifierPipeline) -> None:
    code, out, _ = run_cli(server, capsys, "support-tickets:v0", "--impact", *CLI_WHERE)
    assert code == 0 and "runs downstream" in out.splitlines()[-1] and "eval-1" in out
    code, out, _ = run_cli(server, capsys, "support-tickets:v0", "--impact", "--format", "json", *CLI_WHERE)
    doc = json.loads(out)
    assert pipe.eval_2 in doc["affected_runs"] and doc["graph"]["root"] == pipe.raw
    code, out, _ = run_cli(server, capsys, "support-tickets:v0", "--impact", "--format", "dot", *CLI_WHERE)
    assert code == 0 and pydot.graph_from_dot_data(out)


def test_cli_diff_names_the_tokenizer(server, capsys, swap: TokenizerSwap) -> None:
    code, out, _ = run_cli(server, capsys, "diff", "intent-model:v11", "intent-model:v12", *CLI_WHERE)
    assert code == 0 and "tokenizer  v1 -> v2   <- origin" in out and "M model.pth" in out
    code, out, _ = run_cli(
        server, capsys, "diff", "intent-model:v11", "intent-model:v12", "--format", "json", *CLI_WHERE
    )
    assert json.loads(out)["inputs"][1]["new_version"] == swap.tokenizer_v2


def test_cli_link(server, capsys, builder: GraphBuilder, pipe) -> None:
    builder.version("cli-linked", "report", 0)
    code, out, _ = run_cli(server, capsys, "link", pipe.eval_2, "cli-linked:v0", "--produced", *CLI_WHERE)
    assert code == 0 and out.startswith("recorded:")
    code, out, _ = run_cli(server, capsys, "link", pipe.eval_2, "cli-linked:v0", "--produced", *CLI_WHERE)
    assert code == 0 and out.startswith("already recorded:")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["bert-classifier:v99", *CLI_WHERE], 1),  # NOT_FOUND from the server
        (["bert-classifier:v1", "--depth", "99", *CLI_WHERE], 1),  # OUT_OF_RANGE
        (["diff", "only-one"], 2),
        (["link", "run", "version"], 2),  # needs --produced or --used
        (["a:v1", "b:v1"], 2),
        (["diff", "a:v1", "a:v2", "--format", "dot"], 2),
    ],
)
def test_cli_errors_exit_non_zero_with_a_message(server, capsys, args: list[str], code: int) -> None:
    got, _, err = run_cli(server, capsys, *args)
    assert got == code and err.startswith("error:")
