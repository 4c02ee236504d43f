"""MediaPanel's data: the runs of its runset that logged the key, in the runset's order, at most 12,
each with the key's type, value count and step range; runs without the key are left out."""

from __future__ import annotations

import json

import numpy as np
import pytest
import strata

pytestmark = [pytest.mark.usefixtures("sdk_env"), pytest.mark.timeout(180)]
RUNS = 14


@pytest.fixture(scope="module")
def report(sdk_env, tmp_path_factory: pytest.TempPathFactory) -> strata.Report:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRATA_SPOOL_DIR", str(tmp_path_factory.mktemp("spool")))
        for i in range(RUNS):
            with strata.init(project="mediapanel", name=f"r{i:02d}", config={"i": i}) as run:
                if i != 3:  # run 3 logs no image
                    for step in (0, 5):
                        run.log({"samples": strata.Image(np.full((4, 4), i * 10, dtype=np.uint8))}, step=step)
                run.log({"loss": 1.0}, step=6)
    report = strata.Report(project="mediapanel", title="media")
    runset = strata.report.Runset(order="config.i")
    report.blocks = [
        strata.report.PanelGrid(
            runsets=[runset],
            panels=[strata.report.MediaPanel("samples"), strata.report.MediaPanel("never/logged")],
        )
    ]
    return report.save()


def test_media_panel_lists_the_runs_that_logged_the_key(report: strata.Report) -> None:
    data = report.panel_data(0, 0)
    assert list(data.columns) == ["name", "type", "values", "first_step", "last_step"]
    assert data.run_count == RUNS
    names = [r.display_name for r in data.rows]
    assert names == [f"r{i:02d}" for i in range(RUNS) if i != 3][:12]  # runset order, at most 12
    assert [json.loads(v) for v in data.rows[0].values] == ["r00", "image", 2, 0, 5]


def test_a_key_nobody_logged_has_no_rows(report: strata.Report) -> None:
    data = report.panel_data(0, 1)
    assert list(data.rows) == [] and data.run_count == RUNS


def test_html_export_inlines_each_listed_runs_images_at_its_steps(report: strata.Report) -> None:
    page = report.export_html()
    assert page.count('src="data:image/png;base64,') == 12 * 2  # 12 runs listed, steps 5 and 0
    assert page.count('class="step-label">step 5<') == page.count('class="step-label">step 0<') == 12
    assert "No run of this panel logged <code>never/logged</code>" in page
