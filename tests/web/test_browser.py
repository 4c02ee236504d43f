"""The article's workflow seen in the console, in a real headless Chromium (Selenium + chromedriver):
sign in, filter runs by job_type, a run's loss chart with every point, runs compared by learning rate
(one band per group), promoting an alias as an admin and being refused as a member, the production
model's lineage reaching the raw dataset, signing out; hostile text shown as text with no script run;
an outsider's 404. With STRATA_DOCS_SCREENSHOTS=docs/images the tests also refresh the guide's images."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
import strata
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.seed import ENTITY, HOSTILE, LOSS_STEPS, LRS, PROJECT

pytestmark = pytest.mark.timeout(120)
PROJECT_PATH = f"/p/{ENTITY}/{PROJECT}"
DOCS = os.environ.get("STRATA_DOCS_SCREENSHOTS")


def wait(driver, predicate, timeout: float = 15):  # type: ignore[no-untyped-def]
    """Until `predicate` is truthy; a re-render that replaces elements mid-check just means "check again"."""
    waiter = WebDriverWait(
        driver, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
    )
    return waiter.until(lambda d: predicate(d))


def css(driver, selector: str):  # type: ignore[no-untyped-def]
    return driver.find_elements(By.CSS_SELECTOR, selector)


def click(driver, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Click the element once it exists, finding it again if a re-render replaced it."""

    def attempt(d):  # type: ignore[no-untyped-def]
        found = css(d, selector)
        if found:
            found[0].click()
            return True
        return False

    wait(driver, attempt)


def shot(driver, name: str, height: int = 900) -> None:  # type: ignore[no-untyped-def]
    """A screenshot for the console guide (only when STRATA_DOCS_SCREENSHOTS names a folder)."""
    if not DOCS:
        return
    Path(DOCS).mkdir(parents=True, exist_ok=True)
    driver.set_window_size(1400, height)
    driver.save_screenshot(str(Path(DOCS) / f"{name}.png"))
    driver.set_window_size(1400, 1000)


def sign_in(driver, console, key: str, path: str = PROJECT_PATH) -> None:  # type: ignore[no-untyped-def]
    driver.get(console.url + "/signin")
    driver.delete_all_cookies()  # each test starts signed out, whatever the previous one left
    driver.get(console.url + path)
    wait(driver, lambda d: "/signin" in d.current_url and css(d, "#api-key"))
    css(driver, "#api-key")[0].send_keys(key)
    css(driver, "#signin-button")[0].click()
    wait(driver, lambda d: "/signin" not in d.current_url)


def sign_out(driver) -> None:  # type: ignore[no-untyped-def]
    wait(driver, lambda d: css(d, "#signout") and css(d, "#signout")[0].is_displayed())
    css(driver, "#signout")[0].click()
    wait(driver, lambda d: "/signin" in d.current_url)


def severe_logs(driver, expected: str = "favicon") -> list[str]:  # type: ignore[no-untyped-def]
    """Errors in the browser's console since the last call (CSP violations, script errors, failed loads)
    other than those containing `expected`."""
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and expected not in e["message"]
    ]


def test_the_workflow_in_the_console(console, browser) -> None:
    d, data = browser, console.data
    # 1. sign in (the project page sends us to the sign-in page and back)
    sign_in(d, console, data.alice)
    assert d.current_url.endswith(PROJECT_PATH)
    wait(d, lambda d: len(css(d, "#runs-table tbody tr")) >= len(data.train_runs))

    # 2. filter runs by job_type
    box = css(d, "#q-job_type")[0]
    box.send_keys("train")
    css(d, "#apply")[0].click()
    wait(d, lambda d: css(d, "#match-count")[0].get_attribute("data-count") == str(len(data.train_runs)))
    script = "return [...document.querySelectorAll('#runs-table tbody tr')].map(r => [r.dataset.run, r.dataset.jobType])"
    rows = wait(
        d,
        lambda d: (lambda got: got if got and all(j == "train" for _, j in got) else None)(
            d.execute_script(script)
        ),
    )
    assert {job for _, job in rows} == {"train"}
    assert {run for run, _ in rows} == set(data.train_runs)
    shot(d, "console-runs", height=660)

    # 3. open a run: its loss chart is drawn with every logged point
    click(d, f'tr[data-run="{data.train_runs[0]}"] a.run-link')
    chart = wait(d, lambda d: next(iter(css(d, '.chart[data-key="train/loss"][data-points]')), None))
    assert chart.get_attribute("data-points") == str(LOSS_STEPS)
    assert css(chart, "canvas"), "uPlot drew no canvas"
    shot(d, "console-run", height=1180)

    # 4. compare the sweep grouped by learning rate: one band per group
    runs = ",".join(data.train_runs)
    d.get(f"{console.url}{PROJECT_PATH}/compare?runs={runs}&key=train/loss&group_by=config.lr")
    chart = wait(d, lambda d: next(iter(css(d, "#compare-chart[data-ready]")), None))
    assert chart.get_attribute("data-bands") == str(len(LRS))
    assert len(css(d, "#compare-legend .group")) == len(LRS)

    # 5a. promote: a project admin moves the protected `production` alias
    d.get(f"{console.url}{PROJECT_PATH}/artifacts/bert-classifier")
    wait(d, lambda d: css(d, "#alias-form"))
    css(d, "#alias-name")[0].send_keys("production")
    css(d, "#alias-version option[value='v1']")[0].click()
    css(d, "#alias-reason")[0].send_keys("passed eval")
    css(d, "#alias-move")[0].click()
    wait(
        d,
        lambda d: any(
            r.text.startswith("production") and "v1" in r.text for r in css(d, "#aliases-table tbody tr")
        ),
    )
    wait(
        d,
        lambda d: any(
            "production" in r.text and "passed eval" in r.text
            for r in css(d, "#alias-history-table tbody tr")
        ),
    )

    # 6. the production model's lineage graph reaches the raw dataset
    d.get(f"{console.url}{PROJECT_PATH}/artifacts/bert-classifier/versions/v1")
    click(d, "#lineage-link")
    graph = wait(d, lambda d: next(iter(css(d, "#graph[data-nodes]")), None))
    labels = d.execute_script("return window.strataGraph.nodes().map(n => n.data('label'))")
    assert any(label.startswith("support-tickets:v0") for label in labels), labels
    assert int(graph.get_attribute("data-nodes")) >= 4
    shot(d, "console-lineage", height=760)

    # 7. sign out: the session is gone, pages ask to sign in again
    assert not severe_logs(d)
    sign_out(d)
    d.get(console.url + PROJECT_PATH)
    wait(d, lambda d: "/signin" in d.current_url)

    # 5b. a member is refused moving the protected alias, and sees the server's reason
    sign_in(d, console, data.bob, f"{PROJECT_PATH}/artifacts/bert-classifier")
    wait(d, lambda d: css(d, "#alias-form"))
    css(d, "#alias-name")[0].send_keys("production")
    css(d, "#alias-move")[0].click()
    msg = wait(d, lambda d: next((m for m in css(d, "#alias-message") if m.text), None))
    assert msg.get_attribute("data-reason") == "PROTECTED_ALIAS"
    assert "protected" in msg.text
    sign_out(d)
    assert not severe_logs(d, expected="403")  # the refused move itself is the only error


def test_hostile_text_is_shown_as_text_and_runs_no_script(console, browser) -> None:
    d, run = browser, console.data.hostile_run
    sign_in(d, console, console.data.alice, f"{PROJECT_PATH}?job_type=debug")
    wait(d, lambda d: css(d, f'tr[data-run="{run}"]'))
    assert HOSTILE["name"] in css(d, f'tr[data-run="{run}"] a.run-link')[0].text
    assert HOSTILE["tag"] in css(d, f'tr[data-run="{run}"] .tag')[0].text
    d.get(f"{console.url}{PROJECT_PATH}/runs/{run}")
    wait(d, lambda d: css(d, f'.chart[data-key="{HOSTILE["metric"]}"][data-points]'))
    assert css(d, "#title")[0].text == HOSTILE["name"]
    assert css(d, "#run-notes")[0].text == HOSTILE["notes"]
    assert HOSTILE["config"] in css(d, "#run-config")[0].text
    assert not css(d, "main script, main img")
    assert d.execute_script("return window.__pwned") is None
    assert not severe_logs(d)
    sign_out(d)


def test_an_outsider_sees_not_found(console, browser) -> None:
    d = browser
    sign_in(d, console, console.data.carol, "/")
    d.get(console.url + PROJECT_PATH)
    wait(d, lambda d: css(d, "#title"))
    assert css(d, "#title")[0].text == "Not found"
    d.get(f"{console.url}/api/v1/projects/{ENTITY}/{PROJECT}/runs?filter={quote('{}')}")
    assert "NOT_FOUND" in d.page_source
    d.get(console.url + "/")
    sign_out(d)


def test_a_running_runs_chart_updates_without_reloading(console, browser, tmp_path, monkeypatch) -> None:
    d, alice = browser, console.data.alice
    for name, value in (("STRATA_ADDR", console.keys_server.addr), ("STRATA_API_KEY", alice)):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path))
    run = strata.init(project=PROJECT, entity=ENTITY, job_type="train", name="live")
    selector = '.chart[data-key="live/loss"]'
    try:
        for step in range(10):
            run.log({"live/loss": 1 / (step + 1)})
        with console.http(alice) as http:
            wait(
                d,
                lambda _: (
                    len(
                        http.get(
                            f"/api/v1/projects/{ENTITY}/{PROJECT}/runs/{run.id}/history",
                            params={"key": "live/loss"},
                        ).json()["series"][0]["steps"]
                    )
                    == 10
                ),
            )
        sign_in(d, console, alice, f"{PROJECT_PATH}/runs/{run.id}")
        wait(d, lambda d: css(d, f'{selector}[data-points="10"]'))
        d.execute_script("window.__sameDocument = 1")
        for step in range(10, 25):
            run.log({"live/loss": 1 / (step + 1)})
        wait(d, lambda d: css(d, f'{selector}[data-points="25"]'), timeout=20)  # polled every 5 s
        assert d.execute_script("return window.__sameDocument") == 1  # updated in place, not reloaded
    finally:
        run.finish()
    sign_out(d)


def test_every_page_draws_without_browser_errors(console, browser) -> None:
    d, data = browser, console.data
    raw = f"entities/{ENTITY}/projects/{PROJECT}/artifacts/support-tickets/versions/v0"
    sign_in(d, console, data.alice, "/")
    severe_logs(d)  # drain what earlier tests left in the log
    pages = {
        "/": "#projects a.project-link",
        f"{PROJECT_PATH}/artifacts": 'table.artifacts[data-type="model"]',
        f"{PROJECT_PATH}/artifacts/bert-classifier/versions/v0": '#file-tree li.file[data-path="model.pth"]',
        f"{PROJECT_PATH}/artifacts/bert-classifier/diff?old=v0&new=v2": "#diff-config",
        f"{PROJECT_PATH}/impact?node={quote(raw)}": "#impact-table tbody tr",
        f"{PROJECT_PATH}/compare?runs={','.join(data.train_runs)}&key=train/loss": "#compare-chart[data-ready]",
    }
    for path, selector in pages.items():
        d.get(console.url + path)
        wait(d, lambda d, s=selector: css(d, s))
        assert not severe_logs(d), path
    assert css(d, "#compare-chart")[0].get_attribute("data-series") == str(len(data.train_runs))
    d.get(f"{console.url}{PROJECT_PATH}/runs/{data.train_runs[0]}")
    wait(d, lambda d: css(d, '.chart[data-key="train/loss"][data-points]'))
    for control in ("#log-scale", "#band"):
        css(d, control)[0].click()
    chart = wait(d, lambda d: next(iter(css(d, '.chart[data-key="train/loss"][data-bands="1"]')), None))
    assert chart.get_attribute("data-points") == str(LOSS_STEPS)
    d.get(f"{console.url}{PROJECT_PATH}/artifacts/bert-classifier/versions/v0")
    wait(d, lambda d: css(d, "#used-by li"))  # the eval run used model:staging (v0)
    assert not severe_logs(d)
    sign_out(d)


def test_an_estimated_count_offers_to_count_exactly(console, browser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from strata_server.query.search import estimate

    # The services run in this process: a tiny sample and exact cap make the seeded project "large".
    monkeypatch.setattr(estimate, "SAMPLE_RUNS", 2)
    monkeypatch.setattr(estimate, "EXACT_UP_TO", 1)
    monkeypatch.setattr(estimate, "MIN_SAMPLE_MATCHES", 1)
    d = browser
    sign_in(d, console, console.data.alice)
    count = wait(d, lambda d: next(iter(css(d, '#match-count[data-estimated="true"]')), None))
    assert count.text.startswith("≈ ") and count.text.endswith(" runs match")
    button = css(d, "#count-exactly")[0]
    assert button.is_displayed()
    with console.http(console.data.alice) as http:
        exact = http.get(f"/api/v1/projects/{ENTITY}/{PROJECT}/runs-count").json()["count"]
    button.click()
    count = wait(d, lambda d: next(iter(css(d, '#match-count[data-estimated="false"]')), None))
    assert count.get_attribute("data-count") == str(exact)
    assert count.text == f"{exact} runs match"
    assert not css(d, "#count-exactly")[0].is_displayed()
    sign_out(d)


def test_impact_more_fetches_the_next_page(console, browser) -> None:
    d, data = browser, console.data
    raw = f"entities/{ENTITY}/projects/{PROJECT}/artifacts/support-tickets/versions/v0"
    with console.http(data.alice) as http:
        whole = http.get("/api/v1/impact", params={"node": raw, "page_size": 10_000}).json()
    expected = [n["name"] for n in whole["nodes"]]
    sign_in(d, console, data.alice, f"{PROJECT_PATH}/impact?node={quote(raw)}&page_size=3")
    rows = "#impact-table tbody tr"
    wait(d, lambda d: len(css(d, rows)) == 2)  # three nodes on the first page: the start node and two more
    assert css(d, "#impact-counts")[0].get_attribute("data-complete") == "false"
    for shown in range(5, len(expected) + 3, 3):
        click(d, "#impact-more")
        wait(d, lambda d, n=min(shown, len(expected)): len(css(d, rows)) == n)
    wait(d, lambda d: css(d, "#impact-counts")[0].get_attribute("data-complete") == "true")
    assert not css(d, "#impact-more")[0].is_displayed()
    hrefs = d.execute_script(
        "return [...document.querySelectorAll('#impact-table tbody tr td:first-child a')].map(a => a.getAttribute('href'))"
    )
    assert len(set(hrefs)) == len(hrefs) == len(expected)
    counts = css(d, "#impact-counts")[0].text
    assert counts.startswith(f"{whole['version_count']} versions and {whole['run_count']} runs downstream")
    sign_out(d)
