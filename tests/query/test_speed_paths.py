"""The fast paths of the runs table: CountRuns with allow_estimate (exact up to 1000 matches, an
estimate flagged `estimated` above, exact by default), config equality answered through the config
GIN index (the containment prefilter), tags equality through the tags GIN index, and results that
the prefilter never changes."""

from __future__ import annotations

import json

import pytest
from strata.query.v1 import query_service_pb2 as q
from strata_server.query.search import estimate
from strata_server.query.search.containment import containment_docs
from strata_server.query.search.filters import parse_filter
from strata_server.query.search.sqlgen import Sql, where

from tests.fixtures import query as fx

PARENT = "entities/speed/projects/p"
N = 3000


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    async def load() -> int:
        pid = await fx.create_project(server.deps.pool, "speed", "p")
        await fx.bulk_runs(server.deps.pool, pid, N, seed=3)
        await fx.add_run(server.deps.pool, pid, "listy", config={"seed": [4242, 1], "layers": [{"n": 5}]})
        return pid

    server.run(load())
    return server.client()


def count(client, doc, allow_estimate=False):  # type: ignore[no-untyped-def]
    req = q.CountRunsRequest(parent=PARENT, filter_json=json.dumps(doc), allow_estimate=allow_estimate)
    return client.query.CountRuns(req, timeout=30)


def test_count_is_exact_by_default(client) -> None:  # type: ignore[no-untyped-def]
    resp = count(client, {"state": "finished"})
    assert not resp.estimated
    assert resp.count > 1000


def test_estimate_above_a_thousand_is_flagged_and_close(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(estimate, "SAMPLE_RUNS", 1000)  # a sample smaller than the project
    doc = {"config.optimizer": {"$in": ["adam", "sgd"]}, "summary.val/loss": {"$lt": 0.8}}
    exact = count(client, doc).count
    guess = count(client, doc, allow_estimate=True)
    assert exact > 1000
    assert guess.estimated
    assert abs(guess.count - exact) <= 0.25 * exact
    assert guess.count == count(client, doc, allow_estimate=True).count  # same data, same estimate


def test_a_project_that_is_a_small_part_of_the_table_is_sampled_through_its_index(
    client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(estimate, "SAMPLE_RUNS", 1000)
    monkeypatch.setattr(estimate, "INDEX_SAMPLE_FACTOR", 0)  # never table pages
    assert estimate.plan_sample(N, N).percent is None
    doc = {"config.optimizer": {"$in": ["adam", "sgd"]}, "summary.val/loss": {"$lt": 0.8}}
    exact = count(client, doc).count
    guess = count(client, doc, allow_estimate=True)
    assert guess.estimated and abs(guess.count - exact) <= 0.25 * exact


def test_sample_plans() -> None:
    assert estimate.plan_sample(100_000, 100_000).percent == 5.0  # the whole table is the project
    assert estimate.plan_sample(100_000, 1_000_000).percent == 5.0  # a tenth of it: still pages
    assert estimate.plan_sample(10_000, 10_000_000).percent is None  # a sliver: its index
    assert estimate.plan_sample(3000, 3000).percent == 100.0


def test_a_selective_filter_is_counted_exactly(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(estimate, "SAMPLE_RUNS", 500)  # too few matches in the sample: a capped count
    doc = {"config.batch_size": 16, "config.scheduler": "cosine", "config.optimizer": "sgd"}
    exact = count(client, doc).count
    resp = count(client, doc, allow_estimate=True)
    assert 0 < exact <= 1000
    assert (resp.count, resp.estimated) == (exact, False)
    assert (
        count(client, {"config.seed": -1}, True).count,
        count(client, {"config.seed": -1}, True).estimated,
    ) == (0, False)


def test_a_project_smaller_than_the_sample_is_counted_exactly(client) -> None:  # type: ignore[no-untyped-def]
    resp = count(client, {"state": "finished"}, allow_estimate=True)
    assert (resp.count, resp.estimated) == (count(client, {"state": "finished"}).count, False)
    assert count(client, {}, True).count == N + 1


def test_config_equality_matches_scalars_and_lists_through_the_prefilter(client) -> None:  # type: ignore[no-untyped-def]
    assert count(client, {"config.seed": 4242}).count >= 1  # the list [4242, 1] contains it
    assert count(client, {"config.layers.0.n": 5}).count == 1  # a list index: no prefilter, still found
    assert (
        count(client, {"config.seed": {"$ne": 4242}}).count
        == N + 1 - count(client, {"config.seed": 4242}).count
    )


def test_containment_docs() -> None:
    assert containment_docs(("model", "name"), ["bert"]) == [
        '{"model": {"name": "bert"}}',
        '{"model": {"name": ["bert"]}}',
    ]
    assert containment_docs(("layers", "0", "n"), [5]) == []


def _plan(server, doc: dict) -> str:  # type: ignore[no-untyped-def]
    sql = Sql()
    cond = where(sql, parse_filter(json.dumps(doc)))

    async def explain() -> str:
        async with server.deps.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            rows = await conn.fetch(f"EXPLAIN SELECT r.id FROM runs r WHERE {cond}", *sql.params)
            return "\n".join(r[0] for r in rows)

    return server.run(explain())


@pytest.mark.parametrize(
    ("doc", "index"),
    [({"config.seed": 4242}, "runs_config_path"), ({"config.model.name": {"$in": ["x", "y"]}}, "runs_config_path"),
     ({"tags": "t3"}, "runs_tags")],
)  # fmt: skip
def test_equality_filters_can_use_their_gin_index(server, client, doc, index) -> None:  # type: ignore[no-untyped-def]
    assert index in _plan(server, doc)
