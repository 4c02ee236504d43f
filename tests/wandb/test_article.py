"""Every code block of the W&B artifacts-and-teams walkthrough, run with `import strata as wandb`.

The blocks are kept verbatim (BLOCKS below) and executed in order in one namespace, as a reader runs
them. The only edits are the import line and what W&B itself would refuse: the shell lines of the team
and service-account sections become Strata's CLI (tested against the keys-mode server). Setup (files on disk, the
earlier versions a block pins) is done outside the blocks, as a reader's project already holds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import strata

pytestmark = pytest.mark.usefixtures("env")


LOG_MODEL = """
import strata as wandb

run = wandb.init(project="text-classifier", job_type="train")

# Log a trained model as an artifact
model_artifact = wandb.Artifact(
    name="bert-classifier",
    type="model",
    description="BERT finetuned on customer support tickets",
    metadata={"epochs": 10, "f1_score": 0.89, "framework": "transformers==4.36.0"}
)
model_artifact.add_file("model.pth")
run.log_artifact(model_artifact)

run.finish()
"""

DOWNLOAD = """
run = wandb.init(project="text-classifier", job_type="inference")

# Download the latest version of the model
artifact = run.use_artifact("bert-classifier:latest", type="model")
artifact_dir = artifact.download()

# Or pin a specific version for reproducibility
artifact_v3 = run.use_artifact("bert-classifier:v3", type="model")
model_path = artifact_v3.download()

print(f"Model metadata: {artifact_v3.metadata}")
# Output: {'epochs': 10, 'f1_score': 0.89, 'framework': 'transformers==4.36.0'}
"""

DATASETS = """
# Log a dataset with lineage tracking
raw_data_artifact = wandb.Artifact(
    name="support-tickets",
    type="dataset",
    description="Customer support tickets (raw)",
    metadata={"samples": 50000, "date_range": "2024-01-01 to 2024-12-31"}
)
raw_data_artifact.add_dir("data/raw/")
run.log_artifact(raw_data_artifact)

# Later: log the preprocessed version
run_preprocess = wandb.init(project="text-classifier", job_type="preprocess")
raw_artifact = run_preprocess.use_artifact("support-tickets:v0")

processed_artifact = wandb.Artifact(
    name="support-tickets-clean",
    type="dataset",
    metadata={"samples": 48500, "removed_duplicates": 1500}
)
processed_artifact.add_dir("data/processed/")
run_preprocess.log_artifact(processed_artifact)
"""

ALIASES = """
# Mark a model as production-ready
artifact = run.use_artifact("bert-classifier:v5")
artifact.aliases.append("production")
artifact.save()

# Now inference scripts can use the alias
prod_model = run.use_artifact("bert-classifier:production")
"""

REPORT = """
import strata as wandb

api = wandb.Api()
runs = api.runs("username/text-classifier", filters={"state": "finished"})

# Create a report
report = wandb.Report(
    project="text-classifier",
    title="BERT Finetuning Results: Week 6",
    description="Comparison of learning rates and batch sizes"
)

# Add a panel showing loss curves for all runs
report.blocks = [
    wandb.report.PanelGrid(
        panels=[
            wandb.report.LinePlot(
                x="_step",
                y=["train/loss", "val/loss"],
                title="Training Loss by Learning Rate",
                groupby="config.learning_rate"
            )
        ]
    )
]

report.save()
print(f"Report URL: {report.url}")
"""

PLOTLY = """
import plotly.graph_objects as go

# Generate a custom confusion matrix plot
fig = go.Figure(data=go.Heatmap(
    z=[[50, 10], [5, 35]],
    x=["Spam", "Not Spam"],
    y=["Spam", "Not Spam"],
    colorscale="Blues"
))

# Log it to a run, then embed in a report
run.log({"confusion_matrix": wandb.Plotly(fig)})

# In the report UI, add a "Run" panel and select the confusion_matrix metric
"""

GROUPS = """
run = wandb.init(
    project="text-classifier",
    group="ablation-study",  # Group related runs
    tags=["bert", "lr-sweep", "bug-fix"],  # Searchable tags
    notes="Testing if dropout=0.3 fixes overfitting"
)
"""

JOB_TYPES = """
# Person A: training
run = wandb.init(project="text-classifier", job_type="train")

# Person B: evaluating on a test set
run = wandb.init(project="text-classifier", job_type="eval")
"""

SHARED = """
# Team A logs a pretrained model
run_a = wandb.init(project="team-a/pretraining", job_type="train")
artifact = wandb.Artifact("bert-base", type="model")
artifact.add_file("bert.pth")
run_a.log_artifact(artifact)

# Team B downloads it for finetuning
run_b = wandb.init(project="team-b/finetuning", job_type="train")
base_model = run_b.use_artifact("team-a/pretraining/bert-base:latest")
model_path = base_model.download()
"""

TABLE_API = """
import strata as wandb
import pandas as pd

api = wandb.Api()
runs = api.runs("username/text-classifier")

# Extract hyperparameters and metrics into a DataFrame
data = []
for run in runs:
    if run.state == "finished":
        data.append({
            "name": run.name,
            "learning_rate": run.config.get("learning_rate"),
            "batch_size": run.config.get("batch_size"),
            "val_f1": run.summary.get("val/f1"),
            "runtime_minutes": (run.summary.get("_runtime") or 0) / 60
        })

df = pd.DataFrame(data)
print(df.sort_values("val_f1", ascending=False).head(10))
"""

HISTORY = """
history = run.history(keys=["train/loss", "val/loss"])
print(history.head())  # Returns a Pandas DataFrame
"""

AUDIT_METADATA = """
import getpass
import socket
from datetime import datetime

artifact = wandb.Artifact(
    name="patient-classifier",
    type="model",
    metadata={
        "user": getpass.getuser(),
        "hostname": socket.gethostname(),
        "timestamp": datetime.utcnow().isoformat(),
        "git_commit": "abc123",  # From subprocess.check_output(["git", "rev-parse", "HEAD"])
        "val_auc": 0.94
    }
)
"""

TTL = """
artifact = wandb.Artifact("temp-model", type="model")
artifact.ttl = wandb.util.parse_time("7d")  # Delete after 7 days
"""


def _prepare_files(work: Path) -> None:
    (work / "model.pth").write_bytes(b"weights v-final")
    (work / "bert.pth").write_bytes(b"bert base weights")
    for folder, names in (("data/raw", ["a.jsonl", "b.jsonl"]), ("data/processed", ["train.jsonl"])):
        (work / folder).mkdir(parents=True)
        for n in names:
            (work / folder / n).write_text(f"{folder}/{n}\n")


def _earlier_training_runs() -> None:
    """The project's history before the walkthrough: bert-classifier v0..v5 logged by training runs
    that recorded losses and an F1 (what the aliases and Table-API blocks read)."""
    for i in range(6):
        run = strata.init(
            project="text-classifier", job_type="train", config={"learning_rate": 10.0**-i, "batch_size": 32}
        )
        for step in range(20):
            run.log({"train/loss": 1.0 / (step + 1 + i), "val/loss": 1.2 / (step + 1 + i)})
        run.summary["val/f1"] = 0.5 + i / 20
        art = strata.Artifact(
            "bert-classifier",
            type="model",
            metadata={"epochs": 10, "f1_score": 0.89, "framework": "transformers==4.36.0"},
        )
        with art.new_file("model.pth", "wb") as f:
            f.write(f"weights v{i}".encode())
        run.log_artifact(art)
        run.finish()


def _finish_all(ns: dict[str, Any]) -> None:
    for value in list(ns.values()):
        if isinstance(value, strata.Run):
            value.finish()


def test_every_block_runs_with_strata_as_wandb(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The blocks in the article's order, one namespace; each block's visible result is checked."""
    _prepare_files(work)
    _earlier_training_runs()
    ns: dict[str, Any] = {}
    try:
        exec(LOG_MODEL, ns)
        assert ns["model_artifact"].version == "v6" and ns["run"].job_type == "train"
        exec(DOWNLOAD, ns)
        assert ns["artifact"].version == "v6" and ns["artifact_v3"].version == "v3"
        assert (Path(ns["model_path"]) / "model.pth").read_bytes() == b"weights v3"
        assert "Model metadata: {'epochs': 10, 'f1_score': 0.89" in capsys.readouterr().out
        exec(DATASETS, ns)
        clean = ns["processed_artifact"]
        used = [a.qualified_name for a in strata.Api().run(ns["run_preprocess"].path).used_artifacts()]
        assert used == ["username/text-classifier/support-tickets:v0"] and clean.version == "v0"
        exec(ALIASES, ns)
        assert ns["prod_model"].version == "v5" and "production" in ns["prod_model"].aliases
        exec(GROUPS, ns)
        assert (ns["run"].group, ns["run"].tags) == ("ablation-study", ("bert", "lr-sweep", "bug-fix"))
        exec(JOB_TYPES, ns)
        assert ns["run"].job_type == "eval"
        exec(SHARED, ns)
        assert (ns["run_a"].entity, ns["run_a"].project) == ("team-a", "pretraining")
        assert (Path(ns["model_path"]) / "bert.pth").read_bytes() == b"bert base weights"
    finally:
        _finish_all(ns)
    exec(TABLE_API, ns)
    printed = capsys.readouterr().out
    df = ns["df"]
    assert len(df) >= 6 and df["runtime_minutes"].notna().all() and (df["runtime_minutes"] > 0).any()
    assert {r.name for r in strata.Api().runs("username/text-classifier")} >= set(df["name"])
    assert "0.75" in printed  # the best val/f1 heads the table
    exec(HISTORY, ns)
    assert list(ns["history"].columns)[:1] == ["_step"] and "val/loss" in ns["history"]
    exec(AUDIT_METADATA, ns)
    assert ns["artifact"].metadata["val_auc"] == 0.94
    exec(TTL, ns)
    assert ns["artifact"].ttl.days == 7


def test_report_block(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ns: dict[str, Any] = {}
    exec(REPORT, ns)
    report = ns["report"]
    assert f"Report URL: {report.url}" in capsys.readouterr().out
    assert "/p/" in report.url and f"/text-classifier/reports/{report.id}" in report.url
    again = strata.Api().report(report.url)  # loads what was saved, typed
    (grid,) = again.blocks
    (plot,) = grid.panels
    assert (plot.x, list(plot.y), plot.groupby) == (
        "_step",
        ["train/loss", "val/loss"],
        "config.learning_rate",
    )
    assert again.title == "BERT Finetuning Results: Week 6" and again.revision == 1


def test_plotly_block(work: Path) -> None:
    pytest.importorskip("plotly")  # a dev dependency: the figure is built with the real library
    run = strata.init(project="text-classifier")
    ns: dict[str, Any] = {"wandb": strata, "run": run}
    try:
        exec(PLOTLY, ns)
    finally:
        _finish_all(ns)
    (figure,) = strata.Api().run(run.path).media("confusion_matrix")  # stored as the figure's JSON
    assert figure.step == 0 and figure.json()["data"][0]["z"] == [[50, 10], [5, 35]]
