"""Relative times in filters: `{"created_at": {"$gte": "-7d"}}` is seven days before the query runs,
so a saved "last week" filter stays current without being edited."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from strata.errors import Reason, StrataError
from strata.query.v1 import query_service_pb2 as q
from strata_server.query.search.filters import parse_filter

from tests.fixtures import query as fx

PARENT = "entities/reltime/projects/p"
AGES = {"now": timedelta(minutes=1), "hours": timedelta(hours=5), "days": timedelta(days=3),
        "weeks": timedelta(days=20)}  # fmt: skip


async def _load(pool) -> None:  # type: ignore[no-untyped-def]
    project_id = await fx.create_project(pool, "reltime", "p")
    now = datetime.now(timezone.utc)
    for run_id, age in AGES.items():
        await fx.add_run(pool, project_id, run_id, created=now - age)


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    server.run(_load(server.deps.pool))
    return server.client()


def _ids(client, doc) -> set[str]:  # type: ignore[no-untyped-def]
    resp = client.query.SearchRuns(q.SearchRunsRequest(parent=PARENT, filter_json=json.dumps(doc)))
    return {r.run_id for r in resp.runs}


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"created_at": {"$gte": "-10m"}}, {"now"}),
        ({"created_at": {"$gte": "-600s"}}, {"now"}),
        ({"created_at": {"$gte": "-6h"}}, {"now", "hours"}),
        ({"created_at": {"$gte": "-7d"}}, {"now", "hours", "days"}),
        ({"created_at": {"$gte": "-4w"}}, set(AGES)),
        ({"created_at": {"$lt": "-1d"}}, {"days", "weeks"}),
    ],
)
def test_relative_time_is_relative_to_the_query(client, doc, expected) -> None:  # type: ignore[no-untyped-def]
    assert _ids(client, doc) == expected


@pytest.mark.parametrize("bad", ["-7y", "7d", "-d", "-7 d", "+7d"])
def test_malformed_relative_time_is_invalid_filter(client, bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StrataError) as e:
        _ids(client, {"created_at": {"$gte": bad}})
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.reason == Reason.INVALID_FILTER


def test_relative_time_moves_with_the_clock_but_keeps_its_identity() -> None:
    first = parse_filter('{"created_at": {"$gte": "-1d"}}')
    second = parse_filter('{"created_at": {"$gte": "-1d"}}')
    assert repr(first) == repr(second)  # a page token stays bound to the same query
    value = first.value  # type: ignore[union-attr]
    assert abs((datetime.now(timezone.utc) - timedelta(days=1)) - value) < timedelta(seconds=5)
