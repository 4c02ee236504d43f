"""The client's wire encoding and spool format, without a server: encoded batches parse with the
standard protobuf library; a torn or corrupt spool tail is cut off, everything before it is kept."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strata.ingest.v1 import metric_pb2
from strata.sdk._sender import columns
from strata.sdk._spool import BATCH, CREATE, FINISH, SpoolWriter, read_records, read_spool
from strata.sdk._wire import batch_sequence, encode_batch

steps_st = st.lists(st.integers(min_value=0, max_value=2**62), min_size=0, max_size=50)


@settings(max_examples=60, deadline=None)
@given(steps=steps_st, seq=st.integers(min_value=1, max_value=2**60), data=st.data())
def test_encoded_batches_parse_with_protobuf_to_the_same_columns(steps: list[int], seq: int, data) -> None:  # type: ignore[no-untyped-def]
    n = len(steps)
    values = data.draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n))
    key_idx = data.draw(st.lists(st.integers(min_value=0, max_value=299), min_size=n, max_size=n))
    keys = [f"k{i}" for i in range(300)]
    raw = encode_batch(
        seq, keys, np.array(key_idx, np.int64), np.array(steps, np.int64), np.array(values), np.full(n, 1.5)
    )
    parsed = metric_pb2.MetricBatch.FromString(raw)
    assert parsed.sequence == seq == batch_sequence(raw)
    assert list(parsed.keys) == keys and list(parsed.key_indices) == key_idx and list(parsed.steps) == steps
    assert np.array_equal(np.array(parsed.values), np.array(values, dtype=float), equal_nan=True)
    assert list(parsed.times) == [1.5] * n


def test_log_entries_become_key_major_columns_in_log_order() -> None:
    order = {"b": 0, "a": 1, "c": 2}
    names = ["b", "a", "c"]
    entries = [
        (0, 10.0, {"a": 1.0, "b": 2.0}),
        (1, 11.0, {"a": 3.0, "b": 4.0}),
        (2, 12.0, {"c": 5.0, "a": 6.0}),
    ]
    keys, idx, steps, values, times = columns(entries, order, names)
    assert keys == ["b", "a", "c"]
    assert [keys[i] for i in idx] == ["b", "b", "a", "a", "a", "c"]
    assert steps.tolist() == [0, 1, 0, 1, 2, 2] and values.tolist() == [2.0, 4.0, 1.0, 3.0, 6.0, 5.0]
    assert times.tolist() == [10.0, 11.0, 10.0, 11.0, 12.0, 12.0]


def test_a_torn_or_corrupt_spool_tail_is_cut_and_the_rest_is_kept(tmp_path: Path) -> None:
    spool = SpoolWriter(tmp_path / "s", segment_bytes=200)
    spool.control(CREATE, b"create")
    for seq in range(1, 6):
        spool.batch(
            seq, encode_batch(seq, ["x"], np.zeros(3, np.int64), np.arange(3), np.ones(3), np.ones(3))
        )
    spool.control(FINISH, b"finish")
    spool.close()
    contents = read_spool(tmp_path / "s")
    assert (
        contents.create == b"create"
        and contents.finish == b"finish"
        and sorted(contents.batches) == [1, 2, 3, 4, 5]
    )
    assert len(list((tmp_path / "s").glob("seg-*.log"))) > 1  # small segments roll over
    last = sorted((tmp_path / "s").glob("seg-*.log"))[-1]
    data = last.read_bytes()
    last.write_bytes(data[:-3])  # a crash in the middle of the last write
    assert max(read_spool(tmp_path / "s").batches) == 4
    control = tmp_path / "s" / "control.log"
    raw = bytearray(control.read_bytes())
    raw[-1] ^= 0xFF  # a flipped bit in the FINISH record
    control.write_bytes(bytes(raw))
    assert [kind for kind, _, _ in read_records(control)] == [CREATE]
    assert BATCH not in [kind for kind, _, _ in read_records(control)]


def test_acknowledged_segments_are_deleted_but_never_the_current_one(tmp_path: Path) -> None:
    spool = SpoolWriter(tmp_path / "s", segment_bytes=1)  # one batch per segment
    for seq in range(1, 5):
        spool.batch(seq, encode_batch(seq, [], *(np.empty(0),) * 4))
    spool.acked(3)
    assert sorted(read_spool(tmp_path / "s").batches) == [4]
    spool.acked(4)
    assert sorted(read_spool(tmp_path / "s").batches) == [4]  # the open segment stays
    spool.close()


def test_every_spooled_record_and_new_segment_is_fsynced_by_default(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The spool is fsynced (a power cut keeps what was spooled) unless STRATA_SPOOL_FSYNC=0."""
    from strata import _settings

    monkeypatch.delenv("STRATA_SPOOL_FSYNC", raising=False)
    assert _settings.spool_fsync()
    monkeypatch.setenv("STRATA_SPOOL_FSYNC", "0")
    assert not _settings.spool_fsync()
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    spool = SpoolWriter(tmp_path / "s", segment_bytes=1, fsync=True)  # one batch per segment
    spool.control(CREATE, b"create")
    for seq in (1, 2):
        spool.batch(seq, encode_batch(seq, [], *(np.empty(0),) * 4))
    spool.close()
    assert len(synced) == 1 + 2 * 2  # the control record; per batch: its new segment's folder, the record
    assert sorted(read_spool(tmp_path / "s").batches) == [1, 2]
    unsynced = SpoolWriter(tmp_path / "u", fsync=False)
    unsynced.batch(1, encode_batch(1, [], *(np.empty(0),) * 4))
    unsynced.close()
    assert len(synced) == 5
