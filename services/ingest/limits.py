"""Documented limits of runs and the metric stream (README "Runs and metrics", limits table)."""

from __future__ import annotations

import re

from strata.sdk._keys import KEY_RE, MAX_KEY_LENGTH, MAX_KEYS_PER_RUN, RESERVED_KEYS, key_problem

from ..common.errors import InvalidArgument, Reason

__all__ = ["KEY_RE", "MAX_KEY_LENGTH", "MAX_KEYS_PER_RUN", "RESERVED_KEYS", "check_key", "key_problem"]

# MAX_KEYS_PER_RUN (TOO_MANY_KEYS beyond), MAX_KEY_LENGTH and the key grammar are shared with the SDK.
MAX_BATCH_POINTS = 100_000  # points per MetricBatch (advertised in StreamOpened.max_batch_points)
MAX_BATCH_KEYS = MAX_KEYS_PER_RUN
MAX_STREAM_ID = 128
ROW_POINTS = 320  # points per metric_chunks row: 3 x 8 x 320 bytes stay inline (< toast_tuple_target)
QUEUE_BATCHES = 16  # batches a stream holds in memory before the server stops reading (backpressure)
GROUP_POINTS = 250_000  # points committed in one transaction at most (group commit)
# Highest step of a point: the run's next_step (last step + 1) must still fit in a PostgreSQL bigint.
MAX_STEP = 2**63 - 2
MAX_TAGS, MAX_TAG = 64, 64
MAX_JOB_TYPE, MAX_GROUP, MAX_DISPLAY_NAME = 64, 128, 128
MAX_NOTES_BYTES = 64 * 1024
MAX_CONFIG_BYTES = 1024 * 1024

STREAM_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def check_key(key: str, field: str) -> str:
    problem = key_problem(key)
    if problem:
        raise InvalidArgument(field, Reason.INVALID_NAME, problem)
    return key
