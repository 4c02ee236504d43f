"""Rich values survive through the spool: an offline run's media are delivered by `strata sync`
(twice: nothing doubles), and a training process killed after logging media (before the server
stored them) leaves a spool that `strata sync` delivers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import numpy as np
import pytest
import strata
from strata.cli.main import main as cli

from tests.fixtures.processes import kill_once_spooled
from tests.fixtures.servers import ServerThread

pytestmark = [pytest.mark.usefixtures("spool"), pytest.mark.timeout(180)]


def test_offline_media_are_delivered_by_sync_exactly_once(server: ServerThread, spool: Path) -> None:
    img = np.arange(12 * 10 * 3, dtype=np.uint8).reshape(12, 10, 3)
    run = strata.init(project="media-offline", entity="tester", mode="offline", id="off1")
    for step in range(4):
        run.log({"loss": 0.1 * step, "img": strata.Image(img + step), "t": f"s{step}"})
    run.log({"tab": strata.Table(columns=["a"], data=[[1], [2]])})
    run.finish()
    for _ in range(2):
        assert cli(["sync", "--addr", server.addr, str(run.spool_path)]) == 0
    r = strata.Api(addr=server.addr).run("tester/media-offline/off1")
    counts = {k["key"]: k["count"] for k in r.media_keys()}
    assert counts == {"img": 4, "t": 4, "tab": 1}
    assert [v.text() for v in r.media("t")] == ["s3", "s2", "s1", "s0"]
    assert r.table("tab").to_dataframe()["a"].tolist() == [1, 2]
    assert r.history(["loss"])["loss"].tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert r.state == "finished"


TRAINER = textwrap.dedent(
    """
    import sys, time, numpy as np, strata
    addr, run_id = sys.argv[1], sys.argv[2]
    run = strata.init(project="media-crash", entity="tester", addr=addr, id=run_id)
    for step in range(20):
        run.log({"loss": 1.0 / (step + 1), "img": strata.Image(np.full((16, 16), step, dtype=np.uint8)),
                 "hist": strata.Histogram(np.arange(100) * step, num_bins=10)})
    assert run.wait_spooled(60)
    print("SPOOLED", run.spool_path, flush=True)
    time.sleep(600)   # the test kills us here: media logged and spooled, not stored by the server
    """
)


def crash_after_spooling(server: ServerThread, pg_dsn: str, tmp_path: Path, run_id: str) -> Path:
    """Run the trainer while media inserts are blocked, kill it once its media are spooled; returns
    its spool directory."""
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    lock = server.run(asyncpg.connect(pg_dsn))
    server.run(lock.execute("BEGIN; LOCK TABLE media_entries IN EXCLUSIVE MODE"))  # nothing gets stored
    try:
        proc = subprocess.Popen(
            [sys.executable, str(script), server.addr, run_id],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        spool = kill_once_spooled(proc)
    finally:
        server.run(lock.execute("ROLLBACK"))
        server.run(lock.close())
    return spool


def test_media_of_a_killed_process_are_delivered_by_strata_sync(
    server: ServerThread, pg_dsn: str, tmp_path: Path
) -> None:
    spool_path = crash_after_spooling(server, pg_dsn, tmp_path, "crash1")
    r = strata.Api(addr=server.addr).run("tester/media-crash/crash1")
    assert r.media_keys() == []  # the dead process stored nothing
    assert cli(["sync", "--addr", server.addr, str(spool_path)]) == 0
    assert_delivered(r)


def test_media_of_a_killed_process_are_delivered_by_the_next_process_of_the_run(
    server: ServerThread, pg_dsn: str, tmp_path: Path
) -> None:
    crash_after_spooling(server, pg_dsn, tmp_path, "crash2")
    resumed = strata.init(
        project="media-crash", entity="tester", addr=server.addr, id="crash2", resume="allow"
    )
    resumed.finish()
    assert_delivered(strata.Api(addr=server.addr).run("tester/media-crash/crash2"))


def assert_delivered(r) -> None:  # type: ignore[no-untyped-def]
    counts = {k["key"]: k["count"] for k in r.media_keys()}
    assert counts == {"img": 20, "hist": 20}
    latest = r.media("img")[0]
    assert latest.step == 19 and latest.metadata["width"] == 16
    assert r.media("hist")[0].metadata["edges"][-1] == 99 * 19


def test_a_full_media_queue_drops_values_with_a_warning_and_never_raises(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Back-pressure: a full queue waits STRATA_MEDIA_QUEUE_TIMEOUT seconds, then drops the value."""
    from strata.sdk._media_log import spooled_entries

    monkeypatch.setenv("STRATA_MEDIA_QUEUE", "1")
    monkeypatch.setenv("STRATA_MEDIA_QUEUE_TIMEOUT", "0")
    rng = np.random.default_rng(0)
    run = strata.init(project="media-queue", entity="tester", mode="offline")
    for _ in range(100):
        run.log({"img": strata.Image(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8))})
    run.finish()
    assert run._media is not None
    dropped = run._media.dropped
    assert dropped > 0 and "media queue full" in capsys.readouterr().err
    assert len(spooled_entries(run.spool_path)) == 100 - dropped
