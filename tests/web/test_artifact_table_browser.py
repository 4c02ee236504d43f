"""An artifact version page in a real headless Chromium shows a table stored in the artifact
(`artifact.add(table, name)` -> `<name>.table.json`): its first rows, NaN as written, a `<script>`
cell as text, an image cell linking to its file; files that are not tables have no view button."""

from __future__ import annotations

import numpy as np
import pytest
import strata

from tests.web.seed import ENTITY, PROJECT
from tests.web.test_browser import css, severe_logs, sign_in, wait

pytestmark = pytest.mark.timeout(180)
SCRIPT_CELL = "<script>window.__pwned=1</script>"
ROWS = 130  # more than the view shows (100)


def test_a_table_in_an_artifact_is_shown_as_a_table(console, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes.json"
    notes.write_text('{"not": "a table"}')
    rows = [
        [i, float("nan") if i == 1 else i / 10, SCRIPT_CELL if i == 0 else f"label {i}", None]
        for i in range(ROWS)
    ]
    rows[2][3] = strata.Image(np.zeros((2, 2), np.uint8))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRATA_ADDR", console.keys_server.addr)
        mp.setenv("STRATA_API_KEY", console.data.alice)
        mp.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
        mp.setenv("STRATA_QUIET", "1")
        with strata.init(project=PROJECT, entity=ENTITY, job_type="eval") as run:
            art = strata.Artifact("eval-tables", type="predictions")
            art.add(strata.Table(columns=["id", "p", "label", "img"], data=rows), "preds")
            art.add_file(str(notes))
            version = run.log_artifact(art).version

    d = browser
    sign_in(d, console, console.data.alice, f"/p/{ENTITY}/{PROJECT}/artifacts/eval-tables/versions/{version}")
    d.get_log("browser")
    button = wait(
        d, lambda d: next(iter(css(d, 'button.table-view-button[data-path="preds.table.json"]')), None)
    )
    assert not css(d, '#file-tree li.file[data-path="notes.json"] button')
    button.click()
    view = wait(d, lambda d: next(iter(css(d, "#table-view[data-rows]")), None))
    assert view.get_attribute("data-rows") == str(ROWS)
    assert [th.text for th in css(view, "thead th")] == ["id", "p", "label", "img"]
    body = css(view, "tbody tr")
    assert len(body) == 100
    first, second, third = ([td.text for td in css(r, "td")] for r in body[:3])
    assert first == ["0", "0", SCRIPT_CELL, ""] and second[:2] == ["1", "NaN"]
    link = css(body[2], "td a")[0]
    assert third[3].startswith(
        "image: media/images/"
    ) and "/file?path=media%2Fimages%2F" in link.get_attribute("href")
    assert "100 of 130 rows" in view.text
    assert d.execute_script("return window.__pwned") is None
    assert severe_logs(d) == []
