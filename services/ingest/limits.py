"""Documented limits of runs and the metric stream (README "Runs and metrics", limits table)."""

from __future__ import annotations

import re

from ..common.errors import InvalidArgument, Reason

MAX_KEYS_PER_RUN = 10_000  # distinct metric keys per run (TOO_MANY_KEYS beyond)
MAX_KEY_LENGTH = 256
MAX_BATCH_POINTS = 100_000  # points per MetricBatch (advertised in StreamOpened.max_batch_points)
MAX_BATCH_KEYS = MAX_KEYS_PER_RUN
MAX_STREAM_ID = 128
ROW_POINTS = 320  # points per metric_chunks row: 3 x 8 x 320 bytes stay inline (< toast_tuple_target)
QUEUE_BATCHES = 16  # batches a stream holds in memory before the server stops reading (backpressure)
GROUP_POINTS = 250_000  # points committed in one transaction at most (group commit)
MAX_TAGS, MAX_TAG = 64, 64
MAX_JOB_TYPE, MAX_GROUP, MAX_DISPLAY_NAME = 64, 128, 128
MAX_NOTES_BYTES = 64 * 1024
MAX_CONFIG_BYTES = 1024 * 1024

KEY_RE = re.compile(r"^[A-Za-z0-9_./:() -]{1,256}$")
RESERVED_KEYS = frozenset({"_runtime", "_timestamp"})
STREAM_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def key_problem(key: str) -> str | None:
    """Why a metric key is not acceptable, or None."""
    if not key:
        return "a metric key may not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"metric key is longer than {MAX_KEY_LENGTH} characters"
    if not KEY_RE.match(key):
        return f"metric key {key!r} has characters outside [A-Za-z0-9_./:() -]"
    if key.startswith("_") and key not in RESERVED_KEYS:
        return f"metric key {key!r} starts with '_' (reserved for {sorted(RESERVED_KEYS)})"
    return None


def check_key(key: str, field: str) -> str:
    problem = key_problem(key)
    if problem:
        raise InvalidArgument(field, Reason.INVALID_NAME, problem)
    return key
