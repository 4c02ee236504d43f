"""Everyday W&B calls of the rich-value classes run unchanged: their keywords are taken (applied where
Strata has the feature, accepted with a one-time warning where it does not), and the values are
stored as W&B users expect."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
import strata as wandb
from PIL import Image as PILImage
from strata.sdk import _wandb

from tests.fixtures.servers import ServerThread
from tests.media.pngs import decode_png, gradient

pytestmark = [pytest.mark.usefixtures("spool"), pytest.mark.timeout(120)]


def test_wandb_keywords_of_image_table_and_html_are_taken(server: ServerThread, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text("<h1>from a file</h1>")
    colour = gradient(8, 1, 2)
    run = wandb.init(project="signatures", entity="tester", addr=server.addr)
    _wandb._warned.clear()  # each warning is said once per process: let this test hear them
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.log(
            {
                "grey": wandb.Image(PILImage.fromarray(colour), mode="L", caption="converted"),
                "boxed": wandb.Image(colour, boxes={"predictions": {"box_data": []}}, file_type=None),
                "rows": wandb.Table(columns=["a", "b"], rows=[[1, "x"]], allow_mixed_types=True, dtype=None),
                "file": wandb.Html(str(page)),
                "stream": wandb.Html(io.StringIO("<b>from a stream</b>"), inject=False),
                "markup": wandb.Html(str(page), data_is_not_path=True),
            }
        )
    run.finish()
    assert [str(w.message) for w in caught if "boxes=" in str(w.message)], "the dropped boxes are named once"
    r = wandb.Api(addr=server.addr).run(run.path)
    grey = decode_png(r.media("grey")[0].read_bytes())
    assert grey.shape == (8, 8) and np.array_equal(grey, np.asarray(PILImage.fromarray(colour).convert("L")))
    assert r.media("grey")[0].metadata["caption"] == "converted"
    assert np.array_equal(decode_png(r.media("boxed")[0].read_bytes()), colour)
    assert r.table("rows").to_dataframe().to_dict("list") == {"a": [1], "b": ["x"]}
    assert r.media("file")[0].text() == "<h1>from a file</h1>"
    assert r.media("stream")[0].text() == "<b>from a stream</b>"
    assert r.media("markup")[0].text() == str(page), "data_is_not_path: the string is the markup"
