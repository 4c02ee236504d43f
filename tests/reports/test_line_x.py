"""LinePlot x axes other than the step: wall time, run time and another metric key; and long series
read through the query service's rollups (used when present, ignored when a chunk they cover is gone).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from tests.fixtures import query as fx
from tests.reports.helpers import create

pytestmark = pytest.mark.timeout(120)
PARENT = "entities/linex/projects/p"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
STEPS = np.arange(10)


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    """Run a (created at T0, first point 10 s later, one step every 2 s, loss = step, epoch logged at
    steps 0, 4, 8 as 0, 1, 2) and run b (created 100 s later, a step every 3 s, loss = 2 * step)."""

    async def setup() -> None:
        pool = server.deps.pool
        project_id = await fx.create_project(pool, "linex", "p")
        a = await fx.add_run(pool, project_id, "a", config={"arch": "x"}, created=T0)
        b = await fx.add_run(pool, project_id, "b", config={"arch": "y"}, created=T0 + timedelta(seconds=100))
        start = T0.timestamp()
        await fx.add_series(pool, a, "loss", STEPS, STEPS * 1.0, start + 10 + STEPS * 2.0)
        await fx.add_series(pool, a, "epoch", [0, 4, 8], [0.0, 1.0, 2.0])
        await fx.add_series(pool, b, "loss", STEPS, STEPS * 2.0, start + 100 + STEPS * 3.0)

    server.run(setup())
    return server.client()


def series(client: Any, **line: Any) -> dict[str, rp.Series]:
    panel = rp.Panel(line_plot=rp.LinePlot(y=["loss"], **line))
    block = rp.Block(panel_grid=rp.PanelGrid(runsets=[rp.Runset(order=["created_at"])], panels=[panel]))
    name = create(client, PARENT, "x axes", [block]).name
    got = client.reports.GetPanelData(rs.GetPanelDataRequest(report=name)).data
    return {s.group: s for s in got.series}


def test_x_timestamp_is_the_wall_time_of_each_point(client) -> None:  # type: ignore[no-untyped-def]
    got = series(client, x="_timestamp")
    start = T0.timestamp()
    np.testing.assert_allclose(got["a"].x, start + 10 + STEPS * 2.0)
    np.testing.assert_allclose(got["a"].y, STEPS * 1.0)
    np.testing.assert_allclose(got["b"].x, start + 100 + STEPS * 3.0)
    np.testing.assert_allclose(got["b"].y, STEPS * 2.0)


def test_x_runtime_counts_from_the_runs_creation(client) -> None:  # type: ignore[no-untyped-def]
    got = series(client, x="_runtime")
    np.testing.assert_allclose(got["a"].x, 10 + STEPS * 2.0)  # created 10 s before its first point
    np.testing.assert_allclose(got["b"].x, STEPS * 3.0)
    np.testing.assert_allclose(got["b"].y, STEPS * 2.0)


def test_x_another_key_interpolates_between_its_steps(client) -> None:  # type: ignore[no-untyped-def]
    got = series(client, x="epoch")
    assert list(got) == ["a"]  # run b never logged epoch: nothing to draw it against
    # epoch is 0, 1, 2 at steps 0, 4, 8 (step / 4 between); steps 9 is past its last value: left out
    np.testing.assert_allclose(got["a"].x, STEPS[:9] / 4)
    np.testing.assert_allclose(got["a"].y, STEPS[:9] * 1.0)


def test_x_another_key_grouped(client) -> None:  # type: ignore[no-untyped-def]
    got = series(client, x="epoch", groupby="config.arch")
    assert [json.loads(g) for g in got] == ["x"] and got['"x"'].run_count == 1


def test_x_a_key_no_run_logged_draws_nothing(client) -> None:  # type: ignore[no-untyped-def]
    assert series(client, x="never/logged") == {}


# --- long series: the rollups ----------------------------------------------------------------------

LONG = 8192  # > the rollup job's threshold (4,096 pending points)


def test_long_series_read_through_rollups_unless_stale(server, client) -> None:  # type: ignore[no-untyped-def]
    """Values 0, 0, 0, 1 repeated: every point's mean is 0.25, the rollup's cell extremes (0 and 1 of
    each 16-point cell) average 0.5, so the panel's value tells which source it read."""
    from strata_server.query.history import rollup

    async def setup() -> tuple[int, int]:
        pool = server.deps.pool
        project_id = await fx.create_project(pool, "linex", "long")
        pk = await fx.add_run(pool, project_id, "long", created=T0)
        values = (np.arange(LONG) % 4 == 3).astype(np.float64)
        key_id = await fx.add_series(pool, pk, "loss", np.arange(LONG), values, chunk_points=1024)
        return pk, key_id

    pk, key_id = server.run(setup())
    parent = "entities/linex/projects/long"
    block = rp.Block(panel_grid=rp.PanelGrid(panels=[rp.Panel(line_plot=rp.LinePlot(y=["loss"]))]))
    name = create(client, parent, "long", [block]).name

    def mean_y() -> float:
        got = client.reports.GetPanelData(rs.GetPanelDataRequest(report=name)).data
        assert len(got.series) == 1 and len(got.series[0].x) == 200
        return float(np.mean(got.series[0].y))

    assert mean_y() == pytest.approx(0.25)  # no rollup yet: every point

    async def roll() -> int:
        async with server.deps.pool.acquire() as conn:
            return await rollup.roll_key(conn, pk, key_id)

    assert server.run(roll()) == LONG
    assert mean_y() == pytest.approx(0.5, abs=0.02)  # the rollup's candidates

    async def compact_one_chunk() -> None:  # as ingest's compaction does: same points, a new chunk id
        async with server.deps.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """WITH gone AS (DELETE FROM metric_chunks WHERE id = (SELECT min(id) FROM metric_chunks
                   WHERE run_id = $1 AND key_id = $2) RETURNING *)
                   INSERT INTO metric_chunks (run_id, key_id, first_step, last_step, n, steps, vals, times)
                   SELECT run_id, key_id, first_step, last_step, n, steps, vals, times FROM gone""",
                pk,
                key_id,
            )

    server.run(compact_one_chunk())
    assert mean_y() == pytest.approx(0.25)  # the rollup names a chunk that is gone: raw again


def test_the_points_query_has_no_per_row_subplan_even_as_a_generic_plan(server, client) -> None:  # type: ignore[no-untyped-def]
    """A prepared statement switches to its generic plan after five runs; a subquery the planner
    cannot hash there (NOT IN) was run once per chunk, quadratic in the panel's chunks."""
    from strata_server.reports.panels import history

    def nodes(plan: dict) -> list[dict]:  # type: ignore[type-arg]
        return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]

    async def plan() -> list[dict]:  # type: ignore[type-arg]
        async with server.deps.pool.acquire() as conn, conn.transaction():
            sql = history._SQL.format(times_ro=", ro.times", times_ch=", ch.times")
            await conn.execute(f"PREPARE points(int8[], text[]) AS {sql}")
            await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            got = await conn.fetchval("EXPLAIN (FORMAT JSON) EXECUTE points('{1,2,3}', '{loss}')")
            await conn.execute("DEALLOCATE points")
            return nodes(json.loads(got)[0]["Plan"])

    subplans = [n for n in server.run(plan()) if n.get("Parent Relationship") == "SubPlan"]
    assert all(n.get("Subplan Name", "").startswith("hashed") for n in subplans), subplans
