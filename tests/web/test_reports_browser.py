"""A report written with strata.Report drawn by the console at `report.url`, in a real headless Chromium:
a LinePlot grouped by a config key with three values draws one mean line (and band) per group, the
RunsTable lists the runset's runs, Markdown is text (a <script> in it runs nothing, a javascript: link
is not a link). Also the reports endpoints, a panel whose runset names a project the viewer may not
read (that panel shows PERMISSION_DENIED, the rest draws), and an outsider's 404.
With STRATA_DOCS_SCREENSHOTS=docs/images the test also refreshes the guide's screenshot."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest
import strata
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from tests.fixtures.web import sdk_as_alice
from tests.web.seed import ENTITY, PROJECT
from tests.web.test_browser import css, severe_logs, shot, sign_in, wait

pytestmark = pytest.mark.timeout(180)
WIDTHS = (64, 128, 256)
RUNS_PER_WIDTH = 2
STEPS = 30
PWN = "<script>window.__pwned=1</script>"
MARKDOWN = (
    "## Findings\n\nWider layers **converge faster**; see *the curves* and `config.width`.\n\n"
    f"- a list item\n- {PWN}\n\n[docs](https://example.com/docs) and [bad](javascript:window.__pwned=1)"
)
API = f"/api/v1/projects/{ENTITY}/{PROJECT}/reports"
SECRET = "entities/other-team/projects/secret"


@dataclass
class Made:
    report_id: str
    url: str
    denied_id: str


def sweep() -> None:
    for w in WIDTHS:
        for i in range(RUNS_PER_WIDTH):
            with strata.init(
                project=PROJECT, entity=ENTITY, job_type="width-sweep", config={"width": w, "seed": i}
            ) as run:
                for step in range(STEPS):
                    run.log({"sweep/loss": 10.0 / (1 + step * w / 64) + 0.1 * i})


@pytest.fixture(scope="module")
def made(console, tmp_path_factory: pytest.TempPathFactory) -> Made:  # type: ignore[no-untyped-def]
    with sdk_as_alice(console, tmp_path_factory.mktemp("spool")):
        sweep()
        report = strata.Report(
            project=PROJECT, entity=ENTITY, title="Width sweep", description="Loss by layer width"
        )
        report.blocks = [
            strata.report.H1("Curves"),
            strata.report.PanelGrid(
                runsets=[strata.report.Runset(filters={"job_type": "width-sweep"}, order="config.width")],
                panels=[
                    strata.report.LinePlot(
                        x="_step", y=["sweep/loss"], title="Loss by width", groupby="config.width"
                    ),
                    strata.report.RunsTable(columns=["name", "config.width", "summary.sweep/loss"]),
                ],
            ),
            strata.report.MarkdownBlock(MARKDOWN),
            strata.report.PanelGrid(
                runsets=[strata.report.Runset(filters={"job_type": "width-sweep"}, order="config.width")],
                panels=[
                    strata.report.ScalarChart(metric="summary.sweep/loss", aggregation="min"),
                    strata.report.BarPlot(metric="summary.sweep/loss", groupby="config.width"),
                    strata.report.ScatterPlot(x="config.width", y="summary.sweep/loss"),
                    strata.report.ParallelCoordinates(columns=["config.width", "config.seed"]),
                ],
            ),
            strata.report.ArtifactLineage("bert-classifier:staging"),
            strata.report.ArtifactVersions("bert-classifier"),
        ]
        report.save()
        url = report.url
    # the server admin writes a second report whose runset reads a project the team cannot read
    table = rp.Panel(runs_table=rp.RunsTable(columns=["name"]))
    blocks = [
        rp.Block(panel_grid=rp.PanelGrid(runsets=[rp.Runset(project=SECRET)], panels=[table])),
        rp.Block(panel_grid=rp.PanelGrid(runsets=[rp.Runset()], panels=[table])),
    ]
    with console.keys_server.client() as admin:
        denied = admin.reports.CreateReport(
            rs.CreateReportRequest(
                parent=f"entities/{ENTITY}/projects/{PROJECT}", report=rp.Report(title="mixed", blocks=blocks)
            )
        ).report
    return Made(report.id, url, denied.name.rsplit("/", 1)[-1])


def test_report_endpoints(console, made) -> None:  # type: ignore[no-untyped-def]
    with console.http(console.data.bob) as h:
        listed = h.get(API).json()["reports"]
        assert made.report_id in [r["id"] for r in listed]
        spec = h.get(f"{API}/{made.report_id}").json()["report"]
        assert spec["title"] == "Width sweep"
        assert [next(iter(b)) for b in spec["blocks"]] == [
            "heading",
            "panel_grid",
            "markdown",
            "panel_grid",
            "artifact_lineage",
            "artifact_versions",
        ]
        line = h.get(f"{API}/{made.report_id}/panels/1/0").json()["data"]
        groups = sorted(float(s["group"]) for s in line["series"])
        assert groups == [float(w) for w in WIDTHS]
        assert all(
            s["run_count"] == RUNS_PER_WIDTH and len(s["lower"]) == len(s["y"]) for s in line["series"]
        )
        rows = h.get(f"{API}/{made.report_id}/panels/1/1").json()["data"]["rows"]
        assert [r["values"][1] for r in rows] == [w for w in WIDTHS for _ in range(RUNS_PER_WIDTH)]
        refused = h.get(f"{API}/{made.denied_id}/panels/0/0")
        assert refused.status_code == 403 and refused.json()["error"]["reason"] == "PERMISSION_DENIED"
        assert h.get(f"{API}/{made.denied_id}/panels/1/0").status_code == 200
        bad = h.get(f"{API}/{made.report_id}/panels/7/0")
        assert bad.status_code in (400, 404) and bad.json()["error"]["reason"]
        assert h.get(f"{API}/nosuchreport").status_code == 404
    with console.http(console.data.carol) as h:
        assert h.get(API).status_code == 404
        assert h.get(f"{API}/{made.report_id}").json()["error"]["reason"] == "NOT_FOUND"
        assert h.get(f"/p/{ENTITY}/{PROJECT}/reports/{made.report_id}").status_code == 404


def test_report_page_draws_one_series_per_group(console, browser, made) -> None:  # type: ignore[no-untyped-def]
    assert made.url == f"{console.url}/p/{ENTITY}/{PROJECT}/reports/{made.report_id}"
    severe_logs(browser)  # forget earlier tests' errors
    sign_in(browser, console, console.data.bob, path=made.url.removeprefix(console.url))
    wait(browser, lambda d: css(d, ".panel[data-kind='line_plot'] .chart[data-series]"))
    chart = css(browser, ".panel[data-kind='line_plot'] .chart")[0]
    assert chart.get_attribute("data-series") == str(len(WIDTHS))
    assert chart.get_attribute("data-bands") == str(len(WIDTHS))
    assert css(browser, ".panel[data-kind='line_plot'] canvas")
    assert css(browser, "#title")[0].text == "Width sweep"
    assert css(browser, ".report-description")[0].text == "Loss by layer width"
    assert css(browser, "h2.report-heading")[0].text == "Curves"

    wait(browser, lambda d: css(d, ".panel[data-kind='runs_table'] table.report-runs tbody tr"))
    rows = css(browser, ".panel[data-kind='runs_table'] tbody tr")
    assert len(rows) == len(WIDTHS) * RUNS_PER_WIDTH
    widths = [r.find_elements("css selector", "td")[1].text for r in rows]
    assert widths == [str(w) for w in WIDTHS for _ in range(RUNS_PER_WIDTH)]
    assert (
        rows[0]
        .find_elements("css selector", "td a")[0]
        .get_attribute("href")
        .startswith(f"{console.url}/p/{ENTITY}/{PROJECT}/runs/")
    )

    md = css(browser, ".markdown")[0]
    assert PWN in md.text and "converge faster" in md.find_element("css selector", "strong").text
    assert not md.find_elements("css selector", "script")
    links = [a.get_attribute("href") for a in md.find_elements("css selector", "a")]
    assert links == ["https://example.com/docs"]
    assert browser.execute_script("return window.__pwned") is None
    assert severe_logs(browser) == []  # no CSP violation, no script error
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "console-report", height=1100)


def test_a_panel_the_viewer_cannot_read_shows_the_servers_error(console, browser, made) -> None:  # type: ignore[no-untyped-def]
    sign_in(browser, console, console.data.bob, path=f"/p/{ENTITY}/{PROJECT}/reports/{made.denied_id}")
    wait(browser, lambda d: len(css(d, ".panel[data-ready='1']")) == 2)
    refused, allowed = css(browser, ".panel")
    assert refused.get_attribute("data-error") == "PERMISSION_DENIED"
    assert "PERMISSION_DENIED" in refused.text and not refused.find_elements("css selector", "tbody tr")
    assert allowed.get_attribute("data-error") is None and allowed.find_elements("css selector", "tbody tr")


def test_reports_list_and_an_outsiders_404(console, browser, made) -> None:  # type: ignore[no-untyped-def]
    sign_in(browser, console, console.data.bob)
    wait(browser, lambda d: css(d, "#reports-link"))
    css(browser, "#reports-link")[0].click()
    wait(browser, lambda d: css(d, "#reports a.report-link"))
    titles = [a.text for a in css(browser, "#reports a.report-link")]
    assert "Width sweep" in titles
    sign_in(browser, console, console.data.carol, path=f"/p/{ENTITY}/{PROJECT}/reports/{made.report_id}")
    wait(browser, lambda d: css(d, "#title") and css(d, "#title")[0].text == "Not found")


def test_a_live_panel_refreshes_while_its_run_runs(console, browser, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    with sdk_as_alice(console, tmp_path_factory.mktemp("live")):
        run = strata.init(project=PROJECT, entity=ENTITY, job_type="live-probe")
        run.log({"live/loss": 1.0})
        report = strata.Report(project=PROJECT, entity=ENTITY, title="Live")
        report.blocks = [
            strata.report.PanelGrid(
                runsets=[strata.report.Runset(filters={"job_type": "live-probe"})],
                panels=[strata.report.RunsTable(columns=["name", "state"])],
            )
        ]
        report.save()
        try:
            sign_in(browser, console, console.data.bob, path=report.url.removeprefix(console.url))
            wait(browser, lambda d: css(d, ".panel[data-live='1']"))
            assert "running" in css(browser, ".panel tbody")[0].text
            wait(
                browser, lambda d: int(css(d, ".panel")[0].get_attribute("data-loads") or 0) >= 2, timeout=20
            )
        finally:
            run.finish()
        wait(browser, lambda d: "finished" in css(d, ".panel tbody")[0].text, timeout=20)
        assert css(browser, ".panel")[0].get_attribute("data-live") == ""


def test_other_panels_and_artifact_blocks(console, browser, made) -> None:  # type: ignore[no-untyped-def]
    severe_logs(browser)  # forget earlier tests' errors
    sign_in(browser, console, console.data.bob, path=made.url.removeprefix(console.url))
    wait(browser, lambda d: len(css(d, ".panel-grid[data-block='3'] .panel[data-ready='1']")) == 4)
    scalar, bars, scatter, parallel = css(browser, ".panel-grid[data-block='3'] .panel")
    assert scalar.find_element("css selector", ".scalar").text == "0.08547"
    bar_rows = bars.find_elements("css selector", "tbody tr")
    assert sorted(int(r.find_elements("css selector", "td")[0].text) for r in bar_rows) == list(WIDTHS)
    assert scatter.find_element("css selector", ".chart").get_attribute("data-points") == str(
        len(WIDTHS) * RUNS_PER_WIDTH
    )
    assert len(parallel.find_elements("css selector", "tbody tr")) == len(WIDTHS) * RUNS_PER_WIDTH
    wait(browser, lambda d: css(d, "a.lineage-link[href]"))
    assert severe_logs(browser) == []
    lineage = css(browser, "a.lineage-link")[0]
    assert lineage.get_attribute("href").endswith(quote("artifacts/bert-classifier/versions/v0", safe=""))
    versions = css(browser, ".artifact-block a.artifact-link")[0]
    assert versions.get_attribute("href") == f"{console.url}/p/{ENTITY}/{PROJECT}/artifacts/bert-classifier"
    lineage.click()
    wait(browser, lambda d: "/lineage?node=" in d.current_url and css(d, "#lineage-status"))
    wait(browser, lambda d: "nodes" in css(d, "#lineage-status")[0].text)
