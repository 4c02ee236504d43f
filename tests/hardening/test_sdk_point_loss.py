"""run.log refuses a bad step or value in the calling thread, naming it, and logs nothing of that
call; nothing refused (and no failure of the background producer) silently loses other points."""

from __future__ import annotations

import errno
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import strata
from strata.ingest.v1 import run_pb2
from strata.sdk.run import MAX_STEP

from tests.fixtures.ingest import assert_same_points, get_run
from tests.fixtures.ingest import run_points as stored
from tests.fixtures.servers import ServerThread
from tests.fixtures.wait import poll_until

pytestmark = pytest.mark.timeout(120)


def offline_run():  # type: ignore[no-untyped-def]
    return strata.init(project="hardening", entity="tester", mode="offline")


@pytest.mark.parametrize("step", ["7", True, np.bool_(False), 3.7, 3.0, np.float64(2), b"1", [1]])
def test_a_step_that_is_not_an_int_raises_type_error_naming_the_step(step: object) -> None:
    run = offline_run()
    with pytest.raises(TypeError, match="step"):
        run.log({"loss": 1.0}, step=step)  # type: ignore[arg-type]
    assert run.step == 0 and not run._buffer and "loss" not in run._known
    run.finish()


@pytest.mark.parametrize("step", [-1, MAX_STEP + 1, 2**63, 2**64, np.uint64(2**63)])
def test_a_step_out_of_range_raises_value_error_naming_the_step(step: int) -> None:
    run = offline_run()
    with pytest.raises(ValueError, match="step"):
        run.log({"loss": 1.0}, step=step)
    assert run.step == 0 and not run._buffer
    run.finish()


def test_steps_up_to_the_highest_are_accepted_and_the_auto_step_stops_there() -> None:
    run = offline_run()
    run.log({"loss": 1.0}, step=np.int64(5))
    run.log({"loss": 1.0}, step=MAX_STEP)
    assert run.step == MAX_STEP + 1
    with pytest.raises(ValueError, match="step"):
        run.log({"loss": 2.0})  # the next automatic step would be past the highest
    run.finish()


@pytest.mark.parametrize(
    "data, key",
    [
        ({"loss": 10**400}, "loss"),
        ({"ok": 1.0, "big": -(10**309)}, "big"),
        ({"nested": {"big": 10**400}}, "nested/big"),
        ({"frac": Fraction(10**400)}, "frac"),
    ],
)
def test_a_value_too_large_for_float64_raises_naming_the_key(data: dict, key: str) -> None:
    run = offline_run()
    with pytest.raises(ValueError, match=f"'{key}'"):
        run.log(data)
    assert run.step == 0 and not run._buffer and not run._known, "a refused call logs nothing"
    run.finish()


def test_a_huge_int_under_known_keys_raises_on_the_fast_path_too() -> None:
    run = offline_run()
    run.log({"epoch": 1, "loss": np.float32(0.5)})  # the keys are now known: the fast path
    with pytest.raises(ValueError, match="'epoch'"):
        run.log({"epoch": 10**400, "loss": np.float32(0.5)})
    run.log({"epoch": 2**1000, "loss": math.inf})  # large but finite as a float64: fine
    assert run.step == 2
    run.finish()


def test_non_numbers_raise_type_error_naming_the_key() -> None:
    run = offline_run()
    with pytest.raises(TypeError, match="'text'"):
        run.log({"loss": 1.0, "text": b"hello"})  # bytes (a str is logged as text)
    assert not run._known, "no key of a refused call is registered"
    run.finish()


def test_after_refused_calls_every_later_point_arrives(server: ServerThread) -> None:
    """Refused calls between valid ones (in the same ~20 ms batch) lose none of the valid points,
    and the run finishes with the exact count."""
    run = strata.init(project="hardening", entity="tester", addr=server.addr)
    expected: dict[str, tuple[list[int], list[float]]] = {"loss": ([], []), "acc": ([], [])}
    bad_calls = [
        ({"loss": 1.0}, {"step": 2**63}),
        ({"loss": 1.0}, {"step": 2**63 - 1}),
        ({"loss": 10**400}, {}),
        ({"loss": 1.0}, {"step": "7"}),
        ({"loss": 1.0}, {"step": True}),
        ({"loss": 1.0}, {"step": 3.7}),
    ]
    for step in range(600):
        values = {"loss": 1.0 / (step + 1), "acc": [math.nan, math.inf, -math.inf, 0.5][step % 4]}
        run.log(values)
        for key, value in values.items():
            expected[key][0].append(step)
            expected[key][1].append(value)
        if step % 100 == 50:
            data, kwargs = bad_calls[(step // 100) % len(bad_calls)]
            with pytest.raises((TypeError, ValueError)):
                run.log(data, **kwargs)
    run.finish(timeout=60)
    final = get_run(server, run.resource_name)
    assert final.state == run_pb2.RUN_STATE_FINISHED
    assert final.point_count == run.committed_points == 1200
    assert final.next_step == 600
    assert_same_points(
        stored(server, run.resource_name), {k: (np.array(s), np.array(v)) for k, (s, v) in expected.items()}
    )


def _break_the_spool(run) -> None:  # type: ignore[no-untyped-def]
    """From now on the spool cannot take a batch, as on a full disk."""

    def full(sequence: int, payload: bytes):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    run._spool.batch = full


def test_a_failed_producer_is_raised_by_the_next_log_and_the_run_ends_failed(server: ServerThread) -> None:
    run = strata.init(project="hardening", entity="tester", addr=server.addr)
    for step in range(10):
        run.log({"a": float(step)})
    assert run.wait_spooled()
    _break_the_spool(run)
    for step in range(10, 15):
        run.log({"a": float(step)})
    poll_until(lambda: run._producer.error is not None, timeout=10, what="the producer to fail")
    assert len(run._buffer) == 5, "entries the producer could not spool stay in memory"
    with pytest.raises(RuntimeError, match="producer failed") as raised:
        run.log({"a": 99.0})
    assert isinstance(raised.value.__cause__, OSError)
    run.finish(timeout=60)  # already raised by log(): finish does not raise it again
    final = get_run(server, run.resource_name)
    assert final.state == run_pb2.RUN_STATE_FAILED and final.point_count == 10


def test_finish_raises_a_producer_failure_that_log_did_not(spool: Path) -> None:
    run = offline_run()
    run.log({"a": 1.0})
    assert run.wait_spooled()
    _break_the_spool(run)
    run.log({"a": 2.0})
    with pytest.raises(RuntimeError, match="producer failed"):
        run.finish()
    assert run.spool_path.exists(), "what was spooled stays for `strata sync`"
