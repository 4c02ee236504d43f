"""Range batches (MetricBatch.last_sequence): several client batches merged into one message are
committed whole and acknowledged with their last number; a replayed range writes nothing; a range
that partly overlaps what is committed, or that is malformed, is refused and writes nothing."""

from __future__ import annotations

import grpc
import numpy as np
from strata.errors import Reason
from strata.ingest.v1 import metric_pb2
from strata.sdk._stream import BatchStreamer, Window, empty_batch
from strata.sdk._wire import encode_batch, merge_batches
from strata_server.ingest.metrics.limits import MAX_STEP

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
    # below its start; past a bigint; a range of more than 100,000 batches
    for first, last in ((2, 1), (1, 2**63), (1, 2**64 - 1), (1, 100_001)):
        responses, error = stream(client, name, [ranged(first, last, {"a": [(0, 0.0)]})])
        assert error is not None and error.code == grpc.StatusCode.INVALID_ARGUMENT, (first, last)
        assert (error.field, error.reason) == ("batch.last_sequence", Reason.OUT_OF_RANGE), (first, last)
        assert last_ack(responses) == 0
    assert written(server, name) == (0, 0, 0)
    # the longest range is accepted
    responses, error = stream(client, name, [ranged(1, 100_000, {"a": [(0, 0.0)]})])
    assert error is None and last_ack(responses) == 100_000


# --- the SDK merges the batches waiting to be sent ---


def small_batches(count: int, poison_at: int = 0) -> list[bytes]:
    """`count` encoded one-flush batches of keys a and b (2 steps each); batch `poison_at` holds a
    step the server refuses (OUT_OF_RANGE)."""
    out = []
    for seq in range(1, count + 1):
        steps = np.array([2 * seq, 2 * seq + 1] if seq != poison_at else [2 * seq, MAX_STEP + 1])
        keys = ["a", "b"] if seq % 3 else ["b", "c", "a"]  # keys and their order vary between batches
        idx = np.repeat(np.arange(len(keys)), 2)
        values = np.tile(steps.astype(np.float64), len(keys)) + idx
        out.append(encode_batch(seq, keys, idx, np.tile(steps, len(keys)), values, np.full(len(idx), 1.7e9)))
    return out


def test_merge_batches_unites_keys_keeps_each_keys_step_order_and_carries_the_range() -> None:
    payloads = small_batches(6)
    merged = metric_pb2.MetricBatch.FromString(merge_batches(payloads, 1, 6))
    assert (merged.sequence, merged.last_sequence) == (1, 6)
    assert list(merged.keys) == ["a", "b", "c"]
    singles = [metric_pb2.MetricBatch.FromString(p) for p in payloads]
    for key in ("a", "b", "c"):
        want = [
            (s, v)
            for b in singles
            for i, s, v in zip(b.key_indices, b.steps, b.values, strict=True)
            if b.keys[i] == key
        ]
        got = [
            (s, v)
            for i, s, v in zip(merged.key_indices, merged.steps, merged.values, strict=True)
            if merged.keys[i] == key
        ]
        assert got == want, key
    assert list(merged.key_indices) == sorted(merged.key_indices)  # key-major, as the server likes it
    empty = metric_pb2.MetricBatch.FromString(merge_batches([empty_batch(7), empty_batch(8)], 7, 8))
    assert (empty.sequence, empty.last_sequence, len(empty.steps)) == (7, 8, 0)


def stream_with_sdk(
    server: ServerThread, name: str, payloads: list[bytes]
) -> tuple[Window, BatchStreamer, list[str]]:
    window, warnings = Window(), []
    for seq, payload in enumerate(payloads, start=1):
        window.add(seq, payload, None, 2)
    window.close()
    streamer = BatchStreamer(server.client(), name, "sdk", window, warn=warnings.append)
    streamer.start()
    streamer.join(timeout=60)
    assert not streamer.is_alive(), "the streamer is stuck"
    return window, streamer, warnings


def test_the_sdk_sends_waiting_batches_as_merged_messages_and_stores_each_point_once(
    server: ServerThread,
) -> None:
    name = new_run(server)
    payloads = small_batches(300)
    window, streamer, warnings = stream_with_sdk(server, name, payloads)
    assert window.acked == 300 and not warnings
    assert streamer.messages < 10, f"300 waiting batches went as {streamer.messages} messages"
    stored = points(server, name)
    # a key's value is its step plus the key's index in its batch's key list (see small_batches)
    offset = {"a": lambda seq: 2 if seq % 3 == 0 else 0, "b": lambda seq: 0 if seq % 3 == 0 else 1}
    for key, plus in offset.items():
        steps, values = stored[key]
        assert steps.tolist() == list(range(2, 602)), key
        assert values.tolist() == [float(s + plus(s // 2)) for s in range(2, 602)], key
    assert stored["c"][0].tolist() == [s for seq in range(3, 301, 3) for s in (2 * seq, 2 * seq + 1)]
    sent_points = sum(len(metric_pb2.MetricBatch.FromString(p).steps) for p in payloads)
    assert written(server, name)[0::2] == (sent_points, 300)


def test_a_refused_merged_message_is_resent_batch_by_batch_and_only_the_bad_batch_is_dropped(
    server: ServerThread,
) -> None:
    name = new_run(server)
    payloads = small_batches(40, poison_at=25)
    window, streamer, warnings = stream_with_sdk(server, name, payloads)
    assert window.acked == 40
    assert len(warnings) == 1 and "batch 25 " in warnings[0] and "OUT_OF_RANGE" in warnings[0], warnings
    steps = points(server, name)["a"][0].tolist()
    assert steps == [s for seq in range(1, 41) if seq != 25 for s in (2 * seq, 2 * seq + 1)]
    assert streamer.messages > 1


def test_waiting_batches_past_the_merge_size_go_as_several_messages_each_batch_once(
    server: ServerThread,
) -> None:
    """60 batches of 2,000 points (~40 KB each, 2.4 MB in all) do not fit one 1 MB message: the batch
    that did not fit starts the next message (read once), and every point is stored once, in order."""
    name = new_run(server)
    steps = np.arange(2_000, dtype=np.int64)
    payloads = [
        encode_batch(
            seq,
            ["a"],
            np.zeros(2_000, np.int64),
            steps + 2_000 * (seq - 1),
            steps * 0.5,
            np.full(2_000, 1.7e9),
        )
        for seq in range(1, 61)
    ]
    window, streamer, warnings = stream_with_sdk(server, name, payloads)
    assert window.acked == 60 and not warnings
    assert 3 <= streamer.messages < 60, f"{streamer.messages} messages"
    stored_steps, values = points(server, name)["a"]
    assert stored_steps.tolist() == list(range(120_000))
    assert values.tolist() == (np.tile(steps, 60) * 0.5).tolist()
