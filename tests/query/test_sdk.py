"""The W&B-shaped query SDK (strata.Api) and the `strata runs` CLI against a real server."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import strata
from strata.cli.main import main as cli
from strata.errors import Reason, StrataError

from tests.fixtures import query as fx

PATH = "sdk/proj"


@pytest.fixture(scope="module")
def api(server):  # type: ignore[no-untyped-def]
    async def load() -> None:
        pool = server.deps.pool
        pid = await fx.create_project(pool, "sdk", "proj")
        for i in range(12):
            pk = await fx.add_run(
                pool, pid, f"run{i:02d}", config={"lr": 10.0 ** -(i % 3 + 2), "model": {"depth": i}},
                summary={"val/f1": i / 12, "best": {"override": "ckpt-3"}}, tags=["t"] if i % 2 else [],
                job_type="train" if i < 10 else "eval",
            )  # fmt: skip
            if i < 3:
                steps = np.arange(0, 5000, 5)
                await fx.add_series(pool, pk, "train/loss", steps, 1.0 / (1 + steps + i))
                await fx.add_series(pool, pk, "val/loss", steps[::10], 2.0 / (1 + steps[::10]))

    server.run(load())
    return strata.Api(server.addr)


def test_runs_is_lazy_paged_iterable_with_len_and_indexing(api) -> None:  # type: ignore[no-untyped-def]
    runs = api.runs(PATH, filters={"job_type": "train"}, order="-summary.val/f1", per_page=3)
    assert len(runs) == 10
    assert runs[0].id == "run09" and runs[-1].id == "run00"
    assert [r.id for r in runs] == [f"run{i:02d}" for i in range(9, -1, -1)]
    assert [r.id for r in api.runs(PATH, {"config.model.depth": {"$gte": 10}})] == ["run11", "run10"]
    assert [r.id for r in runs[2:4]] == ["run07", "run06"] and [r.id for r in runs[-2:]] == ["run01", "run00"]


def test_run_view_has_dict_like_config_and_summary_that_never_raise(api) -> None:  # type: ignore[no-untyped-def]
    run = api.run(f"{PATH}/run04")
    assert run.path == "sdk/proj/run04" and run.state == "finished" and run.user == "alice"
    assert run.config["model"]["depth"] == 4 and run.config.get("missing", "d") == "d"
    assert run.summary["val/f1"] == pytest.approx(4 / 12)
    assert run.summary.get("nope") is None and run.summary.get("nope", 0.0) == 0.0
    assert run.summary["best"] == "ckpt-3"  # the override wins
    assert run.summary.stats("best")["count"] == 0  # set with run.summary[...] =, never logged
    with pytest.raises(StrataError) as info:
        api.run(f"{PATH}/nope")
    assert info.value.reason == Reason.NOT_FOUND


def test_history_is_a_dataframe_with_a_step_column(api) -> None:  # type: ignore[no-untyped-def]
    """W&B's shape: a plain row index and `_step` as a column."""
    run = api.run(f"{PATH}/run00")
    df = run.history(keys=["train/loss", "val/loss"], samples=200)
    assert list(df.columns) == ["_step", "_timestamp", "train/loss", "val/loss"]
    assert df["_step"].is_monotonic_increasing and df["_step"].iloc[0] == 0 and df["_step"].iloc[-1] == 4995
    assert len(df) <= 200 + 100
    assert df["train/loss"].iloc[0] == 1.0
    window = run.history(keys="train/loss", samples=1000, min_step=100, max_step=200)
    assert list(window["_step"]) == list(range(100, 205, 5))
    everything = run.history(samples=10)
    assert {"_timestamp", "train/loss", "val/loss"} <= set(everything.columns) and "best" not in everything


def test_scan_history_yields_one_row_per_step_in_order(api) -> None:  # type: ignore[no-untyped-def]
    run = api.run(f"{PATH}/run01")
    rows = list(run.scan_history(keys=["train/loss", "val/loss"], page_size=37))
    assert len(rows) == 1000 and [r["_step"] for r in rows] == list(range(0, 5000, 5))
    assert rows[0] == {"_step": 0, "_timestamp": rows[0]["_timestamp"], "train/loss": 0.5, "val/loss": 2.0}
    assert "val/loss" not in rows[1] and rows[10]["val/loss"] == pytest.approx(2.0 / 51)


def test_to_dataframe_has_a_row_per_run_with_config_and_summary_columns(api) -> None:  # type: ignore[no-untyped-def]
    df = api.runs(PATH, order="run_id").to_dataframe()
    assert len(df) == 12 and list(df["run_id"][:2]) == ["run00", "run01"]
    assert {"config.lr", "config.model.depth", "summary.val/f1", "summary.best"} <= set(df.columns)
    assert df.loc[df.run_id == "run05", "config.model.depth"].item() == 5


def test_history_many_group_runs_and_aggregate_history(api) -> None:  # type: ignore[no-untyped-def]
    runs = list(api.runs(PATH, {"summary.val/f1": {"$lt": 0.2}}, order="run_id"))
    many = api.history_many(runs, ["train/loss"], samples=50)
    assert set(many["run"]) == {"sdk/proj/run00", "sdk/proj/run01", "sdk/proj/run02"}
    assert list(many.columns) == ["run", "_step", "_timestamp", "train/loss"]
    groups = api.group_runs(PATH, "config.lr", "summary.val/f1")
    assert [g["value"] for g in groups] == [0.0001, 0.001, 0.01] and sum(g["runs"] for g in groups) == 12
    curves = api.aggregate_history(PATH, "train/loss", group_by="config.lr", buckets=20)
    assert set(curves["group"]) == {0.0001, 0.001, 0.01} and (curves["min"] <= curves["max"]).all()


def test_the_client_package_needs_pandas_only_for_dataframes() -> None:
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "from strata.sdk import api\n"
        "try:\n    api._pandas()\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "strata-ml-client[pandas]" in out


def run_cli(server, capsys, *argv: str) -> str:  # type: ignore[no-untyped-def]
    assert cli(["--addr", server.addr, *argv]) == 0
    return capsys.readouterr().out


def test_cli_lists_gets_counts_groups_and_prints_history(api, server, capsys) -> None:  # type: ignore[no-untyped-def]
    table = run_cli(server, capsys, "runs", "list", PATH, "--filter", '{"tags": "t"}', "--order=-summary.val/f1",
                    "--limit", "2")  # fmt: skip
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["run_id", "state"] and "summary.val/f1" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["run11", "run09"]
    listed = json.loads(
        run_cli(server, capsys, "runs", "list", PATH, "--format", "json", "--columns", "config.lr")
    )
    assert len(listed) == 12 and "config.lr" in listed[0]
    got = json.loads(run_cli(server, capsys, "runs", "get", f"{PATH}/run03", "--format", "json"))
    assert got["config"]["model"]["depth"] == 3 and got["summary"]["best"]["value"] == "ckpt-3"
    assert run_cli(server, capsys, "runs", "count", PATH, "--filter", '{"job_type": "eval"}').strip() == "2"
    grouped = json.loads(run_cli(server, capsys, "runs", "group", PATH, "--by", "job_type", "--metric",
                                 "summary.val/f1", "--format", "json"))  # fmt: skip
    assert [g["value"] for g in grouped] == ["eval", "train"]
    text = run_cli(server, capsys, "runs", "history", f"{PATH}/run00", "--keys", "train/loss", "--samples", "20",
                   "--format", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["_step"] == "0" and len(rows) <= 20 and float(rows[0]["train/loss"]) == 1.0
    full = run_cli(
        server, capsys, "runs", "history", f"{PATH}/run00", "--all", "--keys", "val/loss", "--format", "json"
    )
    assert len(json.loads(full)) == 100


def test_cli_reports_bad_filters_as_errors(api, server, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli(["--addr", server.addr, "runs", "list", PATH, "--filter", '{"$bogus": 1}']) == 1
    assert "INVALID_FILTER" in capsys.readouterr().err
    ordered = run_cli(server, capsys, "runs", "list", PATH, "--order", "summary.val/f1:desc", "--limit", "1")
    assert ordered.splitlines()[1].split()[0] == "run11"
    with pytest.raises(SystemExit):
        cli(["--addr", server.addr, "runs", "list", PATH, "--filter", "{nope"])
