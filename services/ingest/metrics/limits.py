"""Documented limits of the metric stream and the metric key grammar
(docs/guides/runs-and-metrics.md#limits). The limits of a run's own fields are in runs/limits.py."""

from __future__ import annotations

import re

from strata.wire.metric_keys import KEY_RE, MAX_KEY_LENGTH, MAX_KEYS_PER_RUN, RESERVED_KEYS, key_problem

from ...common.errors import InvalidArgument, Reason

__all__ = ["KEY_RE", "MAX_KEY_LENGTH", "MAX_KEYS_PER_RUN", "RESERVED_KEYS", "check_key", "key_problem"]

# MAX_KEYS_PER_RUN (TOO_MANY_KEYS beyond), MAX_KEY_LENGTH and the key grammar are shared with the SDK.
MAX_BATCH_POINTS = 100_000  # points per MetricBatch (advertised in StreamOpened.max_batch_points)
MAX_BATCH_KEYS = MAX_KEYS_PER_RUN
MAX_STREAM_ID = 128
ROW_POINTS = 320  # points per metric_chunks row: 3 x 8 x 320 bytes stay inline (< toast_tuple_target)
QUEUE_BATCHES = 16  # batches a stream holds in memory before the server stops reading (backpressure)
GROUP_POINTS = 250_000  # points committed in one transaction at most (group commit, all streams)
COMMITTERS = 2  # committer tasks per process, each committing for its share of the runs
# Highest step of a point: the run's next_step (last step + 1) must still fit in a PostgreSQL bigint.
MAX_STEP = 2**63 - 2
# Highest sequence number of a stream (metric_streams.sequence is a PostgreSQL bigint).
MAX_SEQUENCE = 2**63 - 1
# Batches one message may carry as a range (MetricBatch.last_sequence - sequence + 1): a client merges
# the small batches it spooled meanwhile (the SDK: at most 10,000); a range that claims millions is a
# client bug that would mark batches it never sent as committed.
MAX_RANGE_BATCHES = 100_000

STREAM_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def check_key(key: str, field: str) -> str:
    problem = key_problem(key)
    if problem:
        raise InvalidArgument(field, Reason.INVALID_NAME, problem)
    return key
