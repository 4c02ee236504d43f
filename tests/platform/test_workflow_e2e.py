"""A team's ML workflow, end to end through the public SDK, on a keys-mode server with a team:

1. preprocess: log the raw dataset, preprocess it, log the clean dataset (lineage links them);
2. train: three runs (an lr sweep) log metrics and checkpoints with metadata every other epoch;
3. eval: a CI service account uses `model:staging`, evaluates, logs metrics to a job_type="eval" run;
4. deploy: moving the protected `production` alias is refused to CI and done by a team admin;
5. report: top runs by validation metric, grouped by a config key, history into pandas;
plus the audit trail and lineage that answer "who promoted this, and what was it trained on?".
"""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
import strata
from strata.errors import Reason, StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam

from tests.fixtures.iam import act_as, write_files

ENTITY, PROJECT = "ml-research", "text-classifier"
LRS = (1e-4, 3e-4, 1e-3)


def test_a_team_workflow_from_dataset_to_production_end_to_end(
    keys_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = keys_server.user("alice")
    bob = keys_server.user("bob")
    keys_server.team(ENTITY, admin=alice, members={"bob": iam_pb2.ROLE_MEMBER})
    project = keys_server.project(ENTITY, PROJECT, as_key=alice)
    keys_server.protect_aliases(project, ["production"], as_key=alice)
    ci = keys_server.service_account(ENTITY, "ci-prod", as_key=alice)
    addr = keys_server.addr

    # 1. preprocess (bob, a member)
    act_as(monkeypatch, addr, bob)
    raw_dir = write_files(tmp_path / "raw", {f"tickets/{i}.txt": f"ticket {i} " * 50 for i in range(20)})
    with strata.init(project=PROJECT, entity=ENTITY, job_type="preprocess") as run:
        raw = strata.Artifact("support-tickets", type="dataset", metadata={"samples": 20})
        raw.add_dir(str(raw_dir))
        run.log_artifact(raw)
    with strata.init(project=PROJECT, entity=ENTITY, job_type="preprocess") as run:
        source = run.use_artifact("support-tickets:v0")
        got = Path(source.download(root=str(tmp_path / "dl-raw")))
        texts = sorted(p.read_text().strip() for p in got.rglob("*.txt"))
        clean_dir = write_files(tmp_path / "clean", {"train.jsonl": "\n".join(sorted(set(texts)))})
        clean = strata.Artifact(
            "support-tickets-clean", type="dataset", metadata={"samples": len(set(texts))}
        )
        clean.add_dir(str(clean_dir))
        run.log_artifact(clean)

    # 2. train: an lr sweep; checkpoints every other epoch with val loss, lr and git SHA
    final_f1 = {}
    for lr in LRS:
        config = {"lr": lr, "arch": "bert", "batch_size": 32}
        with strata.init(
            project=PROJECT,
            entity=ENTITY,
            job_type="train",
            group="ablation",
            tags=["bert"],
            notes="lr sweep",
            config=config,
        ) as run:
            run.use_artifact("support-tickets-clean:latest")
            for epoch in range(4):
                f1 = 0.5 + epoch * 0.05 + lr * 100
                run.log({"train/loss": 1.0 / (epoch + 1), "val/loss": 1.2 / (epoch + 1), "val/f1": f1})
                if epoch % 2 == 1:
                    ckpt = strata.Artifact(
                        "bert-classifier",
                        type="model",
                        metadata={"val_loss": 1.2 / (epoch + 1), "lr": lr, "git_sha": "abc123"},
                    )
                    with ckpt.new_file("model.pth") as f:
                        f.write(f"weights lr={lr} epoch={epoch}")
                    run.log_artifact(ckpt, aliases=["staging"] if lr == 1e-3 and epoch == 3 else None)
            final_f1[lr] = f1
    best_lr = max(final_f1, key=final_f1.get)

    # 3. eval, as the CI service account
    act_as(monkeypatch, addr, ci)
    with strata.init(project=PROJECT, entity=ENTITY, job_type="eval") as run:
        model = run.use_artifact(f"{ENTITY}/{PROJECT}/bert-classifier:staging")
        weights = (Path(model.download(root=str(tmp_path / "dl-model"))) / "model.pth").read_text()
        assert weights == "weights lr=0.001 epoch=3" and model.metadata["lr"] == 1e-3
        run.log({"test/f1": 0.91})
    staging_version = model.version

    # 4. deploy: production is protected; CI (a member) may not move it, the team admin may
    with pytest.raises(StrataError) as refused:
        model.aliases.append("production")
        model.save()
    assert (refused.value.code, refused.value.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        Reason.PROTECTED_ALIAS,
    )
    act_as(monkeypatch, addr, alice)
    api = strata.Api()
    promoted = api.artifact(f"{ENTITY}/{PROJECT}/bert-classifier:{staging_version}")
    promoted.aliases.append("production")
    promoted.save()
    assert api.artifact(f"{ENTITY}/{PROJECT}/bert-classifier:production").version == staging_version

    # 5. report: top runs by val/f1 among finished training runs with lr > 1e-4, grouped by lr
    runs = api.runs(
        f"{ENTITY}/{PROJECT}",
        filters={"state": "finished", "job_type": "train", "config.lr": {"$gt": 1e-4}},
        order="-summary.val/f1",
    )
    assert len(runs) == 2
    top = next(iter(runs))
    assert top.config["lr"] == best_lr and top.config.get("missing", "default") == "default"
    history = top.history(keys=["train/loss", "val/loss"], samples=1000)
    assert list(history["_step"]) == [0, 1, 2, 3] and history["train/loss"].iloc[0] == 1.0
    groups = {
        g["value"]: g
        for g in api.group_runs(
            f"{ENTITY}/{PROJECT}", "config.lr", "summary.val/f1", filters={"job_type": "train"}
        )
    }
    assert set(groups) == set(LRS) and all(g["runs"] == 1 for g in groups.values())
    frame = runs.to_dataframe()
    assert len(frame) == 2

    # the trail: who promoted, which pipeline evaluated, and what production was trained on
    with keys_server.client(alice) as c:
        events = c.iam.ListAuditEvents(
            iam.ListAuditEventsRequest(filter=iam.AuditFilter(project=project, actions=["alias.set"]))
        ).events
        moves = [e for e in events if e.target.endswith(":production")]
        assert [e.actor.name for e in moves] == ["alice"]
        assert json.loads(moves[0].after_json)["version"].endswith(f"/versions/{staging_version}")
        eval_runs = [r for r in api.runs(f"{ENTITY}/{PROJECT}", filters={"job_type": "eval"})]
        assert [r.proto.author.name for r in eval_runs] == [f"{ENTITY}/ci-prod"]
    graph = strata.Lineage(api).upstream(f"{ENTITY}/{PROJECT}/bert-classifier:production", depth=10)
    labels = {n.label for n in graph.nodes}
    assert {"support-tickets:v0", "support-tickets-clean:v0"} <= labels
    assert json.loads(json.dumps(promoted.metadata))["git_sha"] == "abc123"


def test_another_team_cannot_read_or_claim_a_blob_by_its_digest(
    keys_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cross-tenant, in keys mode: knowing team A's digest and version name grants team B nothing."""
    from strata.registry.v1 import artifact_pb2
    from strata.registry.v1 import registry_service_pb2 as reg

    carol, dave = keys_server.user("carol"), keys_server.user("dave")
    keys_server.team("team-a", admin=carol)
    keys_server.team("team-b", admin=dave)
    act_as(monkeypatch, keys_server.addr, carol)
    secret = write_files(tmp_path / "secret", {"weights.bin": "private weights " * 200_000})
    with strata.init(project="private", entity="team-a", job_type="train") as run:
        art = strata.Artifact("secret-model", type="model")
        art.add_dir(str(secret))
        logged = run.log_artifact(art)
    entry = next(iter(logged.files())).entry
    with keys_server.client(dave) as b:
        with pytest.raises(StrataError) as read:
            list(
                b.registry.ReadBlob(
                    reg.ReadBlobRequest(version=logged.resource_name, sha256=entry.blob.sha256)
                )
            )
        assert read.value.code == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(StrataError) as batch_read:
            b.registry.BatchReadBlobs(
                reg.BatchReadBlobsRequest(version=logged.resource_name, sha256s=[entry.blob.sha256])
            )
        assert batch_read.value.code == grpc.StatusCode.PERMISSION_DENIED
        draft = b.registry.CreateArtifactVersion(
            reg.CreateArtifactVersionRequest(
                parent="entities/team-b/projects/stolen",
                artifact="copy",
                type="model",
                entries=[artifact_pb2.ManifestEntry(path="weights.bin", blob=entry.blob)],
            )
        ).version
        with pytest.raises(StrataError) as claim:
            b.registry.CommitArtifactVersion(reg.CommitArtifactVersionRequest(draft=draft.name))
        assert (claim.value.code, claim.value.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            Reason.BLOB_MISSING,
        )
        with pytest.raises(StrataError) as through_draft:
            list(b.registry.ReadBlob(reg.ReadBlobRequest(version=draft.name, sha256=entry.blob.sha256)))
        assert through_draft.value.code == grpc.StatusCode.NOT_FOUND
        with pytest.raises(StrataError) as batch_through_draft:
            b.registry.BatchReadBlobs(
                reg.BatchReadBlobsRequest(version=draft.name, sha256s=[entry.blob.sha256])
            )
        assert batch_through_draft.value.code == grpc.StatusCode.NOT_FOUND
