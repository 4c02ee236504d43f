"""Rich values logged with run.log and read back through the query API, against a real server: images
(PNG bytes and size metadata), Plotly figures (a real plotly figure), HTML, tables (as a DataFrame),
histograms (bins over steps), text, lists of images, and scalars logged alongside, unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import strata
from strata.query.v1 import query_service_pb2 as q

from tests.fixtures.servers import ServerThread
from tests.media.pngs import decode_png

pytestmark = [pytest.mark.usefixtures("spool"), pytest.mark.timeout(120)]


def test_every_kind_of_value_round_trips_with_scalars_unchanged(server: ServerThread, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(3)]
    grey = rng.random((16, 16))  # floats in [0, 1] are scaled to 0..255
    run = strata.init(project="media", entity="tester", addr=server.addr)
    for step in range(3):
        run.log(
            {
                "loss": 1.0 / (step + 1),
                "samples": [strata.Image(img, caption=f"c{i}") for i, img in enumerate(images)],
                "weights": strata.Histogram(rng.normal(size=1000) + step, num_bins=16),
            }
        )
    run.log(
        {
            "grey": strata.Image(grey),
            "page": strata.Html("<p>hello <b>world</b></p>"),
            "preds": strata.Table(
                columns=["id", "label", "p"], data=[[1, "cat", 0.9], [2, "<script>", None]]
            ),
            "note": "plain text",
            "eval": {
                "acc": 0.5,
                "fig": strata.Plotly({"data": [{"type": "bar", "y": [1, 2]}], "layout": {}}),
            },
        }
    )
    run.finish()
    api = strata.Api(addr=server.addr)
    r = api.run(run.path)
    keys = {k["key"]: k for k in r.media_keys()}
    assert {k: (v["type"], v["count"]) for k, v in keys.items()} == {
        "samples": ("image", 9),
        "weights": ("histogram", 3),
        "grey": ("image", 1),
        "page": ("html", 1),
        "preds": ("table", 1),
        "note": ("text", 1),
        "eval/fig": ("plotly", 1),
    }
    assert {k["key"] for k in r.keys()} == {"loss", "eval/acc"}  # scalars: the metric stream, unchanged
    assert r.history(["loss"])["loss"].tolist() == [1.0, 0.5, 1 / 3]

    samples = r.media("samples")
    assert [(v.step, v.index) for v in samples][:4] == [(2, 0), (2, 1), (2, 2), (1, 0)]  # latest first
    first = samples[0]
    assert first.metadata == {"caption": "c0", "format": "png", "width": 48, "height": 32}
    path = first.download(tmp_path)
    assert np.array_equal(decode_png(path.read_bytes()), images[0])
    assert np.array_equal(decode_png(r.media("grey")[0].read_bytes()), (grey * 255).round().astype(np.uint8))

    hist = r.media("weights")
    assert [h.step for h in hist] == [2, 1, 0] and all(len(h.metadata["counts"]) == 16 for h in hist)
    assert all(len(h.metadata["edges"]) == 17 and sum(h.metadata["counts"]) == 1000 for h in hist)
    assert hist[0].metadata["edges"][0] > hist[2].metadata["edges"][0]  # the distribution moved right
    assert hist[0].json()["counts"] == hist[0].metadata["counts"]

    assert r.media("page")[0].text() == "<p>hello <b>world</b></p>"
    assert r.media("note")[0].text() == "plain text"
    assert r.media("eval/fig")[0].json()["data"][0]["y"] == [1, 2]
    table = r.table("preds")
    assert table.columns == ["id", "label", "p"] and table.rows == 2
    df = table.to_dataframe()
    assert df["label"].tolist() == ["cat", "<script>"] and df["id"].tolist() == [1, 2]
    assert r.media("preds")[0].metadata == {"columns": ["id", "label", "p"], "rows": 2}


def test_a_plotly_figure_logs_like_wandb_plotly(server: ServerThread) -> None:
    """The confusion-matrix example: run.log({"confusion_matrix": strata.Plotly(fig)})."""
    go = pytest.importorskip("plotly.graph_objects")
    fig = go.Figure(
        data=go.Heatmap(
            z=[[50, 10], [5, 35]], x=["Spam", "Not Spam"], y=["Spam", "Not Spam"], colorscale="Blues"
        )
    )
    run = strata.init(project="media", entity="tester", addr=server.addr)
    run.log({"confusion_matrix": strata.Plotly(fig)})
    run.finish()
    [value] = strata.Api(addr=server.addr).run(run.path).media("confusion_matrix")
    assert value.type == "plotly" and value.metadata == {"traces": 1}
    figure = value.json()
    assert figure["data"][0]["type"] == "heatmap" and figure["data"][0]["z"] == [[50, 10], [5, 35]]


def test_tables_from_dataframes_and_steps_ranges_page(server: ServerThread) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, float("nan"), 1.5]})
    run = strata.init(project="media", entity="tester", addr=server.addr)
    run.log({"t": strata.Table(dataframe=df)})
    df.loc[0, "a"] = 100  # changing the frame after logging does not change what is stored
    for step in range(1, 30):
        run.log({"txt": f"step {step}"}, step=step)
    run.finish()
    r = strata.Api(addr=server.addr).run(run.path)
    got = r.table("t", step=0).to_dataframe()
    assert got["a"].tolist() == [1, 2, 3] and got["b"].tolist() == ["x", "y", "z"]
    assert got["c"].tolist()[0] == 0.5 and got["c"].isna().tolist() == [False, True, False]
    assert [v.step for v in r.media("txt", min_step=10, max_step=12)] == [12, 11, 10]
    client = server.client()
    pages, token = [], ""
    while True:
        resp = client.query.ListMedia(
            q.ListMediaRequest(run=run.resource_name, key="txt", page_size=7, page_token=token)
        )
        pages.append([e.step for e in resp.entries])
        token = resp.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [7, 7, 7, 7, 1]
    assert [step for page in pages for step in page] == list(range(29, 0, -1))
    assert json.loads(
        client.query.GetMediaTable(q.GetMediaTableRequest(run=run.resource_name, key="t"))
        .columns[0]
        .values_json
    ) == [
        1,
        2,
        3,
    ]


def test_identical_values_are_stored_once(server: ServerThread) -> None:
    """Content addressing: the same image logged at many steps is one blob."""
    img = np.full((8, 8), 7, dtype=np.uint8)
    run = strata.init(project="media", entity="tester", addr=server.addr)
    for _ in range(5):
        run.log({"same": strata.Image(img)})
    run.finish()
    values = strata.Api(addr=server.addr).run(run.path).media("same")
    assert len(values) == 5 and len({v.sha256 for v in values}) == 1

    async def blobs() -> int:
        async with server.deps.pool.acquire() as conn:
            return await conn.fetchval("SELECT count(*) FROM blobs WHERE sha256 = $1", values[0].sha256)

    assert server.run(blobs()) == 1
