"""MediaPanel's data: the runs of its runset that logged rich values under its key, in the runset's
order (at most MAX_RUNS, each with the key's type, value count and step range), so that the console and
the HTML export draw each run's values from the query service's media reads. One query for all runs.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from strata.ingest.v1 import media_pb2

from ...common.db import Conn

MAX_RUNS = 12
COLUMNS = ("name", "type", "values", "first_step", "last_step")


def kind(value: int) -> str:
    """The type as the console's media endpoints name it: image, plotly, html, table, histogram, text."""
    name = media_pb2.MediaType.Name(value) if value in media_pb2.MediaType.values() else "MEDIA_TYPE_TEXT"
    return name.removeprefix("MEDIA_TYPE_").lower()


async def media_runs(conn: Conn, key: str, pks: list[int], timeout: float) -> dict[int, list[Any]]:
    """Run pk -> [type, values, first_step, last_step] of the runs that logged `key`, the first
    MAX_RUNS of them in the order of `pks`."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """SELECT run_id, min(media_type) AS media_type, count(*) AS n, min(step) AS lo, max(step) AS hi
           FROM media_entries WHERE run_id = ANY($1::int8[]) AND key = $2 GROUP BY run_id""",
        pks,
        key,
        timeout=timeout,
    )
    found = {r["run_id"]: [kind(r["media_type"]), r["n"], r["lo"], r["hi"]] for r in rows}
    return {pk: found[pk] for pk in [pk for pk in pks if pk in found][:MAX_RUNS]}
