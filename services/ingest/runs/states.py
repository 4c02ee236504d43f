"""Run states and resume modes, named once from the generated strata.ingest.v1 enums.

The runs table stores RunState numbers. Domain code compares against these names and the stores
bind them as SQL parameters, so no module restates an enum number.
"""

from __future__ import annotations

from strata.ingest.v1 import run_pb2

RUNNING = run_pb2.RUN_STATE_RUNNING
FINISHED = run_pb2.RUN_STATE_FINISHED
FAILED = run_pb2.RUN_STATE_FAILED
KILLED = run_pb2.RUN_STATE_KILLED
CRASHED = run_pb2.RUN_STATE_CRASHED
TERMINAL = frozenset({FINISHED, FAILED, KILLED})

RESUME_UNSPECIFIED = run_pb2.RESUME_MODE_UNSPECIFIED
RESUME_NEVER = run_pb2.RESUME_MODE_NEVER
RESUME_ALLOW = run_pb2.RESUME_MODE_ALLOW
RESUME_MUST = run_pb2.RESUME_MODE_MUST
