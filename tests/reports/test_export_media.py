"""The HTML export of MediaPanels: Plotly figures drawn offline by the console's vendored plotly.js,
inlined once and only when a figure is shown, each figure's JSON embedded as a data block (a string in
it cannot end the block or run); a Content-Security-Policy that runs only those scripts; each run's
newest steps (at most 8, newest first, labelled). Opened from disk in headless Chromium with every
network request refused, the figures are drawn with no console error and no request. Screenshots land
in $STRATA_REPORT_SHOTS (default /tmp) for a person to look at."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import strata
import strata_server.web
from strata.sdk import report_plotly
from strata_server.web.config import WebSettings

from tests.fixtures.processes import free_port
from tests.fixtures.web import WebThread
from tests.media.pngs import gradient

pytestmark = [pytest.mark.usefixtures("sdk_env"), pytest.mark.timeout(240)]
SHOTS = Path(os.environ.get("STRATA_REPORT_SHOTS", "/tmp"))
PROJECT = "exportmedia"
PWN = "</script><script>window.__pwned=1</script>"
LINE = {
    "data": [
        {"type": "scatter", "mode": "lines+markers", "x": [0, 1, 2, 3], "y": [3, 1, 2, 0.5], "name": "loss"}
    ],
    "layout": {"title": {"text": f"loss {PWN}"}},
}
HEAT = {"data": [{"type": "heatmap", "z": [[50, 10], [5, 35]], "x": ["spam", "ham"], "y": ["spam", "ham"]}]}
IMAGE_STEPS = 10  # the export shows the newest 8
VENDORED = Path(strata_server.web.__file__).parent / "static" / "vendor" / "plotly-strict.min.js"
FIGURE_TAG = '<script type="application/json" class="plotly-data">'


def picture(step: int, i: int) -> np.ndarray:
    return gradient(24, step, i)


@dataclass
class Reports:
    console: str
    plotly: strata.Report  # a Plotly panel, an image panel and an HTML panel
    images: strata.Report  # an image panel only


def log_runs() -> None:
    with strata.init(project=PROJECT, name="figs") as run:
        run.log({"cm": strata.Plotly(HEAT)}, step=0)
        run.log(
            {"cm": strata.Plotly(LINE), "page": strata.Html("<h1>framed</h1><script>top.__pwned=1</script>")},
            step=3,
        )
    noise = np.random.default_rng(0)
    with strata.init(project=PROJECT, name="bigimgs") as run:
        for step in range(4):  # about 1 MB each (noise does not compress): 2 MB of earlier steps hold one
            run.log({"big": strata.Image(noise.integers(0, 256, (700, 500, 3), dtype=np.uint8))}, step=step)
    for name in ("imgs-a", "imgs-b"):
        with strata.init(project=PROJECT, name=name) as run:
            for step in range(IMAGE_STEPS):
                per_step = 2 if name == "imgs-a" else 1
                run.log(
                    {
                        "samples": [
                            strata.Image(picture(step, i), caption=f"s{step}i{i}") for i in range(per_step)
                        ]
                    },
                    step=step,
                )


def report(title: str, keys: list[str]) -> strata.Report:
    r = strata.Report(project=PROJECT, title=title)
    runset = strata.report.Runset(order="display_name")
    r.blocks = [
        strata.report.H1(title),
        strata.report.PanelGrid(runsets=[runset], panels=[strata.report.MediaPanel(k) for k in keys]),
    ]
    return r.save()


@pytest.fixture(scope="module")
def reports(sdk_env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reports]:  # type: ignore[no-untyped-def]
    web = WebThread(
        WebSettings(web_addr="127.0.0.1:0", grpc_addr=sdk_env.addr, auth_mode="open-local")
    ).start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRATA_SPOOL_DIR", str(tmp_path_factory.mktemp("spool")))
        mp.setenv("STRATA_WEB_URL", web.url)
        log_runs()
        yield Reports(
            web.url,
            report("Figures and samples", ["cm", "samples", "page", "big"]),
            report("Samples", ["samples"]),
        )
    web.stop()


@pytest.fixture
def exported(reports: Reports, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STRATA_WEB_URL", reports.console)
    out = tmp_path / "report.html"
    out.write_text(reports.plotly.export_html(), encoding="utf-8")
    return out


def scripts(page: str) -> list[str]:
    """The opening tags of the page's scripts that run (not data blocks)."""
    return re.findall(r"(?i)<script\b(?![^>]*application/json)[^>]*>", page)


def test_plotly_export_carries_each_figure_as_data_and_plotly_once(exported: Path) -> None:
    page = exported.read_text(encoding="utf-8")
    assert page.count(report_plotly.BANNER) == 1 and scripts(page) == [
        '<script id="plotly-js">',
        '<script id="plotly-draw">',
    ]
    blocks = re.findall(re.escape(FIGURE_TAG) + r"(.*?)</script>", page, re.S)
    assert [json.loads(b) for b in blocks] == [LINE, HEAT]  # newest step first; the JSON unchanged
    assert PWN not in page and "\\u003c/script\\u003e\\u003cscript\\u003ewindow.__pwned=1" in page
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert csp is not None
    hashes = re.findall(r"'sha256-[^']+'", csp.group(1))
    js = page.split('<script id="plotly-js">', 1)[1].split("</script>", 1)[0]
    assert js == VENDORED.read_text(encoding="utf-8")  # the console's file, as it is
    assert hashes == [report_plotly.script_hash(js), report_plotly.script_hash(report_plotly.DRAW)]
    assert "default-src 'none'" in csp.group(1)


def runs_html(page: str) -> dict[str, str]:
    """Each MediaPanel run's HTML by its name (the first panel that shows it)."""
    out: dict[str, str] = {}
    for part in page.split('<div class="media" ')[1:]:
        name = re.search(r"<h5>([^ <]+) <small>", part)
        assert name is not None
        out.setdefault(name.group(1), part)
    return out


def test_images_show_the_newest_8_steps_newest_first(exported: Path) -> None:
    runs = runs_html(exported.read_text(encoding="utf-8"))
    for name, per_step in (("imgs-a", 2), ("imgs-b", 1)):
        body = runs[name]
        assert body.startswith('data-run="') and 'data-steps="8"' in body.split(">", 1)[0]
        assert re.findall(r'class="step-label">step (\d+)<', body) == [str(s) for s in range(9, 1, -1)]
        assert body.count('src="data:image/png;base64,') == 8 * per_step
        assert re.findall(r"<figcaption>s(\d+)i0</figcaption>", body) == [str(s) for s in range(9, 1, -1)]


def test_older_steps_stop_at_the_size_limit_and_say_so(exported: Path) -> None:
    body = runs_html(exported.read_text(encoding="utf-8"))["bigimgs"]
    assert re.findall(r'class="step-label">step (\d+)<', body) == ["3", "2"]  # the newest always
    assert "2 older steps left out: too large to inline" in body


def test_an_export_without_plotly_runs_no_script(reports: Reports, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATA_WEB_URL", reports.console)
    page = reports.images.export_html()
    assert scripts(page) == [] and report_plotly.BANNER not in page and FIGURE_TAG not in page
    assert "script-src 'none'" in page
    assert len(page.encode()) < 200_000  # 24 small images and the page: no 5 MB of plotly.js


def test_an_export_without_plotly_does_not_read_plotly(
    reports: Reports, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRATA_WEB_URL", f"http://127.0.0.1:{free_port()}")  # nobody listens
    page = reports.images.export_html()
    assert page.count('class="step-label">step ') == 16 and "plotly" not in capsys.readouterr().err.lower()


def test_without_the_console_figures_are_named_and_the_export_succeeds(
    reports: Reports, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRATA_WEB_URL", f"http://127.0.0.1:{free_port()}")
    page = reports.plotly.export_html()
    assert scripts(page) == [] and FIGURE_TAG not in page
    assert (
        page.count("A Plotly figure: drawn on the report's page in the console (plotly.js could not be read")
        == 2
    )
    assert "Plotly figures are named, not drawn" in capsys.readouterr().err
    assert (
        page.count('class="step-label">step ') == 8 + 8 + 2 + 1 + 2
    )  # as with the console; figures at 2 steps


def test_markdown_export_names_the_media_panels(reports: Reports) -> None:
    text = reports.plotly.export_markdown()
    assert (
        "*MediaPanel: cm (see the report's page)*" in text
        and "*MediaPanel: samples (see the report's page)*" in text
    )


# In the browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    """Headless Chromium whose every network request fails (proxy to a closed port, no host resolves),
    logging the console and the network events."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("chromium and chromedriver are required (`make browser` installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000",
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND",
    ):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    )
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait_for(driver: Any, script: str, timeout: float = 60) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: d.execute_script(script))


def requests(driver: Any) -> list[str]:
    """The URLs the page asked for since the last call (from the DevTools network events)."""
    out = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            out.append(message["params"]["request"]["url"])
    return out


def test_the_exported_file_draws_offline_without_errors(chrome: Any, exported: Path) -> None:
    d = chrome
    d.get_log("browser"), d.get_log("performance")  # start clean
    d.set_window_size(1400, 2400)
    d.get(exported.as_uri())
    drawn = "return document.querySelectorAll('.plotly-figure[data-ready=\"1\"] svg.main-svg').length"
    assert wait_for(d, drawn) >= 1
    title = d.execute_script("return document.querySelector('.plotly-figure .gtitle').textContent")
    assert title.startswith("loss") and "__pwned" in title  # drawn as text
    assert d.execute_script("return window.__pwned") is None
    d.save_screenshot(str(SHOTS / "report-export-media.png"))

    # The earlier step's figure sits in a closed <details>: drawn once it is opened.
    d.execute_script("document.querySelector('.media details.earlier summary').click()")
    wait_for(d, "return document.querySelectorAll('.plotly-figure[data-ready=\"1\"]').length == 2")
    assert (
        d.execute_script(
            "return document.querySelectorAll('.plotly-figure .heatmaplayer image, .plotly-figure .hm').length"
        )
        >= 1
    )
    d.execute_script("document.querySelector('.plotly-figure[data-ready=\"1\"]').scrollIntoView()")
    d.save_screenshot(str(SHOTS / "report-export-media-earlier.png"))

    labels = d.execute_script(
        "const run = [...document.querySelectorAll('.media')].find(m => m.querySelector('h5').textContent.startsWith('imgs-b '));"
        "return [...run.querySelectorAll('.step-label')].map(e => e.textContent)"
    )
    assert labels == [f"step {s}" for s in range(9, 1, -1)]
    widths = d.execute_script("return [...document.images].map(i => i.complete ? i.naturalWidth : 0)")
    assert sorted(widths) == [24] * (8 * 2 + 8) + [500] * 2  # every image decoded
    d.switch_to.frame(d.find_element("css selector", "iframe[sandbox='']"))
    assert d.find_element("tag name", "h1").text == "framed"  # the sandboxed HTML renders under the policy
    d.switch_to.default_content()
    assert d.execute_script("return window.__pwned") is None

    errors = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    urls = requests(d)
    assert urls and all(u.startswith(("file://", "data:", "about:")) for u in urls), urls
