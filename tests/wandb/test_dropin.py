"""W&B habits with `import strata as wandb`: a quickstart-style training script unchanged but for the
import, and one test per gap or bug that kept W&B code from running (each fails without its fix)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import warnings
from pathlib import Path

import grpc
import pytest
import strata
import strata as wandb
from strata.errors import Reason, StrataError
from strata.ingest.v1 import ingest_service_pb2 as ipb

from tests.fixtures.scripts import run_cli, run_script
from tests.fixtures.servers import ServerThread
from tests.registry.helpers import sql

pytestmark = pytest.mark.usefixtures("env")

QUICKSTART = """
import random

import strata as wandb

# start a new wandb run to track this script
wandb.init(
    # set the wandb project where this run will be logged
    project="my-awesome-project",
    # track hyperparameters and run metadata
    config={
        "learning_rate": 0.02,
        "architecture": "CNN",
        "dataset": "CIFAR-100",
        "epochs": 10,
    },
)

# simulate training
epochs = 10
offset = random.random() / 5
for epoch in range(2, epochs):
    acc = 1 - 2**-epoch - random.random() / epoch - offset
    loss = 2**-epoch + random.random() / epoch + offset

    # log metrics to wandb
    wandb.log({"acc": acc, "loss": loss})

with open("model.txt", "w") as f:
    f.write(str(wandb.config.learning_rate))
artifact = wandb.Artifact("model", type="model")
artifact.add_file("model.txt")
wandb.log_artifact(artifact)

# [optional] finish the wandb run, necessary in notebooks
wandb.finish()
"""


def test_quickstart_training_script_runs_unchanged(env: ServerThread, work: Path) -> None:
    done = run_script(work, "train.py", QUICKSTART)
    assert done.returncode == 0, done.stderr
    [run] = list(wandb.Api().runs("username/my-awesome-project"))
    assert run.state == "finished" and run.config["epochs"] == 10 and run.summary["_step"] == 7
    assert len(run.history()) == 8 and [a.name for a in run.logged_artifacts()] == ["model:v0"]


def test_module_level_functions_follow_the_current_run(work: Path) -> None:
    assert wandb.run is None
    with pytest.raises(RuntimeError):
        wandb.config.lr = 1
    run = wandb.init(project="module-level", config={"lr": 0.1})
    assert wandb.run is run and wandb.config.lr == 0.1 and wandb.summary is run.summary
    wandb.log({"loss": 1.0})
    wandb.log({"loss": 0.5})
    wandb.config.update({"epochs": 3})
    wandb.summary["best"] = 0.5
    (work / "ckpt").mkdir()
    (work / "ckpt" / "a.pt").write_bytes(b"x")
    assert wandb.save("ckpt/*.pt") == ["ckpt/a.pt"]
    wandb.finish()
    assert wandb.run is None
    public = wandb.Api().run(run.path)
    assert public.config == {"lr": 0.1, "epochs": 3} and public.summary["best"] == 0.5
    assert [f.path for f in public.files()] == ["ckpt/a.pt"]


def test_login_sets_key_and_host_for_the_process(env: ServerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRATA_ADDR")
    assert wandb.login(key="anything-in-open-local-mode", host=f"http://{env.addr}") is True
    assert os.environ["STRATA_ADDR"] == env.addr and os.environ["STRATA_API_KEY"]
    monkeypatch.delenv("STRATA_API_KEY")


@dataclasses.dataclass
class TrainConfig:
    lr: float = 0.001
    layers: int = 4


def test_init_takes_entity_project_and_every_config_form(work: Path) -> None:
    (work / "config.yaml").write_text("wandb_version: 1\nlr:\n  value: 0.3\nbatch: 16\n")
    forms = [
        ({"lr": 0.1}, {"lr": 0.1}),
        (argparse.Namespace(lr=0.2, seed=1), {"lr": 0.2, "seed": 1}),
        (TrainConfig(), {"lr": 0.001, "layers": 4}),
        ("config.yaml", {"lr": 0.3, "batch": 16}),
    ]
    for config, expected in forms:
        with wandb.init(project="team-x/configs", config=config) as run:
            assert (run.entity, run.project) == ("team-x", "configs")
            assert dict(run.config) == expected


def test_wandb_only_init_arguments_warn_once_each(work: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            with wandb.init(project="kwargs", dir=".", reinit=True, save_code=True, settings={"x": 1}):
                pass
    texts = [str(w.message) for w in caught if "has no meaning" in str(w.message)]
    assert sorted(t.split()[1] for t in texts) == ["dir=", "reinit=", "save_code=", "settings="]
    with pytest.raises(TypeError):
        wandb.init(project="kwargs", not_a_wandb_argument=1)


def test_disabled_mode_runs_offline(work: Path) -> None:
    run = wandb.init(project="offline-mode", mode="disabled")
    run.log({"x": 1.0})
    run.finish()
    assert run._offline and run.spool_path.exists()


def test_run_name_is_the_display_name_and_settable(work: Path) -> None:
    run = wandb.init(project="names", name="first-try")
    assert run.name == "first-try" and run.resource_name == f"entities/username/projects/names/runs/{run.id}"
    run.name = "renamed"
    run.finish()
    public = wandb.Api().run(run.path)
    assert public.name == "renamed" and public.resource_name == run.resource_name
    assert run.url == public.url == f"http://127.0.0.1:8080/p/username/names/runs/{run.id}"


def test_summary_has_runtime_timestamp_and_step(work: Path) -> None:
    run = wandb.init(project="summary")
    for step in range(5):
        run.log({"loss": 1.0 / (step + 1)})
    live = dict(run.summary)
    run.finish()
    assert live["_runtime"] >= 0 and live["_timestamp"] > 1.7e9
    public = wandb.Api().run(run.path).summary
    assert public["_step"] == 4 and public["_runtime"] > 0 and public["loss"] == pytest.approx(0.2)


def test_define_metric_shapes_the_summary_and_x_axis_and_is_stored(work: Path) -> None:
    run = wandb.init(project="metrics")
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch", summary="min")
    wandb.define_metric("acc", summary="best", goal="maximize")
    for epoch in range(4):
        run.log(
            {"val/loss": [0.5, 0.2, 0.3, 0.4][epoch], "acc": [0.1, 0.9, 0.5, 0.6][epoch], "epoch": epoch * 10}
        )
    run.finish()
    assert run.summary["val/loss"] == {"min": pytest.approx(0.2)}
    public = wandb.Api().run(run.path)
    assert public.summary["val/loss"] == {"min": pytest.approx(0.2)} and public.summary["acc"] == {
        "best": 0.9
    }
    assert "_strata_metrics" not in public.config  # stored with the run, hidden from the config
    assert list(public.history(keys=["val/loss"])["epoch"]) == [0, 10, 20, 30]


def test_history_shape_samples_and_scan(work: Path) -> None:
    run = wandb.init(project="history")
    for step in range(100):
        run.log({"loss": 1.0 / (step + 1)})
    run.finish()
    public = wandb.Api().run(run.path)
    assert list(public.history().columns) == ["_step", "_timestamp", "loss"]
    for samples in (4, 5, 10, 50):  # a smooth curve: was 2 rows for 4 and 5
        assert samples - 2 <= len(public.history(samples=samples)) <= samples
    assert all("_step" in row for row in public.scan_history())


def test_cli_history_samples_about_n_rows(env: ServerThread, work: Path) -> None:
    run = wandb.init(project="cli-history")
    for step in range(100):
        run.log({"loss": 1.0 / (step + 1)})
    run.finish()
    out = run_cli("runs", "history", run.path, "--keys", "loss", "--samples", "4", "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) - 1 == 4  # rows after the header


def test_use_artifact_of_the_wrong_type_records_no_lineage(env: ServerThread, work: Path) -> None:
    with wandb.init(project="types") as producer:
        producer.log_artifact(str(_file(work, "d.txt")), name="tickets", type="dataset")
    consumer = wandb.init(project="types")
    with pytest.raises(StrataError) as e:
        consumer.use_artifact("tickets:v0", type="model")
    assert (e.value.code, e.value.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        Reason.ARTIFACT_TYPE_MISMATCH,
    )
    consumer.finish()
    assert wandb.Api().run(consumer.path).used_artifacts() == []


def test_short_reference_resolves_in_the_run_or_api_project(env: ServerThread, work: Path) -> None:
    with wandb.init(project="refs-home") as run:
        run.log_artifact(str(_file(work, "r.txt")), name="home-data", type="dataset")
        assert run.use_artifact("home-data:v0").project == "refs-home"
    scoped = wandb.Api(overrides={"entity": "username", "project": "refs-home"})
    assert scoped.artifact("home-data:v0").project == "refs-home"
    assert wandb.Api().artifact("home-data:latest").project == "refs-home"  # the one project holding it
    lineage = subprocess.run(
        [str(Path(sys.executable).parent / "strata"), "lineage", "home-data:v0"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert lineage.returncode == 0 and "refs-home" in lineage.stdout, lineage.stderr


def test_artifact_reading_surface(env: ServerThread, work: Path) -> None:
    with wandb.init(project="reading", name="producer") as producer:
        (work / "ds").mkdir()
        _file(work, "ds/a.txt", b"alpha")
        _file(work, "ds/sub/b.txt", b"beta")
        art = producer.log_artifact("ds", name="corpus", type="dataset", aliases=["staging"])
    with wandb.init(project="reading") as consumer:
        used = consumer.use_artifact("corpus:staging")
    assert used.logged_by().name == "producer" and [r.id for r in used.used_by()] == [consumer.id]
    files = {f.name: f for f in used.files()}
    assert (
        set(files) == {"a.txt", "sub/b.txt"} and files["a.txt"].size == 5 and len(files["a.txt"].digest) == 64
    )
    assert Path(used.get_path("sub/b.txt").download(work / "one")).read_bytes() == b"beta"
    assert Path(used.get_entry("a.txt").download(work / "two")).read_bytes() == b"alpha"
    (work / "co").mkdir()
    _file(work, "co/stale.txt")
    root = Path(used.checkout(work / "co"))
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "a.txt",
        "sub/b.txt",
    ]
    assert used.source_name == "corpus:v0" and used.tags == [] and used.updated_at is not None
    used.ttl = None
    used.save()
    assert wandb.Api().artifact("reading/corpus:v0").ttl is None and art.version == "v0"


def test_public_api_additions(env: ServerThread, work: Path) -> None:
    with wandb.init(project="public-a", tags=["a"]) as run:
        run.log({"loss": 0.5})
        run.log_artifact(str(_file(work, "m.bin")), name="weights", type="model")
        run.log_artifact(str(_file(work, "t.csv")), name="table", type="dataset")
    api = wandb.Api(overrides={"entity": "username", "project": "public-a"})
    assert "public-a" in [p.name for p in api.projects("username")]
    assert [t.name for t in api.artifact_types("public-a")] == ["dataset", "model"]
    assert [c.name for c in api.artifact_collections("public-a", "model")] == ["weights"]
    assert [v.version for v in api.artifact_versions("model", "weights")] == ["v0"]
    assert [v.version for v in api.artifact_versions("weights")] == ["v0"]
    assert api.artifact_versions("dataset", "weights") == []
    assert api.artifact_exists("weights:v0") and not api.artifact_exists("weights:v9")
    public = api.run(run.id)
    assert sorted(a.name for a in public.logged_artifacts()) == ["table:v0", "weights:v0"]
    public.tags.append("keep")
    public.notes, public.name = "checked", "renamed"
    public.config["lr"] = 0.1
    public.summary["verdict"] = "good"
    public.update()
    again = api.run(run.id)
    assert (again.tags, again.notes, again.name) == (["a", "keep"], "checked", "renamed")
    assert again.config == {"lr": 0.1} and again.summary["verdict"] == "good"
    again.delete()
    with pytest.raises(StrataError) as e:
        api.run(run.id)
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    assert api.artifact("weights:v0").logged_by() is None  # the version stays, without its run


def test_delete_run_is_audited_and_not_found_twice(env: ServerThread, work: Path) -> None:
    with wandb.init(project="deleting") as run:
        for step in range(300):
            run.log({"x": float(step)})
    run_pk = sql(env, "SELECT id FROM runs WHERE run_id = $1", run.id)[0]["id"]
    assert sql(env, "SELECT count(*) AS n FROM metric_chunks WHERE run_id = $1", run_pk)[0]["n"] > 0
    client = env.client()
    client.ingest.DeleteRun(ipb.DeleteRunRequest(name=run.resource_name))
    # metric_chunks has no foreign key to runs: the delete removes its rows itself, leaving no orphans.
    assert sql(env, "SELECT count(*) AS n FROM metric_chunks WHERE run_id = $1", run_pk)[0]["n"] == 0
    rows = sql(env, "SELECT action FROM audit_events WHERE target = $1 ORDER BY id", run.resource_name)
    assert [r["action"] for r in rows][-1] == "run.delete"
    with pytest.raises(StrataError) as e:
        client.ingest.DeleteRun(ipb.DeleteRunRequest(name=run.resource_name))
    assert e.value.code == grpc.StatusCode.NOT_FOUND


def test_offline_log_artifact_is_queued_and_synced_with_lineage(env: ServerThread, work: Path) -> None:
    run = wandb.init(project="offline-art", mode="offline")
    run.log({"loss": 0.1})
    original = _file(work, "weights.bin", b"offline weights")
    art = wandb.Artifact("offline-model", type="model")
    art.add_file(str(original))
    run.log_artifact(art, aliases=["candidate"])
    run.finish()
    original.unlink()  # the spool kept its own link (or copy) of the file
    original.write_bytes(b"a new file at the same path")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "strata"), "sync", str(run.spool_path)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "offline-model/versions/v0" in done.stdout
    logged = wandb.Api().artifact("offline-art/offline-model:candidate")
    assert logged.logged_by().id == run.id
    assert Path(logged.get_path("weights.bin").download(work / "dl")).read_bytes() == b"offline weights"


def test_resuming_says_nothing_when_nothing_was_left(work: Path, capfd: pytest.CaptureFixture[str]) -> None:
    first = wandb.init(project="resume-quiet", id="quiet-1")
    first.log({"x": 1.0})
    first.finish()
    capfd.readouterr()
    again = wandb.init(project="resume-quiet", id="quiet-1", resume="allow")
    again.finish()
    assert "delivered" not in capfd.readouterr().err


def _file(work: Path, name: str, data: bytes = b"data") -> Path:
    path = work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


assert strata is wandb
