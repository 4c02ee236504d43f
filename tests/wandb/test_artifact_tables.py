"""Rich values inside artifacts, as W&B code writes them: `artifact.add(table, name)` stores
`<name>.table.json` (an image: `<name>.image-file.json` plus its file under media/), and
`artifact.get(name)` on a used or fetched version gives the value back, fetching only its files."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import strata
import strata as wandb
from strata.errors import Reason, StrataError
from strata.sdk import media
from strata.sdk.artifact import ArtifactObjectNotFound

from tests.fixtures.scripts import run_cli, run_script
from tests.fixtures.servers import ServerThread

pytestmark = [pytest.mark.usefixtures("env"), pytest.mark.timeout(120)]

COLUMNS = ["id", "score", "label", "ok", "note"]
ROWS = [
    [1, 0.5, "cat", True, None],
    [2, float("nan"), "dog", False, "nan score"],
    [3, 2.0, "", None, "float that is whole"],
    [np.int64(4), np.float32(0.25), "émoji 🐈", True, "numpy scalars"],
]


def _same_cell(got: object, want: object) -> bool:
    if isinstance(want, np.generic):
        want = want.item()
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return type(got) is type(want) and got == want


def _log(project: str, art: wandb.Artifact) -> wandb.Artifact:
    run = wandb.init(project=project, job_type="log")
    logged = run.log_artifact(art)
    run.finish()
    return logged


def test_table_round_trips_through_a_run_that_uses_the_artifact(work: Path) -> None:
    art = wandb.Artifact("predictions", type="eval")
    big = work / "weights.bin"
    big.write_bytes(os.urandom(300_000))
    art.add_file(str(big))
    assert art.add(wandb.Table(columns=COLUMNS, data=ROWS), "preds") == "preds.table.json"
    logged = _log("art-tables", art)
    assert sorted(f.name for f in logged.files()) == ["preds.table.json", "weights.bin"]

    reader = wandb.init(project="art-tables", job_type="eval")
    used = reader.use_artifact("predictions:latest")
    table = used.get("preds")
    reader.finish()
    assert isinstance(table, wandb.Table) and table.columns == COLUMNS
    assert len(table.data) == len(ROWS)
    for got_row, want_row in zip(table.data, ROWS, strict=True):
        assert all(_same_cell(g, w) for g, w in zip(got_row, want_row, strict=True)), (got_row, want_row)
    # only the value's file was fetched, into the artifact's download folder
    root = Path(used._default_root())
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "preds.table.json"
    ]
    doc = json.loads((root / "preds.table.json").read_text())
    assert doc["_type"] == "table" and doc["columns"] == COLUMNS and doc["nrows"] == 4 and doc["ncols"] == 5
    assert doc["data"][0] == [1, 0.5, "cat", True, None]
    df = table.get_dataframe()
    assert list(df.columns) == COLUMNS and df["label"].tolist() == ["cat", "dog", "", "émoji 🐈"]
    assert [r.id for r in logged.used_by()] == [reader.id]  # get() went through the recorded use


def test_get_through_the_public_api_and_by_file_name(work: Path) -> None:
    art = wandb.Artifact("api-read", type="eval")
    art.add(wandb.Table(columns=["a"], data=[[1], [2]]), "t")
    _log("art-tables", art)
    fetched = wandb.Api().artifact("username/art-tables/api-read:v0")
    by_name = fetched.get("t", root=work / "out")
    by_file = fetched.get("t.table.json", root=work / "out2")
    assert by_name.data == by_file.data == [[1], [2]]
    assert (work / "out" / "t.table.json").is_file()
    # get_entry finds the value's file by the name it was added under, as W&B's does
    assert fetched.get_entry("t").path == fetched.get_entry("t.table.json").path == "t.table.json"
    with pytest.raises(KeyError):
        fetched.get_entry("nothing")


def test_an_image_and_the_other_rich_values_in_an_artifact(work: Path) -> None:
    pixels = (np.arange(6 * 8 * 3) % 256).astype(np.uint8).reshape(6, 8, 3)
    art = wandb.Artifact("samples", type="dataset")
    assert art.add(wandb.Image(pixels, caption="a cat"), "sample") == "sample.image-file.json"
    art.add(wandb.Html("<h1>Epoch 3</h1>"), "report")
    art.add(wandb.Plotly({"data": [{"type": "bar", "y": [1, 2]}], "layout": {}}), "fig")
    art.add(wandb.Histogram(np_histogram=([1, 3, 2], [0.0, 1.0, 2.0, 3.0])), "weights")
    thumbs = wandb.Table(
        columns=["image", "label"], data=[[wandb.Image(pixels), "cat"], [wandb.Image(pixels), "cat"]]
    )
    art.add(thumbs, "thumbs")
    logged = _log("art-media", art)
    names = sorted(f.name for f in logged.files())
    png_path = f"media/images/{_sha(media.png(pixels))[:20]}.png"
    assert png_path in names and "sample.image-file.json" in names and "thumbs.table.json" in names
    assert len([n for n in names if n.startswith("media/images/")]) == 1  # same pixels, stored once

    fetched = wandb.Api().artifact("art-media/samples:latest")
    img = fetched.get("sample", root=work / "dl")
    assert isinstance(img, wandb.Image) and img.caption == "a cat"
    assert Path(img.path).read_bytes() == media.png(pixels)
    doc = json.loads((work / "dl" / "sample.image-file.json").read_text())
    assert doc["_type"] == "image-file" and doc["path"] == png_path
    assert (doc["width"], doc["height"], doc["format"]) == (8, 6, "png")
    html = fetched.get("report", root=work / "dl")
    assert isinstance(html, wandb.Html) and html.data == html.html == "<h1>Epoch 3</h1>"
    fig = fetched.get("fig", root=work / "dl")
    assert isinstance(fig, wandb.Plotly) and fig.figure["data"][0]["y"] == [1, 2]
    hist = fetched.get("weights", root=work / "dl")
    assert isinstance(hist, wandb.Histogram) and [list(a) for a in hist.np_histogram] == [
        [1, 3, 2],
        [0.0, 1.0, 2.0, 3.0],
    ]
    assert (hist.histogram, hist.bins) == ([1, 3, 2], [0.0, 1.0, 2.0, 3.0])  # W&B's names
    table = fetched.get("thumbs", root=work / "dl")
    assert [type(c).__name__ for c in table.get_column("image")] == ["Image", "Image"]
    assert Path(table.data[0][0].path).read_bytes() == media.png(pixels)


def test_an_image_read_back_opens_with_pillow_as_in_wandb(work: Path) -> None:
    pytest.importorskip("PIL")
    pixels = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    art = wandb.Artifact("pil-read", type="dataset")
    art.add(wandb.Image(pixels), "x")
    img = _log("art-media", art).get("x", root=work)
    assert np.array_equal(np.asarray(img.image), pixels)


def test_files_written_by_wandb_read_back(work: Path) -> None:
    """A table file as W&B writes it (column_types, an image cell, NaN) in a folder added with add_dir."""
    png = media.png(np.full((2, 3), 7, np.uint8))
    folder = work / "from-wandb"
    (folder / "media" / "images").mkdir(parents=True)
    (folder / "media" / "images" / "5f1c0ffee.png").write_bytes(png)
    cell = {
        "_type": "image-file",
        "format": "png",
        "height": 2,
        "width": 3,
        "path": "media/images/5f1c0ffee.png",
    }
    types = {"wb_type": "typedDict", "params": {"type_map": {"a": {"wb_type": "number"}}}}
    doc = {"_type": "table", "column_types": types, "columns": ["a", "img"], "data": [[float("nan"), cell]]}
    (folder / "val.table.json").write_text(json.dumps(doc, sort_keys=True))  # NaN, as Python writes it
    art = wandb.Artifact("from-wandb", type="dataset")
    art.add_dir(str(folder))
    table = _log("art-media", art).get("val", root=work / "dl")
    assert table.columns == ["a", "img"] and math.isnan(table.data[0][0])
    assert Path(table.data[0][1].path).read_bytes() == png


def test_a_value_read_back_logs_again_to_a_run(work: Path) -> None:
    art = wandb.Artifact("relog", type="eval")
    art.add(wandb.Table(columns=["x"], data=[[1.5]]), "t")
    _log("art-tables", art)
    run = wandb.init(project="art-tables")
    run.log({"again": run.use_artifact("relog:v0").get("t")})
    run.finish()
    assert wandb.Api().run(run.path).table("again").to_dataframe()["x"].tolist() == [1.5]


def test_missing_name_is_a_key_error_naming_the_values_held(work: Path) -> None:
    art = wandb.Artifact("missing", type="eval")
    art.add(wandb.Table(columns=["a"], data=[]), "preds")
    art.add(wandb.Histogram([1.0, 2.0]), "hist")
    f = work / "notes.json"
    f.write_text("{}")
    art.add_file(str(f))
    logged = _log("art-errors", art)
    with pytest.raises(KeyError) as e:
        logged.get("pred")
    assert isinstance(e.value, ArtifactObjectNotFound)
    assert "'pred'" in str(e.value) and "'hist', 'preds'" in str(e.value)
    assert not Path(logged._default_root()).exists()  # nothing fetched
    with pytest.raises(ValueError, match="not logged yet"):
        wandb.Artifact("draft", type="eval").get("preds")


def test_adding_to_a_logged_artifact_or_over_a_value_is_refused(work: Path) -> None:
    art = wandb.Artifact("collide", type="eval")
    art.add(wandb.Table(columns=["a"], data=[[1]]), "preds")
    with pytest.raises(ValueError, match="already holds a value"):
        art.add(wandb.Table(columns=["a"], data=[[2]]), "preds")
    with pytest.raises(ValueError, match="already holds a value"):
        art.add(wandb.Histogram([1.0]), "preds")  # another kind under the same name
    art.add(wandb.Table(columns=["b"], data=[[3]]), "preds", overwrite=True)
    logged = _log("art-errors", art)
    assert logged.get("preds", root=work / "a").data == [[3]]
    with pytest.raises(ValueError, match="immutable"):
        logged.add(wandb.Table(columns=["a"], data=[]), "later")

    draft = logged.new_draft()  # a new version keeps the base's values: the name is taken there too
    with pytest.raises(ValueError, match="already holds a value"):
        draft.add(wandb.Image(np.zeros((2, 2), np.uint8)), "preds")
    draft.add(wandb.Image(np.zeros((2, 2), np.uint8)), "preds", overwrite=True)
    v1 = _log("art-errors", draft)
    assert sorted(f.name for f in v1.files() if not f.name.startswith("media/")) == ["preds.image-file.json"]
    assert isinstance(v1.get("preds", root=work / "b"), wandb.Image)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", Reason.FIELD_REQUIRED),
        ("../preds", Reason.UNSAFE_PATH),
        ("a//b", Reason.UNSAFE_PATH),
        ("t/", Reason.UNSAFE_PATH),
    ],
)
def test_bad_names_are_refused_like_add_file(name: str, reason: str) -> None:
    art = wandb.Artifact("bad-names", type="eval")
    with pytest.raises(StrataError) as e:
        art.add(wandb.Table(columns=["a"], data=[]), name)
    assert e.value.reason == reason and e.value.field == "name"
    assert art._files == {}


def test_values_that_are_not_rich_values_are_refused() -> None:
    art = wandb.Artifact("bad-values", type="eval")
    with pytest.raises(TypeError, match=r"strata\.Table, Image"):
        art.add({"a": 1}, "d")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ragged"):
        art.add(wandb.Table(columns=["a", "b"], data=[[1]]), "t")
    assert art._files == {}


def test_offline_run_queues_the_values_and_sync_logs_them(env: ServerThread, work: Path) -> None:
    run = wandb.init(project="art-offline", mode="offline")
    art = wandb.Artifact("offline-preds", type="eval")
    art.add(wandb.Table(columns=["id", "p"], data=[[1, 0.25], [2, None]]), "preds")
    art.add(wandb.Image(np.full((3, 3), 200, np.uint8)), "sample")
    run.log_artifact(art)
    run.finish()
    done = run_cli("sync", str(run.spool_path))
    assert done.returncode == 0, done.stdout + done.stderr
    logged = wandb.Api().artifact("art-offline/offline-preds:v0")
    assert logged.get("preds", root=work / "o").data == [[1, 0.25], [2, None]]
    assert Path(logged.get("sample", root=work / "o").path).read_bytes() == media.png(
        np.full((3, 3), 200, np.uint8)
    )


SCRIPT = """
import strata as wandb

run = wandb.init(project="tables-quickstart", job_type="upload")
table = wandb.Table(columns=["id", "prediction", "truth"])
for i, (p, t) in enumerate([("cat", "cat"), ("dog", "cat"), ("cat", "cat")]):
    table.add_data(i, p, t)
artifact = wandb.Artifact("val-predictions", type="predictions")
artifact.add(table, "my_table")
run.log_artifact(artifact)
run.finish()

run = wandb.init(project="tables-quickstart", job_type="analysis")
artifact = run.use_artifact("val-predictions:latest")
table = artifact.get("my_table")
df = table.get_dataframe()
print("accuracy", (df["prediction"] == df["truth"]).mean(), table.columns)
run.finish()
"""


def test_wandb_tables_in_artifacts_script_runs_unchanged(work: Path) -> None:
    done = run_script(work, "tables.py", SCRIPT)
    assert done.returncode == 0, done.stderr
    assert "accuracy 0.666" in done.stdout and "['id', 'prediction', 'truth']" in done.stdout
    assert (
        strata.Api().artifact("tables-quickstart/val-predictions:v0").get_entry("my_table.table.json").size
        > 0
    )


def test_table_add_data_and_get_column() -> None:
    table = wandb.Table(columns=["a", "b"])
    table.add_data(1, "x")
    table.add_data(2, None)
    assert table.data == [[1, "x"], [2, None]] and table.get_column("b") == ["x", None]
    with pytest.raises(ValueError, match="one cell per column"):
        table.add_data(3)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
