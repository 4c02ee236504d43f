"""The training-side SDK against a real server: strata.init / run.log / config / summary / finish,
step semantics, rejection of non-scalar values, offline mode and `strata sync` (idempotent)."""

from __future__ import annotations

import json
import math
import sys
import threading
from pathlib import Path

import grpc
import numpy as np
import pytest
import strata
from strata.cli.main import main as cli
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2

from tests.fixtures.ingest import assert_same_points, stored_points
from tests.fixtures.servers import ServerThread
from tests.fixtures.wait import poll_until

pytestmark = pytest.mark.usefixtures("spool")


def stored(server: ServerThread, name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    async def go():  # type: ignore[no-untyped-def]
        async with server.deps.pool.acquire() as conn:
            return await stored_points(conn, name)

    return server.run(go())


def get_run(server: ServerThread, name: str) -> run_pb2.Run:
    return server.client().ingest.GetRun(pb.GetRunRequest(name=name)).run


def test_logged_points_are_stored_exactly_and_finish_reports_them(server: ServerThread, spool: Path) -> None:
    run = strata.init(
        project="sdk", entity="tester", addr=server.addr, config={"lr": 3e-4}, tags=["t"], job_type="train"
    )
    expected: dict[str, tuple[list[int], list[float]]] = {}

    def note(key: str, step: int, value: float) -> None:
        expected.setdefault(key, ([], []))
        expected[key][0].append(step)
        expected[key][1].append(value)

    for step in range(3000):
        loss, acc = 1.0 / (step + 1), np.float32(step % 7) / 7
        values = {"train/loss": loss, "acc": acc, "epoch": step // 1000, "flag": step % 2 == 0}
        run.log(values)
        note("train/loss", step, loss)
        note("acc", step, float(acc))
        note("epoch", step, float(step // 1000))
        note("flag", step, float(step % 2 == 0))
    run.log({"val": {"f1": 0.5, "loss": math.nan}}, commit=False)  # nested dicts flatten with "/"
    run.log({"lr": math.inf})  # same step (commit=False above), then the step advances
    note("val/f1", 3000, 0.5)
    note("val/loss", 3000, math.nan)
    note("lr", 3000, math.inf)
    run.log({"late": 1.0}, step=5000)  # explicit steps may skip forward
    note("late", 5000, 1.0)
    run.finish()
    assert run.committed_points == sum(len(s) for s, _ in expected.values())
    final = get_run(server, run.resource_name)
    assert final.state == run_pb2.RUN_STATE_FINISHED and final.point_count == run.committed_points
    assert final.next_step == 5001 and json.loads(final.config_json) == {"lr": 3e-4}
    assert_same_points(
        stored(server, run.resource_name), {k: (np.array(s), np.array(v)) for k, (s, v) in expected.items()}
    )
    assert not (spool / "sdk" / run.id).exists(), "a fully delivered spool is deleted at finish"


def test_run_log_from_several_threads_loses_nothing_and_gives_each_call_its_own_step(
    server: ServerThread, spool: Path
) -> None:
    """A data-loader thread and the training loop log into one run: every point arrives once and the
    auto-incremented steps of all calls are distinct (each call takes the step atomically)."""
    run = strata.init(project="sdk", entity="tester", addr=server.addr)
    calls = 3000

    def worker(name: str) -> None:
        for i in range(calls):
            run.log({f"{name}/value": float(i), f"{name}/twice": 2.0 * i})

    threads = [threading.Thread(target=worker, args=(f"t{n}",)) for n in range(4)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up at once
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    run.finish()
    assert run.committed_points == 4 * calls * 2
    points = stored(server, run.resource_name)
    steps = set()
    for n in range(4):
        value_steps, values = points[f"t{n}/value"]
        twice_steps, twice = points[f"t{n}/twice"]
        assert list(values) == [float(i) for i in range(calls)]  # each thread's calls, in its order
        assert list(twice) == [2.0 * i for i in range(calls)] and list(twice_steps) == list(value_steps)
        steps.update(int(x) for x in value_steps)
    assert steps == set(range(4 * calls))  # one step per call, none shared, none skipped


def test_run_attributes_follow_the_sdk_contract(server: ServerThread) -> None:
    with strata.init(project="sdk", entity="tester", addr=server.addr, id="attrs-1", name="my run") as run:
        assert (run.entity, run.project, run.id) == ("tester", "sdk", "attrs-1")
        assert run.resource_name == "entities/tester/projects/sdk/runs/attrs-1"
        assert run.parent == "entities/tester/projects/sdk" and run.path == "tester/sdk/attrs-1"
        assert run.client.addr == server.addr and run.display_name == "my run"
        assert callable(run.log_artifact) and callable(run.use_artifact)


def test_config_and_summary_behave_like_dicts_and_reach_the_server(server: ServerThread) -> None:
    run = strata.init(
        project="sdk", entity="tester", addr=server.addr, config={"lr": 0.1, "opt": {"name": "sgd"}}
    )
    run.config.update({"bs": 32, "opt": {"momentum": 0.9}})
    run.config["epochs"] = np.int64(3)
    run.config.seed = 7
    assert run.config.get("bs") == 32 and run.config.lr == 0.1 and run.config.get("missing", "d") == "d"
    for step in range(5):
        run.log({"acc": step / 10})
    run.summary["best_acc"] = 0.97
    run.summary.update({"note": "kept"})
    run.tags = ["baseline", "bert"]
    run.notes = "tuned the lr"
    run.finish()
    final = get_run(server, run.resource_name)
    assert list(final.tags) == ["baseline", "bert"] and final.notes == "tuned the lr"
    assert json.loads(final.config_json) == {
        "lr": 0.1,
        "bs": 32,
        "epochs": 3,
        "seed": 7,
        "opt": {"name": "sgd", "momentum": 0.9},
    }
    assert run.summary["acc"] == 0.4 and run.summary["best_acc"] == 0.97 and run.summary["note"] == "kept"
    del run.summary["best_acc"]
    summary = {s.key: s for s in get_run(server, run.resource_name).summary}
    assert summary["best_acc"].override_json == "" and summary["acc"].last == 0.4


def test_an_exception_in_the_with_block_marks_the_run_failed(server: ServerThread) -> None:
    with (
        pytest.raises(ZeroDivisionError),
        strata.init(project="sdk", entity="tester", addr=server.addr) as run,
    ):
        run.log({"x": 1.0})
        1 / 0  # noqa: B018
    final = get_run(server, run.resource_name)
    assert final.state == run_pb2.RUN_STATE_FAILED and final.exit_code == 1 and final.point_count == 1
    with (
        pytest.raises(KeyboardInterrupt),
        strata.init(project="sdk", entity="tester", addr=server.addr) as run,
    ):
        raise KeyboardInterrupt
    assert get_run(server, run.resource_name).state == run_pb2.RUN_STATE_KILLED


def test_non_scalar_values_and_bad_keys_are_rejected_where_they_are_logged(server: ServerThread) -> None:
    run = strata.init(project="sdk", entity="tester", addr=server.addr)
    for bad in (None, b"bytes", [1, 2], np.zeros(3), {"nested": None}):
        with pytest.raises(TypeError):
            run.log({"k": bad})
    for key in ("", "x" * 257, "bad*key", "_private"):
        with pytest.raises(ValueError):
            run.log({key: 1.0})
    run.log({"ok": np.array(2.5)})  # 0-d arrays (and 1-element tensors) are numbers
    run.finish()
    assert {k: v[1].tolist() for k, v in stored(server, run.resource_name).items()} == {"ok": [2.5]}


def test_a_lower_explicit_step_is_ignored_and_a_resumed_run_continues_its_step_counter(
    server: ServerThread,
) -> None:
    run = strata.init(project="sdk", entity="tester", addr=server.addr, id="resume-me")
    run.log({"a": 1.0}, step=10)
    run.log({"a": 2.0}, step=3)  # lower than the current step: ignored with a warning (W&B semantics)
    run.finish()
    again = strata.init(project="sdk", entity="tester", addr=server.addr, id="resume-me", resume="allow")
    assert again.resumed and again.step == 11
    again.log({"a": 3.0})
    again.finish()
    steps, values = stored(server, again.resource_name)["a"]
    assert steps.tolist() == [10, 11] and values.tolist() == [1.0, 3.0]
    with pytest.raises(StrataError) as e:
        strata.init(project="sdk", entity="tester", addr=server.addr, id="resume-me", resume="never")
    assert e.value.code == grpc.StatusCode.ALREADY_EXISTS


def test_init_takes_the_address_from_the_environment(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATA_ADDR", server.addr)
    run = strata.init(project="sdk", entity="tester")
    run.log({"x": 1.0})
    strata.finish()
    assert get_run(server, run.resource_name).state == run_pb2.RUN_STATE_FINISHED


def test_offline_runs_go_only_to_the_spool_and_strata_sync_uploads_them_once(
    server: ServerThread, spool: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRATA_MODE", "offline")
    run = strata.init(project="sdk", entity="tester", config={"lr": 1}, id="offline-1")
    for step in range(2000):
        run.log({"loss": float(step), "acc": step / 2000})
    run.config.update({"bs": 8})
    run.summary["best"] = 1.5
    run.finish()
    with pytest.raises(StrataError) as e:
        get_run(server, run.resource_name)
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    expected = {
        "loss": (np.arange(2000), np.arange(2000.0)),
        "acc": (np.arange(2000), np.arange(2000) / 2000),
    }
    for _ in range(2):  # syncing twice stores nothing twice
        assert cli(["sync", "--addr", server.addr, str(spool)]) == 0
        final = get_run(server, run.resource_name)
        assert final.state == run_pb2.RUN_STATE_FINISHED and final.point_count == 4000
        assert json.loads(final.config_json) == {"lr": 1, "bs": 8}
        assert {s.key: s.override_json for s in final.summary}["best"] == "1.5"
        assert_same_points(stored(server, run.resource_name), expected)
    assert "offline-1" in capsys.readouterr().out
    assert cli(["sync", "--addr", server.addr, "--clean", str(spool)]) == 0
    assert not list(spool.rglob("control.log"))


def test_a_batch_the_server_refuses_is_dropped_with_a_warning_and_the_stream_goes_on(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    """Here the run already holds 9,999 keys (another writer), so the SDK's two new keys exceed the
    server's limit: that batch is replaced by an empty one, later batches still arrive."""
    from tests.fixtures.ingest import batch, stream

    run = strata.init(project="sdk", entity="tester", addr=server.addr, id="full-of-keys")
    many = {f"k{i}": [(0, 1.0)] for i in range(9_999)}
    assert stream(server.client(), run.resource_name, [batch(1, many)], stream_id="other-writer")[1] is None
    run.log({"new1": 1.0, "new2": 2.0}, step=1)
    assert run.wait_spooled()
    poll_until(lambda: run._window.acked >= 1, interval=0.01, what="the first acknowledgement")
    run.log({"k0": 5.0}, step=2)
    run.finish()
    points = stored(server, run.resource_name)
    assert "new1" not in points and points["k0"][1].tolist() == [1.0, 5.0]
    assert "TOO_MANY_KEYS" in capsys.readouterr().err


def test_the_sdk_sends_heartbeats(server: ServerThread, monkeypatch: pytest.MonkeyPatch) -> None:
    import strata.sdk.run as sdk_run

    monkeypatch.setattr(sdk_run, "HEARTBEAT_INTERVAL", 0.05)
    run = strata.init(project="sdk", entity="tester", addr=server.addr)
    first = get_run(server, run.resource_name).heartbeat_time.ToDatetime()
    poll_until(
        lambda: get_run(server, run.resource_name).heartbeat_time.ToDatetime() > first,
        what="a newer heartbeat",
    )
    run.finish()
