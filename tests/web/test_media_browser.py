"""The run page's media panel in a real headless Chromium: an image grid with a step slider, a Plotly
figure drawn by the vendored plotly.js under the console's CSP, HTML in a sandboxed iframe, a sortable
paged table whose `<script>` cell is text, a histogram heatmap over steps, text; hostile HTML and SVG
run no script. Also the media endpoints' answers (types, sandboxing headers, downloads, errors).
With STRATA_DOCS_SCREENSHOTS=docs/images the test also refreshes the guide's screenshot."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import strata

from tests.media.pngs import gradient
from tests.web.seed import ENTITY, PROJECT
from tests.web.test_browser import DOCS, css, shot, sign_in, wait

pytestmark = pytest.mark.timeout(180)
IMAGE_STEPS, IMAGES_PER_STEP, HIST_STEPS, TABLE_ROWS = 3, 4, 6, 45
PWN = "window.__pwned=1"
HOSTILE_HTML = f'<h1>report</h1><script>{PWN}</script><img src=x onerror="window.top.__pwned=1">'
HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
    '<script>window.top.__pwned=1</script><rect width="40" height="40" fill="teal"/></svg>'
)
SCRIPT_CELL = "<script>window.__pwned=1</script>"


# A WebGL trace: plotly.js draws it with regl, whose generated code needs 'unsafe-eval' unless the build
# ships it precompiled (the strict build the console vendors).
GL_FIGURE = {
    "data": [{"type": "scattergl", "mode": "markers", "x": [1, 2, 3, 4], "y": [3, 1, 4, 1]}],
    "layout": {},
}


class FigureShim:
    """A figure with `to_json()`, like plotly's, so the test needs no plotly install."""

    def __init__(self, figure: dict[str, object]) -> None:
        self.figure = figure

    def to_json(self) -> str:
        return json.dumps(self.figure)


def picture(step: int, i: int) -> np.ndarray:
    return gradient(16, step, i)


@dataclass
class MediaRun:
    run_id: str
    page: str
    api: str


@pytest.fixture(scope="module")
def media_run(console, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("media")
    svg = tmp / "hostile.svg"
    svg.write_text(HOSTILE_SVG)
    figure = FigureShim(
        {
            "data": [
                {
                    "type": "heatmap",
                    "z": [[50, 10], [5, 35]],
                    "x": ["Spam", "Not Spam"],
                    "y": ["Spam", "Not Spam"],
                }
            ],
            "layout": {"title": {"text": "confusion matrix"}},
        }
    )
    rows = [[i, SCRIPT_CELL if i == 0 else f"label {i}", round(1 - i / 100, 3)] for i in range(TABLE_ROWS)]
    rng = np.random.default_rng(0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRATA_ADDR", console.keys_server.addr)
        mp.setenv("STRATA_API_KEY", console.data.alice)
        mp.setenv("STRATA_SPOOL_DIR", str(tmp / "spool"))
        with strata.init(project=PROJECT, entity=ENTITY, job_type="eval", name="media") as run:
            for step in range(HIST_STEPS):
                values: dict[str, object] = {
                    "weights": strata.Histogram(rng.normal(step * 0.5, 1.0, 500), num_bins=32)
                }
                if step < IMAGE_STEPS:
                    values["samples"] = [
                        strata.Image(picture(step, i), caption=f"s{step}i{i}") for i in range(IMAGES_PER_STEP)
                    ]
                if step == 0:
                    values.update(
                        {
                            "confusion_matrix": strata.Plotly(figure),
                            "embedding": strata.Plotly(GL_FIGURE),
                            "report": strata.Html(HOSTILE_HTML),
                            "vector": strata.Image(svg),
                            "predictions": strata.Table(columns=["id", "label", "p"], data=rows),
                            "notes": "line one\n<b>not bold</b>",
                        }
                    )
                run.log(values, step=step)
            run_id = run.id
    page = f"/p/{ENTITY}/{PROJECT}/runs/{run_id}"
    return MediaRun(run_id, page, f"/api/v1/projects/{ENTITY}/{PROJECT}/runs/{run_id}/media")


def test_media_endpoints_sandbox_every_answer(console, media_run) -> None:
    with console.http(console.data.alice) as h:
        keys = {k["key"]: k for k in h.get(media_run.api).json()["keys"]}
        assert (
            keys["samples"]["type"] == "image" and keys["samples"]["count"] == IMAGE_STEPS * IMAGES_PER_STEP
        )
        page = h.get(f"{media_run.api}/values", params={"key": "samples", "page_size": 5}).json()
        assert [v["step"] for v in page["values"]] == [2, 2, 2, 2, 1] and page["next_page_token"]
        table = h.get(f"{media_run.api}/table", params={"key": "predictions"}).json()
        assert table["rows"] == TABLE_ROWS and table["columns"][1]["values"][0] == SCRIPT_CELL

        def blob(key: str, kind: str, **headers: str):  # type: ignore[no-untyped-def]
            sha = h.get(f"{media_run.api}/values", params={"key": key}).json()["values"][0]["sha256"]
            return h.get(f"{media_run.api}/blob/{sha}", params={"type": kind}, headers=headers)

        png, html, svg = blob("samples", "image"), blob("report", "html"), blob("vector", "image")
        framed = blob("report", "html", **{"Sec-Fetch-Dest": "iframe"})
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
        assert svg.headers["content-type"] == "image/svg+xml"
        assert html.headers["content-type"].startswith("text/html") and html.text == HOSTILE_HTML
        for r in (png, html, svg, framed):
            csp = r.headers["content-security-policy"]
            assert csp.startswith("sandbox;") and "allow-" not in csp
            assert r.headers["x-content-type-options"] == "nosniff"
        assert html.headers["content-disposition"].startswith("attachment")
        assert svg.headers["content-disposition"].startswith("attachment")
        assert "content-disposition" not in framed.headers and "content-disposition" not in png.headers

        missing = h.get(f"{media_run.api}/blob/{'0' * 64}", params={"type": "image"})
        assert missing.status_code == 404
        bad = h.get(f"{media_run.api}/blob/nothex", params={"type": "image"})
        assert bad.status_code == 400 and bad.json()["error"]["reason"] == "INVALID_DIGEST"
        no_key = h.get(f"{media_run.api}/values")
        assert no_key.status_code == 400 and no_key.json()["error"]["field"] == "key"
    with console.http(console.data.carol) as h:
        assert h.get(media_run.api).status_code == 404


def unexpected_errors(log: list[dict[str, str]]) -> list[str]:
    """Severe browser messages other than two known, harmless ones: the hostile HTML's `<img src=x>`
    failing to load inside the sandbox, and plotly.js setting `style` attributes (an empty one on the
    colour bar, the heatmap image's rendering hint), which the CSP (style-src 'self') blocks."""

    def harmless(m: str) -> bool:
        return (
            "/x " in m
            or "favicon" in m
            or ("plotly-strict.min.js" in m and "Applying inline style" in m and "style attributes" in m)
        )

    return [e["message"] for e in log if e["level"] == "SEVERE" and not harmless(e["message"])]


def panel(driver, key: str, attr: str):  # type: ignore[no-untyped-def]
    """The media panel of `key` once it carries data-`attr`."""
    return wait(
        driver, lambda d: next(iter(css(d, f'.media-panel[data-key="{key}"][data-{attr}]')), None), 30
    )


def test_media_panel_draws_every_kind_and_runs_no_script(console, browser, media_run) -> None:
    d = browser
    sign_in(d, console, console.data.alice, media_run.page)
    d.get_log("browser")  # start the log afresh

    grid = panel(d, "samples", "images")
    assert grid.get_attribute("data-images") == str(IMAGES_PER_STEP)
    assert grid.get_attribute("data-step") == str(IMAGE_STEPS - 1)
    wait(d, lambda d: len(css(grid, ".image-grid img")) == IMAGES_PER_STEP)
    slider = css(grid, "input.media-step")[0]
    d.execute_script("arguments[0].value = 0; arguments[0].dispatchEvent(new Event('input'))", slider)
    wait(d, lambda d: grid.get_attribute("data-step") == "0")
    assert [c.text for c in css(grid, "figcaption")] == [f"s0i{i}" for i in range(IMAGES_PER_STEP)]

    fig = panel(d, "confusion_matrix", "ready")
    wait(d, lambda d: css(fig, ".plotly-figure svg.main-svg"))
    gl = panel(d, "embedding", "ready")
    wait(d, lambda d: css(gl, ".plotly-figure svg.main-svg") and css(gl, ".plotly-figure canvas"))

    frame = wait(d, lambda d: next(iter(css(d, '.media-panel[data-key="report"] iframe')), None))
    assert frame.get_attribute("sandbox") == ""

    table = panel(d, "predictions", "rows")
    assert table.get_attribute("data-rows") == str(TABLE_ROWS)
    cell = wait(d, lambda d: next(iter(css(table, "tbody tr td:nth-child(2)")), None))
    assert cell.text == SCRIPT_CELL
    assert len(css(table, "tbody tr")) == 20  # one page
    css(table, 'th[data-col="0"]')[0].click()  # sort by id, then flip to descending
    css(table, 'th[data-col="0"]')[0].click()
    wait(d, lambda d: css(table, "tbody tr td")[0].text == str(TABLE_ROWS - 1))
    css(table, "button.table-next")[0].click()
    wait(d, lambda d: css(table, "tbody tr td")[0].text == str(TABLE_ROWS - 21))

    hist = panel(d, "weights", "steps")
    assert hist.get_attribute("data-steps") == str(HIST_STEPS)
    assert css(hist, "canvas.histogram-heatmap")[0].get_attribute("data-steps") == str(HIST_STEPS)
    text = wait(d, lambda d: next(iter(css(d, '.media-panel[data-key="notes"] pre')), None))
    assert text.text == "line one\n<b>not bold</b>"
    svg = wait(d, lambda d: next(iter(css(d, '.media-panel[data-key="vector"] img')), None))
    wait(d, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", svg))

    assert d.execute_script("return window.__pwned") is None
    assert unexpected_errors(d.get_log("browser")) == []
    if DOCS:  # the guide's picture: the panel as it first opens
        d.get(console.url + media_run.page)
        panel(d, "confusion_matrix", "ready")
        wait(d, lambda d: d.execute_script("return [...document.images].every(i => i.complete)"))
        d.execute_script("document.getElementById('media').scrollIntoView()")
        shot(d, "console-media", height=1500)
