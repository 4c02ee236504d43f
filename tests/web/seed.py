"""The article's workflow as data for the console tests, logged through the public SDK on a keys-mode
server: a team project with a protected `production` alias, raw -> clean dataset, an lr sweep of train
runs with a known number of loss points, an eval run using model:staging, a run full of hostile text,
and another team's private project for the outsider checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import strata
from strata.iam.v1 import iam_pb2

from tests.fixtures.iam import act_as, write_files

ENTITY, PROJECT = "ml-research", "text-classifier"
LRS = (1e-3, 3e-4)
RUNS_PER_LR = 2
LOSS_STEPS = 40
PWN = "window.__pwned=1"
HOSTILE = {
    "name": f"<script>{PWN}</script>",
    "tag": f'"><img src=x onerror="{PWN}">',
    "notes": f'<img src=x onerror="{PWN}"><script>{PWN}</script>',
    "config": f'"onerror="{PWN}"<script>{PWN}</script>',
    "metric": "img src:x onerror (alert)",  # metric keys allow only [A-Za-z0-9_./:() -]
}


@dataclass
class Seeded:
    alice: str  # team admin
    bob: str  # team member
    carol: str  # outsider (her own team, private project)
    train_runs: list[str]
    hostile_run: str
    model_versions: int


def principals(keys_server) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    alice, bob, carol = keys_server.user("alice"), keys_server.user("bob"), keys_server.user("carol")
    keys_server.team(ENTITY, admin=alice, members={"bob": iam_pb2.ROLE_MEMBER})
    project = keys_server.project(ENTITY, PROJECT, as_key=alice)
    keys_server.protect_aliases(project, ["production"], as_key=alice)
    keys_server.team("other-team", admin=carol)
    keys_server.project("other-team", "secret", as_key=carol)
    return alice, bob, carol


def datasets(tmp: Path) -> None:
    raw_dir = write_files(tmp / "raw", {f"tickets/{i}.txt": f"ticket {i} " * 20 for i in range(5)})
    with strata.init(project=PROJECT, entity=ENTITY, job_type="preprocess", name="log-raw") as run:
        raw = strata.Artifact("support-tickets", type="dataset", metadata={"samples": 5})
        raw.add_dir(str(raw_dir))
        run.log_artifact(raw)
    with strata.init(project=PROJECT, entity=ENTITY, job_type="preprocess", name="clean") as run:
        run.use_artifact("support-tickets:v0")
        clean = strata.Artifact("support-tickets-clean", type="dataset", metadata={"samples": 4})
        clean.add_dir(str(write_files(tmp / "clean", {"train.jsonl": "a\nb\nc\nd\n"})))
        run.log_artifact(clean)


def training(tmp: Path) -> list[str]:
    ids = []
    for i, lr in enumerate([lr for lr in LRS for _ in range(RUNS_PER_LR)]):
        config = {"lr": lr, "arch": "bert", "seed": i}
        with strata.init(
            project=PROJECT, entity=ENTITY, job_type="train", group="lr-sweep", config=config, tags=["bert"]
        ) as run:
            run.use_artifact("support-tickets-clean:latest")
            for step in range(LOSS_STEPS):
                run.log({"train/loss": 1.0 / (1 + step * lr * 100) + 0.01 * i, "val/f1": 0.5 + step / 100})
            ckpt = strata.Artifact("bert-classifier", type="model", metadata={"lr": lr, "val_loss": 0.3})
            ckpt.add_file(str(write_files(tmp / f"m{i}", {"model.pth": f"weights {i}"}) / "model.pth"))
            run.log_artifact(ckpt, aliases=["staging"] if i == 0 else None)
            ids.append(run.id)
    with strata.init(project=PROJECT, entity=ENTITY, job_type="eval", name="eval-staging") as run:
        run.use_artifact("bert-classifier:staging")
        run.log({"test/f1": 0.9})
    return ids


def hostile() -> str:
    with strata.init(
        project=PROJECT,
        entity=ENTITY,
        job_type="debug",
        name=HOSTILE["name"],
        tags=[HOSTILE["tag"]],
        notes=HOSTILE["notes"],
        config={"payload": HOSTILE["config"], HOSTILE["config"]: 1},
    ) as run:
        for step in range(5):
            run.log({HOSTILE["metric"]: float(step)})
        return run.id


def seed(keys_server, tmp: Path, monkeypatch) -> Seeded:  # type: ignore[no-untyped-def]
    alice, bob, carol = principals(keys_server)
    act_as(monkeypatch, keys_server.addr, alice)
    datasets(tmp)
    train = training(tmp)
    bad = hostile()
    return Seeded(alice, bob, carol, train, bad, model_versions=len(train))
