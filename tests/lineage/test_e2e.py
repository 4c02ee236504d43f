"""A text-classifier pipeline built through the SDK (strata.init + log_artifact / use_artifact), so the
edges come from the registry's own writes, then traced, impact-analysed and diffed (down to the
producing runs' configs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import strata
from strata.sdk import lineage

E, P = "ml-research", "lineage-e2e"
BASE = f"entities/{E}/projects/{P}"


def version(name: str, n: int) -> str:
    return f"{BASE}/artifacts/{name}/versions/v{n}"


def artifact(tmp: Path, name: str, type_: str, content: str, **metadata: object) -> object:
    path = tmp / f"{name}-{content}.txt"
    path.write_text(content)
    art = strata.Artifact(name, type=type_, metadata=metadata)
    art.add_file(str(path))
    return art


def step(
    job_type: str,
    uses: list[str],
    logs: list[object],
    aliases: list[str] | None = None,
    config: dict[str, object] | None = None,
) -> str:
    run = strata.init(project=P, entity=E, job_type=job_type, config=config)  # addr: $STRATA_ADDR
    for ref in uses:
        run.use_artifact(ref)
    for art in logs:
        run.log_artifact(art, aliases=aliases)
    run.finish()
    return run.resource_name


@pytest.fixture(scope="module")
def pipeline(server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("e2e")
    mp.setenv("STRATA_ADDR", server.addr)
    mp.setenv("STRATA_SPOOL_DIR", str(tmp / "spool"))  # never a developer's spool
    try:
        runs = {
            "log_raw": step(
                "upload", [], [artifact(tmp, "support-tickets", "dataset", "raw", samples=50000)]
            ),
            "preprocess": step(
                "preprocess",
                ["support-tickets:v0", "support-tickets:v0"],  # used twice: still one edge
                [artifact(tmp, "support-tickets-clean", "dataset", "clean", samples=48500)],
            ),
            "train_1": step(
                "train",
                ["support-tickets-clean:latest"],
                [artifact(tmp, "bert-classifier", "model", "w0")],
                config={"optimizer": {"name": "adamw", "lr": 1e-4}, "epochs": 3, "fp16": True},
            ),
            "train_2": step(
                "train",
                ["support-tickets-clean:v0"],
                [artifact(tmp, "bert-classifier", "model", "w1", f1_score=0.89)],
                aliases=["staging"],
                config={"optimizer": {"name": "adamw", "lr": 3e-4}, "epochs": 3.0, "fp16": True, "seed": 7},
            ),
            "eval_1": step("eval", ["bert-classifier:staging"], []),
            "eval_2": step("eval", ["bert-classifier:v0"], []),
        }
    finally:
        mp.undo()
    return runs


def test_sdk_logged_pipeline_traces_exactly_upstream_of_model_v1(server, pipeline: dict[str, str]) -> None:
    with server.client() as client:
        g = lineage.upstream(client, f"{E}/{P}/bert-classifier:v1")
    assert {n.name: n.depth for n in g.nodes} == {
        version("bert-classifier", 1): 0,
        pipeline["train_2"]: 1,
        version("support-tickets-clean", 0): 2,
        pipeline["preprocess"]: 3,
        version("support-tickets", 0): 4,
        pipeline["log_raw"]: 5,
    }
    assert len(g.edges) == 5 and not g.truncated


def test_sdk_logged_pipeline_impact_of_raw_v0_reaches_everything(server, pipeline: dict[str, str]) -> None:
    with server.client() as client:
        hit = lineage.impact(client, f"{E}/{P}/support-tickets:v0")
    assert set(hit.affected_versions) == {
        version("support-tickets-clean", 0),
        version("bert-classifier", 0),
        version("bert-classifier", 1),
    }
    assert set(hit.affected_runs) == {
        pipeline[k] for k in ("preprocess", "train_1", "train_2", "eval_1", "eval_2")
    }


def test_sdk_logged_model_versions_diff_by_file_and_metadata(server, pipeline: dict[str, str]) -> None:
    with server.client() as client:
        d = lineage.diff(client, f"{E}/{P}/bert-classifier:v0", f"{E}/{P}/bert-classifier:v1")
    assert d.inputs == []  # same clean dataset on both sides
    assert "f1_score" in {m.key for m in d.metadata}
    assert d.files_added + d.files_removed + d.files_changed >= 1
    # ...so the answer to "why did it change" is in the producing runs' configs (3 == 3.0 in JSON)
    assert (d.old_producer, d.new_producer) == (pipeline["train_1"], pipeline["train_2"])
    assert [(c.key, c.old, c.new) for c in d.config] == [
        ("optimizer.lr", 1e-4, 3e-4),
        ("seed", lineage.MetadataChange.ABSENT, 7),
    ]
    assert "  ~ optimizer.lr: 0.0001 -> 0.0003" in d.to_text()
