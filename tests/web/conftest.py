"""The console against a real keys-mode server seeded with the article's workflow, served by uvicorn on a
free port, and (for the browser tests) one headless Chromium per module driven by Selenium.

A failing browser test saves a screenshot beside the junit report (`failures_folder`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from strata_server.web.config import WebSettings

from tests.fixtures.web import WebThread
from tests.web.seed import Seeded, seed


def failures_folder(config: pytest.Config) -> Path:
    """Where failing browser tests leave screenshots: $STRATA_WEB_FAILURES, else beside the junit report
    (--junitxml), else test-reports/web."""
    if os.environ.get("STRATA_WEB_FAILURES"):
        return Path(os.environ["STRATA_WEB_FAILURES"])
    xml = getattr(config.option, "xmlpath", None)
    return Path(xml).parent / "strata-web-failures" if xml else Path("test-reports/web")


@dataclass
class Console:
    url: str
    data: Seeded
    keys_server: object
    web: WebThread

    def http(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, follow_redirects=False)


@pytest.fixture(scope="module")
def console(keys_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRATA_SPOOL_DIR", str(tmp_path_factory.mktemp("spool")))
        data = seed(keys_server, tmp_path_factory.mktemp("seed"), mp)
    web = WebThread(WebSettings(web_addr="127.0.0.1:0", grpc_addr=keys_server.addr, auth_mode="keys")).start()
    yield Console(web.url, data, keys_server, web)
    web.stop()


def chromium_available() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not chromium_available():
        pytest.fail(
            "chromium and chromedriver are required (make test installs them: apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--disable-gpu",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    )
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "browser" in item.fixturenames:
        driver = item.funcargs.get("browser")
        if driver is not None:
            folder = failures_folder(item.config)
            folder.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(folder / f"{item.name}.png"))
