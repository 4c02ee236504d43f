"""A report's MediaPanels and Markdown in a real headless Chromium: each run of the runset that logged
the key draws its values as the run page does (images with a step slider, a sortable table whose
`<script>` cell is text, a histogram heatmap, a Plotly figure, HTML in a sandboxed iframe); Markdown is
rendered (headings, lists, emphasis, code, links, tables) and a `<script>` in it is text. The HTML
export carries the images and tables inline (data: URIs) and renders with every network request
refused. Screenshots land in $STRATA_REPORT_SHOTS (default /tmp) for a person to look at."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import strata

from tests.fixtures.web import sdk_as_alice
from tests.web.seed import ENTITY, PROJECT
from tests.web.test_browser import css, severe_logs, shot, sign_in, wait
from tests.web.test_media_browser import SCRIPT_CELL, FigureShim, picture

pytestmark = pytest.mark.timeout(240)
SHOTS = Path(os.environ.get("STRATA_REPORT_SHOTS", "/tmp"))
JOB = "report-media"
IMAGES = {"m0": (2, 3), "m1": (3, 2)}  # run: (steps, images per step)
PWN = "<script>window.__pwned=1</script>"
MARKDOWN = (
    "# Samples\n\nThe **latest** images of each run, see *below* and `samples`.\n\n"
    f"1. first\n2. {PWN}\n\n| run | images |\n|---|--:|\n| m0 | 3 |\n| m1 | 2 |\n\n"
    "```\ncode <b>here</b>\n```\n\n[docs](https://example.com/docs) [bad](javascript:window.__pwned=1)"
)
HOSTILE_HTML = "<h1>framed</h1><script>window.top.__pwned=1</script>"
KEYS = ("samples", "preds", "weights", "cm", "page")


@dataclass
class Made:
    url: str
    path: str


def log_runs() -> None:
    rng = np.random.default_rng(0)
    for name, (steps, per_step) in IMAGES.items():
        with strata.init(project=PROJECT, entity=ENTITY, job_type=JOB, name=name) as run:
            for step in range(steps):
                values: dict[str, object] = {
                    "samples": [
                        strata.Image(picture(step, i), caption=f"{name} s{step}i{i}") for i in range(per_step)
                    ]
                }
                if name == "m0":
                    values["weights"] = strata.Histogram(rng.normal(step, 1.0, 300), num_bins=24)
                    if step == 0:
                        rows = [[i, SCRIPT_CELL if i == 0 else f"label {i}", i / 10] for i in range(25)]
                        values["preds"] = strata.Table(columns=["id", "label", "p"], data=rows)
                        values["cm"] = strata.Plotly(
                            FigureShim({"data": [{"type": "heatmap", "z": [[5, 1], [2, 7]]}], "layout": {}})
                        )
                        values["page"] = strata.Html(HOSTILE_HTML)
                run.log(values, step=step)


@pytest.fixture(scope="module")
def made(console, tmp_path_factory: pytest.TempPathFactory) -> Made:  # type: ignore[no-untyped-def]
    with sdk_as_alice(console, tmp_path_factory.mktemp("spool")):
        log_runs()
        report = strata.Report(project=PROJECT, entity=ENTITY, title="Media report")
        report.blocks = [
            strata.report.MarkdownBlock(MARKDOWN),
            strata.report.PanelGrid(
                runsets=[strata.report.Runset(filters={"job_type": JOB}, order="created_at")],
                panels=[strata.report.MediaPanel(key) for key in KEYS],
            ),
        ]
        report.save()
        return Made(report.url, report.url.removeprefix(console.url))


def panel(d, key: str):  # type: ignore[no-untyped-def]
    """The MediaPanel of `key` once its data is drawn."""
    return wait(d, lambda d: next(iter(css(d, f".panel[data-kind='media_panel'][data-ready='1']:nth-child({KEYS.index(key) + 1})")), None), 30)  # fmt: skip


def test_media_panels_draw_each_runs_values(console, browser, made) -> None:  # type: ignore[no-untyped-def]
    d = browser
    severe_logs(d)
    sign_in(d, console, console.data.alice, made.path)
    samples = panel(d, "samples")
    assert samples.find_element("css selector", ".panel-body").get_attribute("data-runs") == "2"
    runs = wait(d, lambda d: [b for b in css(samples, ".report-media[data-images]")] if len(css(samples, ".report-media[data-images]")) == 2 else None)  # fmt: skip
    assert [b.find_element("css selector", "h5 a").text for b in runs] == ["m0", "m1"]
    for box, (steps, per_step) in zip(runs, IMAGES.values(), strict=True):
        assert box.get_attribute("data-step") == str(steps - 1) and box.get_attribute("data-images") == str(
            per_step
        )
        wait(d, lambda d, box=box, n=per_step: len(css(box, ".image-grid img")) == n)
    slider = css(runs[0], "input.media-step")[0]
    d.execute_script("arguments[0].value = 0; arguments[0].dispatchEvent(new Event('input'))", slider)
    wait(d, lambda d: runs[0].get_attribute("data-step") == "0")
    assert [c.text for c in css(runs[0], "figcaption")] == [f"m0 s0i{i}" for i in range(3)]

    table = wait(d, lambda d: next(iter(css(panel(d, "preds"), ".report-media[data-rows]")), None), 30)
    assert table.get_attribute("data-rows") == "25"
    cell = wait(d, lambda d: next(iter(css(table, "tbody tr td:nth-child(2)")), None))
    assert cell.text == SCRIPT_CELL and len(css(panel(d, "preds"), ".report-media")) == 1  # only m0 logged it
    heat = wait(d, lambda d: next(iter(css(panel(d, "weights"), "canvas.histogram-heatmap")), None))
    assert heat.get_attribute("data-steps") == "2"
    wait(d, lambda d: css(panel(d, "cm"), ".plotly-figure svg.main-svg"), 30)
    frame = wait(d, lambda d: next(iter(css(panel(d, "page"), "iframe.media-html")), None))
    assert frame.get_attribute("sandbox") == ""

    md = css(d, ".markdown")[0]
    assert md.find_element("css selector", "h3").text == "Samples"
    assert md.find_element("css selector", "strong").text == "latest"
    assert [li.text for li in md.find_elements("css selector", "ol li")] == ["first", PWN]
    assert [c.text for c in md.find_elements("css selector", "table td")] == ["m0", "3", "m1", "2"]
    assert md.find_element("css selector", "pre code").text == "code <b>here</b>"
    assert [a.get_attribute("href") for a in md.find_elements("css selector", "a")] == [
        "https://example.com/docs"
    ]
    assert not md.find_elements("css selector", "script, b, [style]")
    assert d.execute_script("return window.__pwned") is None
    errors = [m for m in severe_logs(d) if not ("plotly-strict.min.js" in m and "inline style" in m)]
    assert errors == []
    d.execute_script("window.scrollTo(0, 0)")
    d.set_window_size(1400, 2000)
    d.save_screenshot(str(SHOTS / "report-media-console.png"))
    d.execute_script("arguments[0].scrollIntoView()", panel(d, "weights"))
    d.save_screenshot(str(SHOTS / "report-media-console-2.png"))  # histogram, Plotly, HTML
    d.set_window_size(1400, 1000)
    shot(d, "console-report-media", height=1600)


def test_html_export_shows_images_and_tables_inline_offline(console, made, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with sdk_as_alice(console):
        page = strata.Api().report(made.url).export_html()
    own = page.split('<script id="plotly-js">')[0]  # the page without the inlined plotly.js
    srcs = re.findall(r'\bsrc="([^"]*)"', own)
    assert len(srcs) == 2 * 3 + 3 * 2  # every step of m0 (3 images each) and m1 (2 each)
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"(?i)<link\b", page)  # the only scripts: plotly.js and the one drawing "cm"
    assert re.findall(r"(?i)<script\b(?![^>]*application/json)[^>]*>", page) == [
        '<script id="plotly-js">',
        '<script id="plotly-draw">',
    ]
    assert '<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="&lt;h1&gt;framed' in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page  # the Markdown's and the table's
    assert (
        "<h3>Samples</h3>" in page
        and "<td>m1</td>" in page
        and "javascript:" not in own.replace("[bad](javascript:window.__pwned=1)", "")
    )
    out = tmp_path / "report.html"
    out.write_text(page, encoding="utf-8")
    dom = render_offline(out, SHOTS / "report-media-export.png")
    assert dom.count("<img") == 12 and dom.count('class="media-table"') == 1 and "<svg" in dom
    assert "__pwned=1" not in re.sub(
        r"&lt;script&gt;window.__pwned=1&lt;/script&gt;|\[bad\]\([^)]*\)|srcdoc=\"[^\"]*\"", "", dom
    )


def render_offline(page: Path, screenshot: Path) -> str:
    """The DOM after headless Chromium loaded the page with every network request refused; also a
    screenshot of it."""
    base = [
        "chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={page.parent / 'profile'}",
    ]  # fmt: skip
    done = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    shot_cmd = [*base, "--window-size=1400,2000", f"--screenshot={screenshot}", page.as_uri()]
    subprocess.run(shot_cmd, capture_output=True, timeout=120, check=False)
    return done.stdout


def test_a_long_runs_table_is_drawn_a_page_at_a_time(console, browser, made) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures import query as fx

    async def many() -> None:
        pool = console.keys_server.deps.pool
        await fx.bulk_runs(pool, await fx.create_project(pool, ENTITY, PROJECT), 250)

    console.keys_server.run(many())
    with sdk_as_alice(console):
        report = strata.Report(project=PROJECT, entity=ENTITY, title="Long table")
        table = strata.report.RunsTable(columns=["name", "state"])
        report.blocks = [strata.report.PanelGrid(runsets=[strata.report.Runset(limit=5000)], panels=[table])]
        report.save()
        path = report.url.removeprefix(console.url)
    d = browser
    sign_in(d, console, console.data.alice, path)
    body = wait(d, lambda d: next(iter(css(d, ".panel[data-ready='1'] .panel-body[data-rows]")), None), 30)
    total = int(body.get_attribute("data-rows"))
    assert total >= 250 and len(css(body, "tbody tr")) == 100
    first = css(body, "tbody tr td")[0].text
    css(body, "button.table-next")[0].click()
    wait(d, lambda d: css(body, "tbody tr td")[0].text != first)
    assert css(body, "p.muted")[0].text.startswith(f"101\u2013200 of {total} listed")
    css(body, "button.table-prev")[0].click()
    wait(d, lambda d: css(body, "tbody tr td")[0].text == first)
