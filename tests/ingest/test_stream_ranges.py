"""Range batches (MetricBatch.last_sequence): several client batches merged into one message are
committed whole and acknowledged with their last number; a replayed range writes nothing; a range
that partly overlaps what is committed, or that is malformed, is refused and writes nothing."""

from __future__ import annotations

import grpc
from strata.errors import Reason
from strata.ingest.v1 import metric_pb2

from tests.fixtures.ingest import batch, last_ack, stream
from tests.fixtures.ingest import run_points as points
from tests.fixtures.servers import ServerThread
from tests.ingest.test_stream import new_run, written


def ranged(
    first: int, last: int, points_by_key: dict[str, list[tuple[int, float]]]
) -> metric_pb2.MetricBatch:
    b = batch(first, points_by_key)
    b.last_sequence = last
    return b


def test_a_range_is_committed_whole_and_acknowledged_with_its_last_number(server: ServerThread) -> None:
    name = new_run(server)
    client = server.client()
    three = ranged(1, 3, {"loss": [(s, float(s)) for s in range(30)], "lr": [(0, 0.1), (10, 0.2)]})
    responses, error = stream(client, name, [three, batch(4, {"loss": [(30, 30.0)]})])
    assert error is None and last_ack(responses) == 4
    assert written(server, name)[0::2] == (33, 4)
    # the client reconnects and resends the range and the batch after it: replays, nothing twice
    responses, error = stream(client, name, [three, batch(4, {"loss": [(30, 30.0)]})])
    assert error is None and responses[0].opened.committed_sequence == 4 and last_ack(responses) == 4
    steps, values = points(server, name)["loss"]
    assert steps.tolist() == list(range(31)) and values.tolist() == [float(s) for s in range(31)]
    assert written(server, name)[0] == 33


def test_single_batches_after_a_range_and_a_range_after_single_batches(server: ServerThread) -> None:
    name = new_run(server)
    client = server.client()
    batches = [
        batch(1, {"a": [(0, 0.0)]}),
        batch(2, {"a": [(1, 1.0)]}),
        ranged(3, 6, {"a": [(2, 2.0), (3, 3.0)]}),
    ]
    responses, error = stream(client, name, batches)
    assert error is None and last_ack(responses) == 6
    # batch 5 was inside the committed range 3..6: a replay
    responses, error = stream(client, name, [batch(5, {"a": [(9, 9.0)]}), batch(7, {"a": [(4, 4.0)]})])
    assert error is None and last_ack(responses) == 7
    assert points(server, name)["a"][0].tolist() == [0, 1, 2, 3, 4]


def test_a_range_that_partly_overlaps_the_committed_ones_is_refused_and_writes_nothing(
    server: ServerThread,
) -> None:
    name = new_run(server)
    client = server.client()
    _, error = stream(client, name, [ranged(1, 3, {"a": [(0, 0.0)]})])
    assert error is None
    before = written(server, name)
    responses, error = stream(client, name, [ranged(2, 5, {"a": [(1, 1.0)]})])
    assert error is not None and error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == Reason.SEQUENCE_GAP and error.field == "batch.sequence"
    assert "expected sequence 4, got 2..5" in error.message
    assert last_ack(responses) <= 3 and written(server, name) == before  # at most the committed mark


def test_a_malformed_range_is_refused_with_its_field_and_writes_nothing(server: ServerThread) -> None:
    name = new_run(server)
    client = server.client()
    for first, last in ((2, 1), (1, 2**63), (1, 2**64 - 1)):  # below its start; past a bigint
        responses, error = stream(client, name, [ranged(first, last, {"a": [(0, 0.0)]})])
        assert error is not None and error.code == grpc.StatusCode.INVALID_ARGUMENT, (first, last)
        assert (error.field, error.reason) == ("batch.last_sequence", Reason.OUT_OF_RANGE), (first, last)
        assert last_ack(responses) == 0
    assert written(server, name) == (0, 0, 0)
    # the largest allowed range end is accepted
    responses, error = stream(client, name, [ranged(1, 2**63 - 1, {"a": [(0, 0.0)]})])
    assert error is None and last_ack(responses) == 2**63 - 1
