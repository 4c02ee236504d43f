"""W&B calls with no W&B service behind them run unchanged: `wandb.Settings` passed to init,
`wandb.watch`/`unwatch` (a one-time warning: gradients are not logged), `wandb.alert` (printed and kept
in the run's summary), and `run.log_code` (the source files as a `code` artifact)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import strata as wandb
from strata.sdk import _wandb

pytestmark = pytest.mark.usefixtures("env")


def test_settings_watch_and_alert_run_unchanged(work: Path, capfd: pytest.CaptureFixture[str]) -> None:
    _wandb._warned.clear()  # each warning is said once per process: let this test hear them
    settings = wandb.Settings(start_method="thread", _disable_stats=True)
    settings.update(console="off")
    assert settings.start_method == "thread" and "console='off'" in repr(settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = wandb.init(project="extras", settings=settings)
        model = object()
        assert wandb.watch(model, log="all", log_freq=10) is None
        wandb.unwatch(model)
        for step in range(3):
            wandb.log({"loss": 1.0 / (step + 1)})
        wandb.alert(title="Low accuracy", text="accuracy 0.31 is below 0.5", level="WARN")
    messages = [str(w.message) for w in caught]
    assert any("settings=" in m for m in messages), messages
    assert any("strata.watch" in m and "not logged" in m for m in messages), messages
    assert "strata: alert [WARN] Low accuracy: accuracy 0.31 is below 0.5" in capfd.readouterr().err
    run.finish()
    stored = wandb.Api().run(run.path)
    [alert] = stored.summary["alerts"]
    assert (alert["title"], alert["text"], alert["level"]) == (
        "Low accuracy",
        "accuracy 0.31 is below 0.5",
        "WARN",
    )
    assert stored.history(keys=["loss"])["loss"].tolist() == [1.0, 0.5, 1 / 3]


def test_alert_without_a_run_says_so() -> None:
    with pytest.raises(RuntimeError, match="no run"):
        wandb.alert(title="t", text="x")


def test_log_code_stores_the_sources_as_a_code_artifact(work: Path) -> None:
    src = work / "project"
    for rel, text in {
        "train.py": "print('train')\n",
        "models/net.py": "class Net: ...\n",
        "requirements.txt": "numpy\n",
        "Dockerfile": "FROM python:3.11\n",
        "data/big.bin": "not code",
        ".venv/lib/site.py": "skipped: hidden folder\n",
        "models/__pycache__/net.cpython-311.pyc": "skipped",
    }.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    run = wandb.init(project="extras")
    art = run.log_code(root=str(src))
    only_py = run.log_code(
        root=str(src), name="python-only", include_fn=lambda path, root: path.endswith(".py")
    )
    assert run.log_code(root=str(work / "empty-nothing-here")) is None
    run.finish()
    logged = wandb.Api().artifact(f"extras/source-{run.id}:latest")
    assert logged.type == "code" and art is not None
    assert sorted(f.name for f in logged.files()) == [
        "Dockerfile",
        "models/net.py",
        "requirements.txt",
        "train.py",
    ]
    assert Path(logged.get_path("models/net.py").download(work / "dl")).read_text() == "class Net: ...\n"
    assert sorted(f.name for f in wandb.Api().artifact("extras/python-only:latest").files()) == [
        "models/net.py",
        "train.py",
    ]
    assert only_py is not None and logged.logged_by().id == run.id


def test_run_files_download_the_w_and_b_way(work: Path) -> None:
    (work / "ckpt").mkdir()
    (work / "ckpt" / "model.h5").write_bytes(b"weights v1")
    run = wandb.init(project="extras-files")
    wandb.save("ckpt/model.h5")
    run.finish()
    public = wandb.Api().run(run.path)
    [f] = public.files()
    assert (f.name, f.size) == ("ckpt/model.h5", len(b"weights v1")) and "model.h5" in repr(f)
    with public.file("ckpt/model.h5").download(root=str(work / "out")) as opened:
        assert Path(opened.name).read_bytes() == b"weights v1"
    with pytest.raises(ValueError, match="already exists"):
        public.file("ckpt/model.h5").download(root=str(work / "out"))
    (work / "out" / "ckpt" / "model.h5").write_bytes(b"changed here")
    public.file("ckpt/model.h5").download(root=str(work / "out"), exist_ok=True).close()
    assert (work / "out" / "ckpt" / "model.h5").read_bytes() == b"changed here"  # kept as it is
    public.file("ckpt/model.h5").download(root=str(work / "out"), replace=True).close()
    assert (work / "out" / "ckpt" / "model.h5").read_bytes() == b"weights v1"
    with pytest.raises(KeyError, match=r"ckpt/model\.h5"):
        public.file("nope.txt")


def test_api_artifacts_and_flush(work: Path) -> None:
    run = wandb.init(project="extras-arts")
    for i in range(2):
        art = wandb.Artifact("weights", type="model")
        with art.new_file("w.txt") as f:
            f.write(f"v{i}")
        run.log_artifact(art)
    run.finish()
    api = wandb.Api()
    api.flush()  # nothing cached: a no-op, as W&B scripts call it before reading again
    versions = api.artifacts("model", "extras-arts/weights")
    assert [v.version for v in versions] == ["v1", "v0"]
    assert api.artifacts("dataset", "extras-arts/weights") == []
    with pytest.raises(ValueError, match="tags"):
        api.artifacts("model", "extras-arts/weights", tags=["best"])
