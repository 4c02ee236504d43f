"""Protobuf wire encoding of MetricBatch straight from numpy arrays (no per-point Python work).

Building a MetricBatch message with `extend()` costs ~100 µs per 1000 points; writing the packed
wire format from arrays costs a few µs. Varints (key_indices, steps) are written at one fixed width
per field (the width of the largest value): protobuf parsers accept such padded varints, and a fixed
width makes the encoding a reshape instead of a scatter. The output parses with any protobuf library
(`MetricBatch.FromString`, Go, Node, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from strata.ingest.v1 import metric_pb2
from strata.wire.transfer import varint


def packed_varints(values: np.ndarray) -> bytes:
    """Non-negative integers as varints, all padded to the width of the largest."""
    if values.size == 0:
        return b""
    a = values.astype(np.uint64, copy=False)
    top = int(a.max())
    if top < 0x80:
        return a.astype(np.uint8).tobytes()
    width = (top.bit_length() + 6) // 7
    if top < 2**32:  # 32-bit lanes: half the memory traffic of the common case (steps, indices)
        a = a.astype(np.uint32)
    shifts = np.arange(width, dtype=a.dtype) * a.dtype.type(7)
    out = ((a[:, None] >> shifts) & a.dtype.type(0x7F)).astype(np.uint8)
    out[:, :-1] |= 0x80
    packed: bytes = out.tobytes()
    return packed


def _field(tag: int, payload: bytes) -> bytes:
    return bytes((tag,)) + varint(len(payload)) + payload if payload else b""


def encode_batch(
    sequence: int,
    keys: Sequence[str],
    key_indices: np.ndarray,
    steps: np.ndarray,
    values: np.ndarray,
    times: np.ndarray,
    last_sequence: int = 0,
) -> bytes:
    """strata.ingest.v1.MetricBatch bytes (field numbers 1..7 of metric.proto)."""
    parts = [b"\x08" + varint(sequence)]
    if last_sequence and last_sequence != sequence:
        parts.append(b"\x38" + varint(last_sequence))
    for key in keys:
        raw = key.encode()
        parts.append(b"\x12" + varint(len(raw)) + raw)
    parts.append(_field(0x1A, packed_varints(key_indices)))
    parts.append(_field(0x22, packed_varints(steps)))
    parts.append(_field(0x2A, values.astype("<f8", copy=False).tobytes()))
    parts.append(_field(0x32, times.astype("<f8", copy=False).tobytes()))
    return b"".join(parts)


def batch_request(batch: bytes) -> bytes:
    """StreamMetricsRequest{batch: ...} bytes around already encoded MetricBatch bytes."""
    return b"\x12" + varint(len(batch)) + batch


def batch_sequence(batch: bytes) -> int:
    """The sequence number of encoded MetricBatch bytes (always written first by encode_batch)."""
    if not batch or batch[0] != 0x08:
        return 0
    value, shift = 0, 0
    for byte in batch[1:11]:
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
        shift += 7
    raise ValueError("malformed sequence varint")


def merge_batches(payloads: Sequence[bytes], first: int, last: int) -> bytes:
    """Encoded batches `first`..`last` (consecutive, in order) as ONE MetricBatch carrying that range
    (sequence=first, last_sequence=last): their keys united, their points concatenated in sequence
    order, then ordered by key (stable: a key's points keep their order, so steps stay ascending)."""
    keys: dict[str, int] = {}
    idx, steps, values, times = [], [], [], []
    for payload in payloads:
        b = metric_pb2.MetricBatch.FromString(payload)
        remap = np.fromiter(
            (keys.setdefault(k, len(keys)) for k in b.keys), dtype=np.int64, count=len(b.keys)
        )
        if len(b.key_indices):
            idx.append(remap[np.asarray(b.key_indices, dtype=np.int64)])
            steps.append(np.asarray(b.steps, dtype=np.int64))
            values.append(np.asarray(b.values, dtype=np.float64))
            times.append(np.asarray(b.times, dtype=np.float64))
    if not idx:
        empty = np.empty(0)
        return encode_batch(first, [], empty, empty, empty, empty, last)
    all_idx = np.concatenate(idx)
    order = np.argsort(all_idx, kind="stable")
    return encode_batch(
        first,
        list(keys),
        all_idx[order],
        np.concatenate(steps)[order],
        np.concatenate(values)[order],
        np.concatenate(times)[order],
        last,
    )
