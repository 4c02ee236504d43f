"""run.define_metric seen in the console, as W&B users expect it: the definitions stay out of the
run's config (the config table, the runs table's columns), a hidden metric gets no chart, and a
metric with a step_metric is drawn against it, in a real headless Chromium."""

from __future__ import annotations

import pytest
import strata

from tests.fixtures.iam import act_as
from tests.web.seed import ENTITY, PROJECT
from tests.web.test_browser import css, severe_logs, sign_in, wait

pytestmark = pytest.mark.timeout(120)
EPOCHS, STEPS_PER_EPOCH = 4, 10


@pytest.fixture(scope="module")
def defined_run(console) -> str:  # type: ignore[no-untyped-def]
    """A run that defines its metrics the W&B way, logged as alice; returns its id."""
    with pytest.MonkeyPatch.context() as mp:
        act_as(mp, console.keys_server.addr, console.data.alice)
        with strata.init(project=PROJECT, entity=ENTITY, job_type="defs", config={"lr": 0.1}) as run:
            run.define_metric("epoch", hidden=True)
            run.define_metric("val/*", step_metric="epoch", summary="max")
            run.define_metric("debug/*", hidden=True)
            for epoch in range(EPOCHS):
                for i in range(STEPS_PER_EPOCH):
                    run.log({"train/loss": 1.0 / (1 + epoch * STEPS_PER_EPOCH + i), "debug/grad": float(i)})
                run.log({"val/acc": 0.5 + epoch / 10, "epoch": epoch})
            return run.id


def test_definitions_stay_out_of_the_config_and_come_as_their_own_field(console, defined_run: str) -> None:  # type: ignore[no-untyped-def]
    with console.http(console.data.alice) as http:
        run = http.get(f"/api/v1/projects/{ENTITY}/{PROJECT}/runs/{defined_run}").json()["run"]
        listed = http.get(
            f"/api/v1/projects/{ENTITY}/{PROJECT}/runs", params={"filter": '{"job_type": "defs"}'}
        ).json()
    assert run["config"] == {"lr": 0.1}
    assert run["metric_definitions"]["val/*"] == {"step_metric": "epoch", "summary": "max"}
    assert run["metric_definitions"]["debug/*"] == {"hidden": True}
    assert [r["config"] for r in listed["runs"]] == [{"lr": 0.1}]


def test_a_hidden_metric_has_no_chart_and_a_step_metric_is_the_x_axis(
    console, browser, defined_run: str
) -> None:  # type: ignore[no-untyped-def]
    d = browser
    sign_in(d, console, console.data.alice, f"/p/{ENTITY}/{PROJECT}/runs/{defined_run}")
    wait(d, lambda d: d.execute_script("return document.body.dataset.chartsReady") == "1")
    charts = {c.get_attribute("data-key") for c in css(d, "#charts .chart")}
    assert charts == {"train/loss", "val/acc"}, "hidden metrics (epoch, debug/*) get no chart"
    val = wait(d, lambda d: next(iter(css(d, '.chart[data-key="val/acc"][data-x]')), None))
    assert val.get_attribute("data-x") == "epoch" and val.get_attribute("data-points") == str(EPOCHS)
    loss = wait(d, lambda d: next(iter(css(d, '.chart[data-key="train/loss"][data-x]')), None))
    assert loss.get_attribute("data-x") == "_step"
    assert "epoch" in val.text and "_strata_metrics" not in css(d, "#run-config")[0].text
    options = [o.get_attribute("value") for o in css(d, "#x-axis option")]
    assert "epoch" in options, "a hidden metric can still be the x axis"
    assert not severe_logs(d)
    d.save_screenshot("/tmp/console-metric-definitions.png")
