"""GET /metrics of a server after a small workflow (a run with metrics, an artifact logged and
downloaded): the RPC, ingest, transfer, S3, pool and background counters moved; the access log line
of each call carries its method, code, duration and principal."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import strata
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata_server.common.background import every
from strata_server.common.config import S3Settings

from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread, make_settings
from tests.fixtures.wait import poll_until

from .conftest import scrape, settled, start_observed, value

pytestmark = pytest.mark.timeout(120)
INGEST = "/strata.ingest.v1.IngestService"
POINTS = 50


@pytest.fixture(scope="module")
def observed(
    postgres: PostgresServer, s3_settings: S3Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerThread]:
    srv = start_observed(postgres, s3_settings, tmp_path_factory.mktemp("observed"))
    yield srv
    srv.stop()


def _workflow(server: ServerThread, folder: Path) -> int:
    """A run logs POINTS points and an artifact (one small file, one sent through an upload session),
    then the artifact is downloaded; returns the artifact's bytes."""
    (folder / "data").mkdir()
    (folder / "data" / "small.txt").write_text("hello metrics\n" * 100)
    (folder / "data" / "large.bin").write_bytes(os.urandom(3 * 1024 * 1024 // 2))
    with strata.init(project="obs", entity="tester", addr=server.addr) as run:
        for step in range(POINTS):
            run.log({"loss": 1.0 / (step + 1)})
        art = strata.Artifact("obs-data", type="dataset")
        art.add_dir(str(folder / "data"))
        run.log_artifact(art)
    with strata.init(project="obs", entity="tester", addr=server.addr) as run:
        run.use_artifact("obs-data:v0").download(root=str(folder / "download"))
    return sum(p.stat().st_size for p in (folder / "data").iterdir())


def test_a_workflow_moves_the_rpc_ingest_transfer_s3_and_pool_metrics(
    observed: ServerThread, sdk_dirs: Path
) -> None:
    before = scrape(observed)
    size = _workflow(observed, sdk_dirs)
    after = settled(observed)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    for method in ("CreateRun", "StreamMetrics", "FinishRun", "FindMissingBlobs"):
        assert moved("strata_rpc_calls_total", method=f"{INGEST}/{method}", code="OK") >= 1, method
        assert moved("strata_rpc_duration_seconds_count", method=f"{INGEST}/{method}") >= 1, method
    registry_calls = sum(
        after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == "strata_rpc_calls_total" and "RegistryService" in dict(key[1])["method"]
    )
    assert registry_calls >= 2  # the version is created and committed, then read back
    assert value(after, "strata_rpc_in_flight", method=f"{INGEST}/CreateRun") == 0
    assert moved("strata_ingest_points_total") == POINTS
    assert moved("strata_ingest_batches_total") >= 1
    assert moved("strata_ingest_ack_lag_seconds_count") >= 1
    assert moved("strata_ingest_group_streams_count") >= 1  # the streams committed in groups
    assert moved("strata_ingest_group_streams_sum") >= moved("strata_ingest_group_streams_count")
    assert moved("strata_ingest_group_commit_seconds_count") >= 1
    # both runs finished: their streams closed (the gauge is the process's: servers that other test files
    # stopped with a stream open leave theirs behind, so the level before this test is the baseline)
    assert value(after, "strata_ingest_open_streams") == value(before, "strata_ingest_open_streams")
    assert moved("strata_upload_bytes_total") >= size
    assert moved("strata_download_bytes_total") >= size
    s3_calls = sum(
        after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == "strata_s3_operation_duration_seconds_count"
    )
    assert s3_calls >= 3  # parts or objects written, then read back
    assert value(after, "strata_db_pool_size") >= 1
    assert value(after, "strata_db_pool_max") >= observed.settings.pg_pool_max
    assert ("strata_db_pool_in_use", ()) in after
    assert moved("strata_db_pool_acquire_seconds_count") >= 5


def test_an_error_is_counted_with_its_code_and_logged_with_the_caller(
    observed: ServerThread, log_events: list[dict[str, object]]
) -> None:
    method = f"{INGEST}/GetRun"
    before = scrape(observed)
    with observed.client() as client, pytest.raises(StrataError) as err:
        client.ingest.GetRun(pb.GetRunRequest(name="entities/tester/projects/obs/runs/nope"))
    assert err.value.code == grpc.StatusCode.NOT_FOUND
    counted = value(before, "strata_rpc_calls_total", method=method, code="NOT_FOUND") + 1
    # wait for this call's own count too (the registry is shared by every server of this process)
    poll_until(
        lambda: value(scrape(observed), "strata_rpc_calls_total", method=method, code="NOT_FOUND") >= counted,
        timeout=20,
        interval=0.05,
        what="the NOT_FOUND call counted",
    )
    after = settled(observed)
    assert value(after, "strata_rpc_calls_total", method=method, code="NOT_FOUND") == counted
    lines = [e for e in log_events if e["event"] == "access" and e["method"] == method]
    assert len(lines) == 1
    line = lines[0]
    assert line["code"] == "NOT_FOUND" and line["log_level"] == "info"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["principal"] and line["request_id"] and str(line["peer"]).startswith("ipv4:127.0.0.1")


def test_the_access_log_takes_its_level_and_can_be_turned_off(
    postgres: PostgresServer, tmp_path: Path, log_events: list[dict[str, object]]
) -> None:
    dsn = postgres.create_database()
    for level, expected in (("warning", "warning"), ("off", None)):
        srv = ServerThread(make_settings(tmp_path / level, dsn, access_log_level=level)).start()
        try:
            assert srv.server.metrics.port is None  # no STRATA_METRICS_ADDR: no endpoint
            with srv.client() as client, pytest.raises(StrataError):
                client.ingest.GetRun(pb.GetRunRequest(name="entities/tester/projects/obs/runs/nope"))
        finally:
            srv.stop()
        levels = [e["log_level"] for e in log_events if e["event"] == "access"]
        assert levels == ([expected] if expected else []), level
        log_events.clear()


def test_background_passes_report_their_duration_and_last_success(observed: ServerThread) -> None:
    async def job(_deps: object) -> int:
        return 1

    async def a_few_passes() -> None:
        task = asyncio.create_task(every(lambda _deps: 0.02, "test-pass", job)(observed.deps))
        await asyncio.sleep(0.5)
        task.cancel()
        await asyncio.wait([task])

    observed.run(a_few_passes())
    after = scrape(observed)
    assert value(after, "strata_background_job_duration_seconds_count", task="test-pass") >= 1
    assert value(after, "strata_background_job_last_success_timestamp_seconds", task="test-pass") > 0


def test_a_cancelled_stream_is_cleaned_up_before_it_leaves_the_in_flight_gauge(
    observed: ServerThread,
) -> None:
    """The interceptors close the handler's stream when a call ends early, so its cleanup (here the
    metric stream's open-streams gauge) has run by the time the call stops counting as in flight."""
    from strata.ingest.v1 import ingest_service_pb2_grpc as pb_grpc

    from tests.fixtures.ingest import batch

    with observed.client() as client:
        parent = "entities/tester/projects/obs"
        name = client.ingest.CreateRun(pb.CreateRunRequest(parent=parent, run_id="cancelled-stream")).run.name
    open_before = value(settled(observed), "strata_ingest_open_streams")  # the process's gauge: a baseline
    waiting = threading.Event()

    def requests() -> Iterator[pb.StreamMetricsRequest]:
        yield pb.StreamMetricsRequest(open=pb.StreamOpen(run=name, stream_id="s"))
        yield pb.StreamMetricsRequest(batch=batch(1, {"loss": [(0, 1.0)]}))
        waiting.wait(30)  # the call stays open (no half-close) until the client cancels it

    with grpc.insecure_channel(observed.addr) as channel:
        call = pb_grpc.IngestServiceStub(channel).StreamMetrics(requests(), timeout=60)
        kinds = []
        with pytest.raises(grpc.RpcError) as ended:
            for response in call:
                kinds.append(response.WhichOneof("kind"))
                if kinds[-1] == "ack":
                    assert value(scrape(observed), "strata_ingest_open_streams") >= open_before + 1
                    call.cancel()
        waiting.set()
    assert ended.value.code() == grpc.StatusCode.CANCELLED and kinds == ["opened", "ack"]
    after = settled(observed)  # no RPC in flight: the stream's call has been recorded
    assert value(after, "strata_ingest_open_streams") == open_before
