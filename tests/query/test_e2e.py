"""End to end: log through the ingest SDK (strata.init / run.log / run.finish), then query at once.
Skipped until the ingest SDK (strata.sdk.run) is on the branch."""

from __future__ import annotations

import pytest
import strata


def test_points_logged_through_the_sdk_are_queryable_right_after_finish(
    server, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STRATA_ADDR", server.addr)
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    run = strata.init(
        project="e2e",
        entity="qe2e",
        config={"lr": 0.01, "opt": {"name": "adam"}},
        tags=["e2e"],
        job_type="train",
    )
    for step in range(2000):
        run.log({"train/loss": 1.0 / (step + 1), "val/f1": step / 2000})
    run.finish()

    api = strata.Api(server.addr)
    runs = api.runs(
        "qe2e/e2e", {"config.opt.name": "adam", "summary.val/f1": {"$gt": 0.9}}, order="-summary.val/f1"
    )
    assert len(runs) == 1 and runs[0].id == run.id
    found = runs[0]
    assert found.state == "finished" and found.tags == ["e2e"] and found.config["lr"] == 0.01
    assert found.summary["val/f1"] == pytest.approx(1999 / 2000)
    df = found.history(keys=["train/loss"], samples=100)
    assert df["_step"].iloc[0] == 0 and df["_step"].iloc[-1] == 1999 and len(df) <= 100
    rows = list(found.scan_history(["train/loss", "val/f1"], page_size=300))
    assert [r["_step"] for r in rows] == list(range(2000)) and rows[-1]["val/f1"] == pytest.approx(
        1999 / 2000
    )
