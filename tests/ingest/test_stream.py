"""StreamMetrics over a real channel against a real server and PostgreSQL: exactly-once sequencing,
summaries (NaN/inf), out-of-order rules, concurrent streams, and every bad input (with its reason,
and nothing written)."""

from __future__ import annotations

import math
import threading
import time
import uuid

import grpc
import numpy as np
import pytest
from strata.errors import Reason
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import metric_pb2

from tests.fixtures.ingest import batch, get_run, last_ack, stream
from tests.fixtures.ingest import run_points as points
from tests.fixtures.servers import ServerThread


def new_run(server: ServerThread, **kwargs: object) -> str:
    req = pb.CreateRunRequest(
        parent="entities/tester/projects/stream", run_id=uuid.uuid4().hex[:12], **kwargs
    )
    return server.client().ingest.CreateRun(req).run.name


def written(server: ServerThread, name: str) -> tuple[int, int, int]:
    """(run point_count, metric_chunks rows, highest stream sequence) of a run."""
    run_id = name.rsplit("/", 1)[1]

    async def go():  # type: ignore[no-untyped-def]
        return await server.deps.pool.fetchrow(
            """SELECT r.point_count,
                      (SELECT count(*) FROM metric_chunks c WHERE c.run_id = r.id) AS rows,
                      (SELECT coalesce(max(sequence), 0) FROM metric_streams s WHERE s.run_id = r.id) AS seq
               FROM runs r WHERE r.run_id = $1""",
            run_id,
        )

    row = server.run(go())
    return row["point_count"], row["rows"], row["seq"]


def test_batches_are_committed_and_acknowledged_and_replays_write_nothing(server: ServerThread) -> None:
    name = new_run(server)
    client = server.client()
    batches = [batch(s, {"loss": [(s * 10 + i, float(s * 10 + i)) for i in range(10)]}) for s in range(1, 4)]
    responses, error = stream(client, name, batches)
    assert error is None
    assert responses[0].opened.committed_sequence == 0
    assert last_ack(responses) == 3
    count, _, seq = written(server, name)
    assert (count, seq) == (30, 3)
    # a reconnecting client resends everything: acknowledged, nothing stored twice
    responses, error = stream(client, name, batches)
    assert error is None
    assert responses[0].opened.committed_sequence == 3
    assert last_ack(responses) == 3
    steps, values = points(server, name)["loss"]
    assert steps.tolist() == list(range(10, 40)) and values.tolist() == [float(x) for x in range(10, 40)]
    run = get_run(server, name)
    assert run.point_count == 30 and run.next_step == 40


def test_a_sequence_gap_is_rejected_and_writes_nothing(server: ServerThread) -> None:
    name = new_run(server)
    responses, error = stream(
        server.client(), name, [batch(1, {"a": [(0, 1.0)]}), batch(3, {"a": [(1, 2.0)]})]
    )
    assert error is not None and error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == Reason.SEQUENCE_GAP and error.field == "batch.sequence"
    assert last_ack(responses) == 1  # the batch before the gap was committed and acknowledged first
    assert written(server, name)[0] == 1 and written(server, name)[2] == 1


def test_summary_tracks_last_min_max_mean_count_and_ignores_nan_and_inf(server: ServerThread) -> None:
    name = new_run(server)
    first = batch(1, {"x": [(0, 3.0), (1, math.nan), (2, -1.0), (3, math.inf)]})
    second = batch(2, {"x": [(4, 5.0), (5, -math.inf), (6, 2.0), (7, math.nan)], "only_nan": [(0, math.nan)]})
    _, error = stream(server.client(), name, [first, second])
    assert error is None
    summary = {s.key: s for s in get_run(server, name).summary}
    x = summary["x"]
    assert (x.count, x.finite_count) == (8, 4)
    assert (x.min, x.min_step, x.max, x.max_step) == (-1.0, 2, 5.0, 4)
    assert x.mean == pytest.approx((3.0 - 1.0 + 5.0 + 2.0) / 4)
    assert math.isnan(x.last) and x.last_step == 7
    nan_only = summary["only_nan"]
    assert (
        nan_only.count == 1
        and nan_only.finite_count == 0
        and math.isnan(nan_only.min)
        and math.isnan(nan_only.mean)
    )
    steps, values = points(server, name)["x"]
    assert steps.tolist() == list(range(8))
    assert np.array_equal(
        values, [3.0, math.nan, -1.0, math.inf, 5.0, -math.inf, 2.0, math.nan], equal_nan=True
    )


def test_a_step_lower_than_a_committed_one_is_rejected_unless_the_run_allows_out_of_order(
    server: ServerThread,
) -> None:
    name = new_run(server)
    client = server.client()
    _, error = stream(client, name, [batch(1, {"a": [(5, 1.0)]})])
    assert error is None
    before = written(server, name)
    _, error = stream(client, name, [batch(2, {"a": [(4, 2.0)]})])
    assert (
        error is not None
        and error.code == grpc.StatusCode.INVALID_ARGUMENT
        and error.reason == Reason.STEP_OUT_OF_ORDER
    )
    _, error = stream(client, name, [batch(2, {"b": [(3, 1.0), (2, 1.0)]})])  # backwards inside one batch
    assert error is not None and error.reason == Reason.STEP_OUT_OF_ORDER
    assert written(server, name) == before
    # an equal step is not lower: it is stored (a second value at the same step)
    _, error = stream(client, name, [batch(2, {"a": [(5, 7.0)]})])
    assert error is None

    ooo = new_run(server, allow_out_of_order_steps=True)
    _, error = stream(
        client, ooo, [batch(1, {"a": [(5, 1.0), (9, 9.0)]}), batch(2, {"a": [(4, 2.0), (1, 3.0)]})]
    )
    assert error is None
    steps, values = points(server, ooo)["a"]
    assert steps.tolist() == [1, 4, 5, 9] and values.tolist() == [3.0, 2.0, 1.0, 9.0]
    summary = get_run(server, ooo).summary[0]
    assert summary.last == 9.0 and summary.last_step == 9 and summary.count == 4


def test_concurrent_streams_of_one_run_keep_the_summary_exact(server: ServerThread) -> None:
    name = new_run(server, allow_out_of_order_steps=True)
    errors: list[object] = []

    def writer(stream_id: str, offset: int) -> None:
        batches = [
            batch(
                s, {"shared": [(offset + s * 100 + i, 1.0) for i in range(100)], stream_id: [(s, float(s))]}
            )
            for s in range(1, 21)
        ]
        _, error = stream(server.client(), name, batches, stream_id=stream_id)
        errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"w{i}", i * 10_000)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [None] * 4
    run = get_run(server, name)
    summary = {s.key: s for s in run.summary}
    assert run.point_count == 4 * 20 * 101
    assert summary["shared"].count == summary["shared"].finite_count == 8000 and summary["shared"].mean == 1.0
    assert all(summary[f"w{i}"].count == 20 for i in range(4))
    assert len(points(server, name)["shared"][0]) == 8000


# --- bad input: INVALID_ARGUMENT (or FAILED_PRECONDITION / NOT_FOUND) with field and reason, nothing written ---


def _bad(
    keys: list[str], idx: list[int], steps: list[int], values: list[float], times: list[float], seq: int = 1
):
    return metric_pb2.MetricBatch(
        sequence=seq, keys=keys, key_indices=idx, steps=steps, values=values, times=times
    )


BAD_BATCHES = {
    "empty key": (_bad([""], [0], [0], [1.0], [0.0]), Reason.INVALID_NAME, "batch.keys[0]"),
    "over-long key": (_bad(["k" * 257], [0], [0], [1.0], [0.0]), Reason.INVALID_NAME, "batch.keys[0]"),
    "key charset": (
        _bad(["ok", "bad*key"], [0, 1], [0, 0], [1.0, 1.0], [0.0, 0.0]),
        Reason.INVALID_NAME,
        "batch.keys[1]",
    ),
    "reserved underscore key": (
        _bad(["_secret"], [0], [0], [1.0], [0.0]),
        Reason.INVALID_NAME,
        "batch.keys[0]",
    ),
    "column lengths": (
        _bad(["a"], [0, 0], [0, 1], [1.0], [0.0, 0.0]),
        Reason.COLUMN_LENGTH_MISMATCH,
        "batch.values",
    ),
    "key index": (
        _bad(["a"], [0, 1], [0, 1], [1.0, 1.0], [0.0, 0.0]),
        Reason.KEY_INDEX_OUT_OF_RANGE,
        "batch.key_indices",
    ),
    "negative step": (_bad(["a"], [0], [-1], [1.0], [0.0]), Reason.OUT_OF_RANGE, "batch.steps"),
    "sequence zero": (_bad(["a"], [0], [0], [1.0], [0.0], seq=0), Reason.OUT_OF_RANGE, "batch.sequence"),
    "oversized batch": (
        metric_pb2.MetricBatch(
            sequence=1,
            keys=["a"],
            key_indices=[0] * 100_001,
            steps=range(100_001),
            values=[0.0] * 100_001,
            times=[0.0] * 100_001,
        ),
        Reason.TOO_LARGE,
        "batch",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_a_bad_batch_is_rejected_with_its_field_and_reason_and_writes_nothing(
    server: ServerThread, case: str
) -> None:
    name = new_run(server)
    bad, reason, field = BAD_BATCHES[case]
    _, error = stream(server.client(), name, [bad])
    assert error is not None and error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, error.field) == (reason, field)
    assert written(server, name) == (0, 0, 0)
    assert len(get_run(server, name).summary) == 0


def test_more_distinct_keys_than_the_run_limit_is_rejected(server: ServerThread) -> None:
    name = new_run(server)
    many = {f"k{i}": [(0, 1.0)] for i in range(10_000)}
    _, error = stream(server.client(), name, [batch(1, many)])
    assert error is None
    before = written(server, name)
    _, error = stream(server.client(), name, [batch(2, {"one-too-many": [(1, 1.0)]})])
    assert (
        error is not None
        and error.code == grpc.StatusCode.INVALID_ARGUMENT
        and error.reason == Reason.TOO_MANY_KEYS
    )
    assert written(server, name) == before


def test_stream_protocol_errors_name_the_problem(server: ServerThread) -> None:
    client = server.client()
    name = new_run(server)
    requests = [pb.StreamMetricsRequest(batch=batch(1, {"a": [(0, 1.0)]}))]
    with pytest.raises(Exception) as e:
        list(client.ingest.StreamMetrics(iter(requests), timeout=30))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and e.value.reason == Reason.STREAM_NOT_OPEN
    _, error = stream(client, "entities/tester/projects/stream/runs/does-not-exist", [])
    assert error is not None and error.code == grpc.StatusCode.NOT_FOUND
    _, error = stream(client, "not/a/run/name", [])
    assert error is not None and (error.code, error.reason, error.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.INVALID_NAME,
        "open.run",
    )
    _, error = stream(client, name, [], stream_id="bad stream id!")
    assert error is not None and error.reason == Reason.INVALID_NAME and error.field == "open.stream_id"


def test_a_finished_run_refuses_new_batches_but_acknowledges_replays(server: ServerThread) -> None:
    client = server.client()
    name = new_run(server)
    first = batch(1, {"a": [(0, 1.0)]})
    assert stream(client, name, [first])[1] is None
    client.ingest.FinishRun(pb.FinishRunRequest(name=name, state=2))
    responses, error = stream(client, name, [first])
    assert error is None and last_ack(responses) == 1
    _, error = stream(client, name, [first, batch(2, {"a": [(1, 1.0)]})])
    assert (
        error is not None
        and error.code == grpc.StatusCode.FAILED_PRECONDITION
        and error.reason == Reason.RUN_FINISHED
    )
    assert written(server, name) == (1, 1, 1)


def test_wide_batches_store_one_row_per_key_and_long_ones_split_into_bounded_rows(
    server: ServerThread,
) -> None:
    name = new_run(server)
    wide = batch(1, {f"k{i}": [(s, float(s)) for s in range(3)] for i in range(50)})
    long = batch(2, {"long": [(s, float(s)) for s in range(3, 1003)]})
    assert stream(server.client(), name, [wide, long])[1] is None
    count, rows, _ = written(server, name)
    assert count == 150 + 1000
    assert rows == 50 + math.ceil(1000 / 320)


def test_an_empty_batch_only_moves_the_high_water_mark(server: ServerThread) -> None:
    """The SDK replaces a batch the server refused for good by an empty one with the same sequence."""
    name = new_run(server)
    batches = [batch(1, {"a": [(0, 1.0)]}), metric_pb2.MetricBatch(sequence=2), batch(3, {"a": [(1, 2.0)]})]
    responses, error = stream(server.client(), name, batches)
    assert error is None and last_ack(responses) == 3
    assert written(server, name)[0] == 2 and written(server, name)[2] == 3


def test_a_server_that_cannot_commit_stops_reading_the_stream(server: ServerThread, pg_dsn: str) -> None:
    """Backpressure: while commits are blocked, the server holds a bounded number of batches and stops
    reading, so the client's writes wait; once commits resume every batch is acknowledged."""
    import asyncpg

    name = new_run(server, allow_out_of_order_steps=True)
    n = 50_000
    template = metric_pb2.MetricBatch(
        keys=["a"], key_indices=[0] * n, steps=range(n), values=[1.0] * n, times=[0.0] * n
    )
    pulled: list[int] = []

    def requests():  # type: ignore[no-untyped-def]
        yield pb.StreamMetricsRequest(open=pb.StreamOpen(run=name, stream_id="slow"))
        for seq in range(1, 61):
            pulled.append(seq)
            template.sequence = seq
            yield pb.StreamMetricsRequest(batch=template)

    lock = server.run(asyncpg.connect(pg_dsn))
    server.run(lock.execute("BEGIN; LOCK TABLE metric_chunks IN EXCLUSIVE MODE"))
    acks: list[int] = []
    consumer = threading.Thread(
        target=lambda: acks.extend(
            r.ack.sequence
            for r in server.client().ingest.StreamMetrics(requests(), timeout=120)
            if r.ack.sequence
        )
    )
    try:
        consumer.start()
        seen, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < 1.5:
            if len(pulled) != seen:
                seen, stable_since = len(pulled), time.monotonic()
            time.sleep(0.1)
        assert len(pulled) <= 40, f"the server kept reading while it could not commit ({len(pulled)} of 60)"
    finally:
        server.run(lock.execute("ROLLBACK"))
        server.run(lock.close())
    consumer.join(timeout=120)
    assert acks and acks[-1] == 60
    assert get_run(server, name).point_count == 3_000_000
