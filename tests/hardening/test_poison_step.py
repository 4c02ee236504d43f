"""A poison batch never blocks a run: the server refuses a step whose next step would overflow
int64 (INVALID_ARGUMENT OUT_OF_RANGE on batch.steps) instead of failing with INTERNAL on every
retry, and the SDK retries only transient codes without limit: a batch the server refuses, or keeps
failing on alone, is quarantined with a warning and the points after it are delivered."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import grpc
import pytest
import strata
from strata.cli.main import main as cli
from strata.client import Client
from strata.errors import Reason
from strata.ingest.v1 import run_pb2
from strata.sdk._spool import SpoolWriter, read_spool
from strata.sdk._stream import MAX_SERVER_ERRORS, BatchStreamer, Window

from tests.fixtures.ingest import batch, get_run, last_ack, stream
from tests.fixtures.ingest import run_points as stored
from tests.fixtures.servers import ServerThread
from tests.hardening.conftest import POISON_STEP, StandIn, encoded, new_run

pytestmark = pytest.mark.timeout(120)


def test_a_raw_batch_with_step_2_63_minus_1_is_out_of_range_on_batch_steps(server: ServerThread) -> None:
    name = new_run(server)
    client = server.client()
    good, poison = batch(1, {"a": [(0, 1.0)]}), batch(2, {"a": [(1, 2.0), (POISON_STEP, 3.0)]})
    responses, error = stream(client, name, [good, poison, batch(3, {"a": [(2, 4.0)]})])
    assert last_ack(responses) == 1
    assert error is not None and error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == Reason.OUT_OF_RANGE and error.field == "batch.steps"
    run = get_run(server, name)
    assert run.point_count == 1 and run.next_step == 1, "nothing of the refused batch is written"


def test_the_highest_step_is_accepted(server: ServerThread) -> None:
    name = new_run(server)
    responses, error = stream(server.client(), name, [batch(1, {"a": [(POISON_STEP - 1, 1.0)]})])
    assert error is None and last_ack(responses) == 1
    assert get_run(server, name).next_step == POISON_STEP


def deliver(client: Client, name: str, payloads: list[bytes]) -> tuple[Window, BatchStreamer, list[str]]:
    """Send `payloads` (sequences 1..n) with the SDK's streamer; returns once it stopped."""
    window, warnings = Window(), []
    for seq, payload in enumerate(payloads, start=1):
        window.add(seq, payload, None, 0)
    window.close()
    streamer = BatchStreamer(client, name, "hardening-1", window, warn=warnings.append)
    streamer.start()
    streamer.join(timeout=60)
    assert not streamer.is_alive(), "the streamer is stuck"
    return window, streamer, warnings


def test_the_streamer_quarantines_a_refused_batch_and_delivers_the_rest(server: ServerThread) -> None:
    name = new_run(server)
    payloads = [encoded(1, "a", [0, 1]), encoded(2, "a", [2, POISON_STEP]), encoded(3, "a", [3, 4])]
    window, _, warnings = deliver(server.client(), name, payloads)
    assert window.acked == 3
    assert any("batch 2" in w and "OUT_OF_RANGE" in w for w in warnings), warnings
    assert stored(server, name)["a"][0].tolist() == [0, 1, 3, 4]


@pytest.mark.parametrize("stand_in", [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN], indirect=True)
def test_a_batch_the_server_keeps_failing_on_is_retried_alone_a_bounded_number_of_times(
    stand_in: StandIn,
) -> None:
    """Before, INTERNAL was retried forever and nothing after the batch was ever committed."""
    payloads = [encoded(1, "a", [0]), encoded(2, "a", [1]), encoded(3, "a", [POISON_STEP])]
    payloads += [encoded(seq, "a", [seq]) for seq in range(4, 40)]
    with Client(stand_in.addr) as client:
        window, _, warnings = deliver(client, "entities/e/projects/p/runs/r", payloads)
    assert window.acked == 39 and stand_in.committed == 39
    # once inside the first (merged) message, then MAX_SERVER_ERRORS times as a batch of its own
    assert stand_in.poison_attempts == 1 + MAX_SERVER_ERRORS
    assert stand_in.sessions[0] == [1], "the batches waiting at the start go as one merged message"
    assert any("batch 3" in w for w in warnings), warnings
    retries = [s for s in stand_in.sessions[1:] if s and s[0] == 3][: MAX_SERVER_ERRORS - 1]
    assert all(s == [3] for s in retries), f"a suspect batch is sent alone: {stand_in.sessions}"


@pytest.mark.parametrize("stand_in", [grpc.StatusCode.PERMISSION_DENIED], indirect=True)
def test_a_code_about_the_caller_stops_the_stream_and_keeps_the_batch(stand_in: StandIn) -> None:
    payloads = [encoded(1, "a", [0]), encoded(2, "a", [POISON_STEP]), encoded(3, "a", [2])]
    with Client(stand_in.addr) as client:
        window, _, warnings = deliver(client, "entities/e/projects/p/runs/r", payloads)
    # the three batches went as one merged message: refused whole, and kept whole for `strata sync`
    assert window.acked == 0 and stand_in.poison_attempts == 1 and stand_in.sessions == [[1]]
    assert any("stopped" in w for w in warnings), warnings


def test_sync_of_a_spool_with_a_poison_batch_finishes_in_time(server: ServerThread, spool: Path) -> None:
    """A spool an older SDK wrote with a poison step: `strata sync` delivers the rest and finishes."""
    run = strata.init(project="hardening", entity="tester", mode="offline")
    for step in range(20):
        run.log({"a": float(step)})
    run.finish()
    last = max(read_spool(run.spool_path).batches)
    writer = SpoolWriter(run.spool_path)
    writer.batch(last + 1, encoded(last + 1, "a", [20, POISON_STEP]))
    writer.batch(last + 2, encoded(last + 2, "a", [21, 22]))
    writer.close()
    outcome: list[int] = []
    syncing = threading.Thread(
        target=lambda: outcome.append(cli(["sync", "--addr", server.addr, str(spool)]))
    )
    start = time.monotonic()
    syncing.start()
    syncing.join(timeout=60)
    assert not syncing.is_alive(), "strata sync hangs on a poison batch"
    assert outcome == [0] and time.monotonic() - start < 60
    final = get_run(server, f"entities/tester/projects/hardening/runs/{run.id}")
    assert final.state == run_pb2.RUN_STATE_FINISHED and final.point_count == 22
