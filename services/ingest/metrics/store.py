"""SQL of the metric stream: stream high-water marks, the per-run key dictionary and summary
(metric_keys), and point storage (metric_chunks, written with COPY)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from ...common.db import Conn
from ..runs.states import CRASHED, RUNNING

CHUNK_COLUMNS = ("run_id", "key_id", "first_step", "last_step", "n", "steps", "vals", "times")


async def open_stream(conn: Conn, run_pk: int, stream_id: str) -> int:
    """The stream's committed sequence (0 for a new stream, whose row is created)."""
    result: int = await conn.fetchval(
        """WITH ins AS (INSERT INTO metric_streams (run_id, stream_id) VALUES ($1, $2)
                        ON CONFLICT (run_id, stream_id) DO NOTHING RETURNING sequence)
           SELECT sequence FROM ins UNION ALL
           SELECT sequence FROM metric_streams WHERE run_id = $1 AND stream_id = $2""",
        run_pk,
        stream_id,
    )
    return result


async def lock_streams(
    conn: Conn, run_pks: Sequence[int], stream_ids: Sequence[str], skip_locked: bool = False
) -> list[asyncpg.Record]:
    """Lock the run and stream rows of every (run, stream) in run id order (two transactions that lock
    several runs wait for each other in one order, so they cannot deadlock) and read what validating
    their batches needs, plus a cache token for each run's key dictionary. A deleted run has no row;
    with `skip_locked`, neither has a run another transaction holds locked."""
    return await conn.fetch(
        f"""SELECT r.id AS run_pk, s.stream_id, r.state, r.allow_out_of_order, r.point_count, s.sequence,
                  (SELECT coalesce(max(k.key_id), -1) FROM metric_keys k WHERE k.run_id = r.id) AS max_key_id
           FROM unnest($1::bigint[], $2::text[]) AS u(run_id, stream_id)
           JOIN runs r ON r.id = u.run_id
           JOIN metric_streams s ON s.run_id = u.run_id AND s.stream_id = u.stream_id
           ORDER BY r.id, s.stream_id
           FOR UPDATE OF r, s{" SKIP LOCKED" if skip_locked else ""}""",
        list(run_pks),
        list(stream_ids),
    )


async def existing_runs(conn: Conn, run_pks: Sequence[int]) -> set[int]:
    rows = await conn.fetch("SELECT id FROM runs WHERE id = ANY($1::bigint[])", list(run_pks))
    return {r["id"] for r in rows}


async def media_keys(conn: Conn, run_pks: Sequence[int], keys: Sequence[str]) -> set[tuple[int, str]]:
    """Which of the (run, key) pairs hold rich (media) values (one statement for a whole group)."""
    rows = await conn.fetch(
        """SELECT DISTINCT u.run_id, u.key FROM unnest($1::bigint[], $2::text[]) AS u(run_id, key)
           WHERE EXISTS (SELECT 1 FROM media_entries m WHERE m.run_id = u.run_id AND m.key = u.key)""",
        list(run_pks),
        list(keys),
    )
    return {(r["run_id"], r["key"]) for r in rows}


async def load_keys(conn: Conn, run_pks: Sequence[int]) -> list[asyncpg.Record]:
    """The key dictionaries of several runs (one statement)."""
    return await conn.fetch(
        "SELECT run_id, key_id, key, last_step FROM metric_keys WHERE run_id = ANY($1::bigint[])",
        list(run_pks),
    )


async def copy_chunks(conn: Conn, records: Sequence[tuple[Any, ...]], timeout: float) -> None:
    """COPY the rows. asyncpg's COPY IN can wait forever when the server goes away mid-COPY (its own
    timeout does not cover that wait), so the COPY races a connection-lost listener and a deadline."""
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_lost(_: object) -> None:
        if not lost.done():
            lost.set_result(None)

    conn.add_termination_listener(on_lost)
    copy: asyncio.Future[Any] = asyncio.ensure_future(
        conn.copy_records_to_table("metric_chunks", records=records, columns=CHUNK_COLUMNS, timeout=timeout)
    )
    try:
        done, _ = await asyncio.wait({copy, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if copy in done:
            copy.result()
            return
        copy.cancel()
        await asyncio.wait({copy}, timeout=5)
        if lost.done():
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection lost during COPY")
        raise asyncio.TimeoutError("COPY did not finish in time")
    finally:
        if not copy.done():
            copy.cancel()
        conn.remove_termination_listener(on_lost)


_COMMIT_SQL = """
WITH u AS (
    SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[],
                         $7::bigint[], $8::float8[], $9::bigint[], $10::float8[], $11::bigint[], $12::float8[])
        AS u(run_id, key_id, key, count, finite_count, last, last_step, min, min_step, max, max_step, sum)
), k AS (
    INSERT INTO metric_keys AS m (run_id, key_id, key, count, finite_count, last, last_step,
                                  min, min_step, max, max_step, sum)
    SELECT run_id, key_id, key, count, finite_count, last, last_step,
           CASE WHEN finite_count > 0 THEN min END, CASE WHEN finite_count > 0 THEN min_step END,
           CASE WHEN finite_count > 0 THEN max END, CASE WHEN finite_count > 0 THEN max_step END, sum
    FROM u
    ON CONFLICT (run_id, key_id) DO UPDATE SET
        count = m.count + EXCLUDED.count,
        finite_count = m.finite_count + EXCLUDED.finite_count,
        sum = m.sum + EXCLUDED.sum,
        last = CASE WHEN EXCLUDED.last_step >= m.last_step THEN EXCLUDED.last ELSE m.last END,
        last_step = greatest(m.last_step, EXCLUDED.last_step),
        min_step = CASE WHEN m.min IS NULL OR EXCLUDED.min < m.min
                        THEN coalesce(EXCLUDED.min_step, m.min_step) ELSE m.min_step END,
        min = CASE WHEN m.min IS NULL OR EXCLUDED.min < m.min THEN coalesce(EXCLUDED.min, m.min) ELSE m.min END,
        max_step = CASE WHEN m.max IS NULL OR EXCLUDED.max > m.max
                        THEN coalesce(EXCLUDED.max_step, m.max_step) ELSE m.max_step END,
        max = CASE WHEN m.max IS NULL OR EXCLUDED.max > m.max THEN coalesce(EXCLUDED.max, m.max) ELSE m.max END
), v AS (
    SELECT * FROM unnest($13::bigint[], $14::text[], $15::bigint[], $16::bigint[], $17::bigint[])
        AS v(run_id, stream_id, sequence, points, next_step)
), s AS (
    UPDATE metric_streams m SET sequence = v.sequence, update_time = now()
    FROM v WHERE m.run_id = v.run_id AND m.stream_id = v.stream_id
)
UPDATE runs r SET point_count = r.point_count + v.points, next_step = greatest(r.next_step, v.next_step),
                  heartbeat_time = now(),
                  state = CASE WHEN r.state = $18 THEN $19 ELSE r.state END,
                  finish_time = CASE WHEN r.state = $18 THEN NULL ELSE r.finish_time END
FROM v WHERE r.id = v.run_id
RETURNING r.id, r.point_count
"""


@dataclass
class StreamMove:
    """What one stream's accepted batches change: its high-water mark and its run's counters."""

    run_pk: int
    stream_id: str
    sequence: int
    points: int
    next_step: int


async def commit_group(
    conn: Conn, summary: Sequence[list[Any]], moves: Sequence[StreamMove], timeout: float
) -> dict[int, int]:
    """Merge per-key summaries of several runs (one row per (run, key)), move every stream's
    high-water mark and its run's counters, in ONE statement. The streams belong to distinct runs.
    Returns each run's point count. A crashed run that sends data is running again."""
    rows = await conn.fetch(
        _COMMIT_SQL,
        *summary,
        [m.run_pk for m in moves],
        [m.stream_id for m in moves],
        [m.sequence for m in moves],
        [m.points for m in moves],
        [m.next_step for m in moves],
        CRASHED,
        RUNNING,
        timeout=timeout,
    )
    return {r["id"]: r["point_count"] for r in rows}


_OVERRIDES_SQL = """
WITH o AS (
    SELECT * FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS o(key, value, ord)
), known AS (
    SELECT count(*) AS n, coalesce(max(key_id), -1) AS max_id FROM metric_keys WHERE run_id = $1
), fresh AS (
    SELECT o.key, o.value, row_number() OVER (ORDER BY o.ord) AS rn FROM o
    WHERE o.value IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM metric_keys m WHERE m.run_id = $1 AND m.key = o.key)
), allowed AS (
    SELECT (SELECT n FROM known) + (SELECT count(*) FROM fresh) <= $4 AS ok
), upd AS (
    UPDATE metric_keys m SET override = o.value::jsonb FROM o
    WHERE m.run_id = $1 AND m.key = o.key AND (SELECT ok FROM allowed)
), ins AS (
    INSERT INTO metric_keys (run_id, key_id, key, override)
    SELECT $1, known.max_id + fresh.rn, fresh.key, fresh.value::jsonb FROM fresh, known
    WHERE (SELECT ok FROM allowed)
)
SELECT ok FROM allowed
"""


async def set_overrides(
    conn: Conn, run_pk: int, keys: Sequence[str], values: Sequence[str | None], max_keys: int
) -> bool:
    """Set (or clear, value None) the summary overrides of distinct `keys` in ONE statement; a key the
    run does not have yet is created (count 0) holding only its override. Writes nothing and returns
    False when the new keys would take the run past `max_keys` keys. The caller holds the run row
    lock, so the new key ids cannot race."""
    result: bool = await conn.fetchval(_OVERRIDES_SQL, run_pk, list(keys), list(values), max_keys)
    return result
