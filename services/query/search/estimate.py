"""CountRuns with allow_estimate: exact up to EXACT_UP_TO matches, an estimate above, in bounded time.

1. A sample: about SAMPLE_RUNS of the project's runs, read from random pages of the runs table
   (TABLESAMPLE SYSTEM with a fixed seed, so the same data gives the same answer), or, when the
   project is a small part of the table, picked through the project's index in a fixed hash order of
   their ids (plan_sample weighs the rows each way reads); the share that
   matches, scaled to the project's size (counted when small, else the planner's estimate), is the
   estimate. Its relative error is about 1/sqrt(matches in the sample): ~3% for a filter matching a
   fifth of the runs. A project no larger than the sample is read whole: the count is exact.
2. When the sample holds fewer than MIN_SAMPLE_MATCHES matches (a selective filter, a poor estimate),
   the candidates of the search side indexes are counted exactly when there is a selective set
   (candidates.py); else a capped count follows (the planner's plan, so the filter indexes serve it):
   up to EXACT_UP_TO matches it is the exact answer; above, the estimate stands (at least
   EXACT_UP_TO + 1). The capped count may run CAPPED_COUNT_MS: a selective filter that no index
   serves (a regex with no literal) would read the whole project, so past that the sample's estimate
   stands, flagged `estimated` (it may be 0 for a few matches in a large project).

The answer says `estimated`; callers offer an exact count (allow_estimate = false).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from ...common.db import Conn
from . import store
from .candidates import candidate_ids
from .filters import Node

EXACT_UP_TO = 1000
SAMPLE_RUNS = 5000
MIN_SAMPLE_MATCHES = 30
INDEX_SAMPLE_FACTOR = 4  # a table-page sample may read this many rows per project run, no more
CAPPED_COUNT_MS = 150


@dataclass(frozen=True)
class Count:
    count: int
    estimated: bool


async def estimate_count(conn: Conn, project_id: int, node: Node, timeout: float) -> Count:
    size, exact_size = await store.project_size(conn, project_id, timeout)
    sample = plan_sample(size, await store.table_size(conn, timeout))
    sampled, matched = await store.sample_matches(conn, project_id, node, sample, timeout)
    if sample.runs >= size and exact_size:
        return Count(matched, False)  # the sample was the whole project
    estimate = round(matched / sampled * size) if sampled else 0
    if matched >= MIN_SAMPLE_MATCHES and estimate > EXACT_UP_TO:
        return Count(estimate, True)
    found = await candidate_ids(conn, project_id, node, timeout)
    if found is not None:  # a selective side-index path: its candidates are counted exactly
        return Count(await store.count_runs(conn, project_id, node, timeout, candidates=found), False)
    capped = await _bounded_capped_count(conn, project_id, node, timeout)
    if capped is None:  # no index found the few matches in time: the sample's estimate stands
        return Count(estimate, True)
    if capped <= EXACT_UP_TO:
        return Count(capped, False)
    return Count(max(estimate, EXACT_UP_TO + 1), True)


async def _bounded_capped_count(conn: Conn, project_id: int, node: Node, timeout: float) -> int | None:
    """The count capped at EXACT_UP_TO + 1, or None when it takes longer than CAPPED_COUNT_MS (a
    selective filter no index serves reads the whole project: ~0.5 s at 1,000,000 runs)."""
    previous = await conn.fetchval("SHOW statement_timeout")
    try:
        async with conn.transaction():  # a savepoint: the canceled count leaves the search usable
            await conn.execute(f"SET LOCAL statement_timeout = {CAPPED_COUNT_MS}")
            capped = await store.count_runs(conn, project_id, node, timeout, cap=EXACT_UP_TO)
            await conn.execute("SELECT set_config('statement_timeout', $1, true)", previous)
    except asyncpg.exceptions.QueryCanceledError:
        return None
    return capped


def plan_sample(project_runs: int, table_runs: int) -> store.Sample:
    """Table pages when the project is a large part of the runs table (reading SAMPLE_RUNS of its
    runs costs ~SAMPLE_RUNS * table / project rows); else its runs through the project index (costs an
    index read of the whole project, ~40 bytes a run)."""
    share = min(1.0, project_runs / max(table_runs, project_runs, 1))
    percent = min(100.0, 100.0 * SAMPLE_RUNS / max(project_runs, 1))  # the project's runs are spread
    if SAMPLE_RUNS / share <= INDEX_SAMPLE_FACTOR * project_runs:
        return store.Sample(percent, SAMPLE_RUNS)
    return store.Sample(None, SAMPLE_RUNS)
