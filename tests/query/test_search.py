"""SearchRuns / CountRuns / GroupRuns over a small hand-made project: the semantics of every filter
operator on every kind of key, ordering with stable ties, projection, counting and grouping."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import asyncpg
import grpc
import pytest
from strata.errors import Reason
from strata.query.v1 import query_service_pb2 as q

from tests.fixtures import query as fx
from tests.fixtures.errors import expect

PARENT = "entities/search/projects/p"
T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
NAN = float("nan")

RUNS = [
    # run_id, state, tags, group, job_type, user, config, summary
    ("a", "finished", ["bert", "prod"], "g1", "train", "alice",
     {"lr": 0.001, "opt": "adam", "model": {"layers": 12, "name": "bert-base"}, "sizes": [1, 2, 3], "dotted.key": 1},
     {"val/f1": 0.90, "val/loss": 0.30}),
    ("b", "finished", ["bert"], "g1", "train", "bob",
     {"lr": 0.01, "opt": "sgd", "model": {"layers": 24, "name": "bert-large"}}, {"val/f1": 0.85, "val/loss": 0.35}),
    ("c", "failed", [], "g2", "eval", "alice", {"lr": 0.001, "opt": "adam", "model": {"layers": 6}}, {"val/f1": 0.70}),
    ("d", "running", ["gpt"], "", "train", "carol", {"lr": "auto", "opt": None}, {"val/f1": NAN}),
    ("e", "crashed", ["bert", "ablation"], "g2", "", "bob", {}, {}),
    ("f", "killed", [], "g1", "train", "alice", {"lr": 0.1, "opt": "adamw", "sizes": [4]},
     {"val/f1": 0.90, "val/loss": 0.20, "x.min": 7.0}),
    ("g", "finished", ["prod"], "g3", "train", "dave", {"lr": 0.0001, "opt": "adam"},
     {"val/f1": {"last": 0.5, "override": 0.95},
      "train/loss": {"last": 0.4, "min": 0.1, "max": 2.0, "sum": 5.0, "finite_count": 10, "count": 12}}),
    ("h", "finished", [], "g3", "eval", "dave", {"lr": 0.001, "opt": "adam"},
     {"val/f1": {"last": 0.6, "override": "best"}}),
]  # fmt: skip
ALL = "abcdefgh"


async def add_runs(pool: asyncpg.Pool, entity: str, project: str, t0: datetime) -> int:
    """A project holding the RUNS, created an hour apart from t0; returns its id."""
    project_id = await fx.create_project(pool, entity, project)
    for i, (run_id, state, tags, group, job, user, config, summary) in enumerate(RUNS):
        await fx.add_run(
            pool, project_id, run_id, state=state, tags=tags, group=group, job_type=job, user=user,
            config=config, summary=summary, created=t0 + timedelta(hours=i),
        )  # fmt: skip
    return project_id


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    server.run(add_runs(server.deps.pool, "search", "p", T0))
    return server.client()


def search(client, filter_doc=None, order=(), page_size=100, fields=(), token=""):  # type: ignore[no-untyped-def]
    return client.query.SearchRuns(
        q.SearchRunsRequest(
            parent=PARENT,
            filter_json="" if filter_doc is None else json.dumps(filter_doc),
            order_by=list(order),
            page_size=page_size,
            fields=list(fields),
            page_token=token,
        )
    )


def ids(client, filter_doc=None, order=()) -> str:  # type: ignore[no-untyped-def]
    return "".join(r.run_id for r in search(client, filter_doc, order).runs)


def count(client, filter_doc) -> int:  # type: ignore[no-untyped-def]
    return client.query.CountRuns(q.CountRunsRequest(parent=PARENT, filter_json=json.dumps(filter_doc))).count


CASES = [
    ({}, ALL),
    ({"state": "finished"}, "abgh"),
    ({"state": "RUN_STATE_FINISHED"}, "abgh"),
    ({"state": 2}, "abgh"),
    ({"state": {"$in": ["failed", "crashed"]}}, "ce"),
    ({"state": {"$ne": "finished"}}, "cdef"),
    ({"state": {"$regex": "^(fail|crash)"}}, "ce"),
    ({"tags": "bert"}, "abe"),
    ({"tags": {"$in": ["gpt", "prod"]}}, "adg"),
    ({"tags": {"$nin": ["bert"]}}, "cdfgh"),
    ({"tags": ["bert"]}, "b"),
    ({"tags": {"$exists": False}}, "cfh"),
    ({"tags": {"$regex": "^abl"}}, "e"),
    ({"group": "g1"}, "abf"),
    ({"group": None}, "d"),
    ({"group": {"$exists": False}}, "d"),
    ({"job_type": {"$in": ["eval"]}}, "ch"),
    ({"user": "alice"}, "acf"),
    ({"display_name": {"$regex": "^[a-c]$"}}, "abc"),
    ({"display_name": {"$gte": "f"}}, "fgh"),
    ({"created_at": {"$gte": (T0 + timedelta(hours=5)).isoformat()}}, "fgh"),
    ({"created_at": {"$lt": (T0 + timedelta(hours=2)).timestamp()}}, "ab"),
    ({"config.lr": 0.001}, "ach"),
    ({"config.lr": {"$gt": 0.001}}, "bf"),
    ({"config.lr": {"$lte": 0.001}}, "acgh"),
    ({"config.lr": {"$gt": 0.0005, "$lt": 0.05}}, "abch"),
    ({"config.lr": "auto"}, "d"),
    ({"config.lr": {"$ne": 0.001}}, "bdefg"),
    ({"config.lr": {"$nin": [0.001, 0.01]}}, "defg"),
    ({"config.opt": None}, "de"),
    ({"config.opt": {"$exists": True}}, "abcdfgh"),
    ({"config.model.layers": {"$gte": 12}}, "ab"),
    ({"config.model": {"layers": 6}}, "c"),
    ({"config.model.name": {"$regex": "^bert-"}}, "ab"),
    ({"config.model.name": {"$regex": "LARGE", "$options": "i"}}, "b"),
    ({"config.sizes": 2}, "a"),
    ({"config.sizes": {"$in": [4, 9]}}, "f"),
    ({"config.sizes": [1, 2, 3]}, "a"),
    ({"config.`dotted.key`": 1}, "a"),
    ({"summary.val/f1": {"$gt": 0.8}}, "abfg"),
    ({"summary.val/f1.last": {"$lt": 0.55}}, "g"),
    ({"summary.val/f1": {"$exists": True}}, "abcdfgh"),
    ({"summary.val/f1": None}, "deh"),
    ({"summary.val/f1": {"$in": [0.9, 0.7]}}, "acf"),
    ({"summary.val/f1": {"$not": {"$gt": 0.8}}}, "cdeh"),
    ({"summary.val/loss": {"$lt": 0.32}}, "af"),
    ({"summary_metrics.val/loss": {"$lt": 0.32}}, "af"),
    ({"summary.train/loss.max": {"$gte": 2}}, "g"),
    ({"summary.train/loss.mean": 0.5}, "g"),
    ({"summary.train/loss.min": 0.1}, "g"),
    ({"summary.train/loss.count": 12}, "g"),
    ({"summary.x.min": 7}, ""),
    ({"summary.`x.min`": 7}, "f"),
    ({"$or": [{"state": "failed"}, {"tags": "gpt"}]}, "cd"),
    ({"$and": [{"config.opt": "adam"}, {"summary.val/f1": {"$gte": 0.7}}]}, "acg"),
    ({"$nor": [{"state": "finished"}, {"tags": "bert"}]}, "cdf"),
    ({"config.opt": "adam", "user": "dave"}, "gh"),
]


@pytest.mark.parametrize("filter_doc,expected", CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_filter_matches_exactly_the_expected_runs_and_count_agrees(client, filter_doc, expected) -> None:  # type: ignore[no-untyped-def]
    assert "".join(sorted(ids(client, filter_doc))) == expected
    assert count(client, filter_doc) == len(expected)


ORDERS = [
    ([], "hgfedcba"),  # default: -created_at
    (["created_at"], "abcdefgh"),
    (["-summary.val/f1"], "gfabched"),  # ties (a, f) by run id in the first key's direction; missing last
    (["+summary.val/f1"], "cbafgdeh"),
    (["config.lr"], "dgachbfe"),  # jsonb order: strings before numbers; missing last
    (["group", "-summary.val/f1"], "dafbcegh"),
    (["user", "-created_at"], "fcaebdhg"),
    (["-summary.val/loss", "created_at"], "bafcdegh"),
    (["state", "-display_name"], "dhgbacfe"),  # running, finished, failed, killed, crashed (enum order)
    (["-finished_at"], "hgfedcba"),  # nobody has finished_at: all in the missing tail, by run id
    (["summary.train/loss.mean", "config.model.layers"], "gcabdefh"),
]


@pytest.mark.parametrize("order,expected", ORDERS, ids=[",".join(o[0]) or "default" for o in ORDERS])
def test_order_is_total_and_ties_break_by_run_id(client, order, expected) -> None:  # type: ignore[no-untyped-def]
    assert ids(client, None, order) == expected


@pytest.mark.parametrize("order,expected", ORDERS, ids=[",".join(o[0]) or "default" for o in ORDERS])
def test_paging_two_at_a_time_returns_the_same_sequence(client, order, expected) -> None:  # type: ignore[no-untyped-def]
    seen, token = "", ""
    while True:
        resp = search(client, None, order, page_size=2, token=token)
        seen += "".join(r.run_id for r in resp.runs)
        token = resp.next_page_token
        if not token:
            break
    assert seen == expected


def test_existing_summary_rows_with_missing_values_still_sort_last(client) -> None:  # type: ignore[no-untyped-def]
    assert ids(client, {"summary.val/f1": {"$exists": True}}, ["-summary.val/f1"]) == "gfabchd"


def test_paging_with_a_filter_on_the_order_key_skips_the_missing_tail(client) -> None:  # type: ignore[no-untyped-def]
    filter_doc = {"summary.val/f1": {"$gte": 0.7}}
    first = search(client, filter_doc, ["-summary.val/f1"], page_size=3)
    rest = search(client, filter_doc, ["-summary.val/f1"], page_size=3, token=first.next_page_token)
    assert [r.run_id for r in first.runs] + [r.run_id for r in rest.runs] == list("gfabc")
    assert rest.next_page_token == ""


def test_projection_returns_only_the_requested_config_paths_and_summaries(client) -> None:  # type: ignore[no-untyped-def]
    run = search(client, {"display_name": "a"}, fields=["config.model.name", "summary.val/f1"]).runs[0]
    assert json.loads(run.config_json) == {"model": {"name": "bert-base"}}
    assert [s.key for s in run.summary] == ["val/f1"]
    bare = search(client, {"display_name": "a"}, fields=["state"]).runs[0]
    assert bare.config_json == "" and len(bare.summary) == 0 and bare.run_id == "a"
    full = search(client, {"display_name": "a"}).runs[0]
    assert json.loads(full.config_json)["dotted.key"] == 1 and len(full.summary) == 2


def test_summary_messages_carry_override_and_statistics(client) -> None:  # type: ignore[no-untyped-def]
    run = search(client, {"display_name": "g"}).runs[0]
    loss = next(s for s in run.summary if s.key == "train/loss")
    f1 = next(s for s in run.summary if s.key == "val/f1")
    assert (loss.min, loss.max, loss.mean, loss.count) == (0.1, 2.0, 0.5, 12)
    assert json.loads(f1.override_json) == 0.95 and f1.last == 0.5


def group(client, by, metric, filter_doc=None):  # type: ignore[no-untyped-def]
    resp = client.query.GroupRuns(
        q.GroupRunsRequest(
            parent=PARENT,
            group_by=by,
            metric=metric,
            filter_json=json.dumps(filter_doc) if filter_doc else "",
        )
    )
    return {g.value_json: g for g in resp.groups}, [g.value_json for g in resp.groups]


def test_group_by_config_key_aggregates_the_metric_per_group(client) -> None:  # type: ignore[no-untyped-def]
    groups, order = group(client, "config.opt", "summary.val/f1")
    assert order == ['"adam"', '"adamw"', '"sgd"', "null"]
    adam = groups['"adam"']
    assert (adam.run_count, adam.metric_count) == (4, 3)  # h's override is not a number
    assert adam.mean == pytest.approx((0.9 + 0.7 + 0.95) / 3) and (adam.min, adam.max) == (0.7, 0.95)
    assert groups["null"].run_count == 2 and math.isnan(groups["null"].mean)


def test_group_by_tags_puts_a_run_in_each_of_its_tags_and_filters_apply(client) -> None:  # type: ignore[no-untyped-def]
    groups, _ = group(client, "tags", "summary.val/loss.min", {"state": "finished"})
    assert {k: g.run_count for k, g in groups.items()} == {'"bert"': 2, '"prod"': 2, "null": 1}
    states, _ = group(client, "state", "summary.val/f1")
    assert states['"finished"'].run_count == 4 and states['"crashed"'].metric_count == 0


BAD_FILTERS = [
    ("{not json", Reason.INVALID_JSON),
    ("[1, 2]", Reason.INVALID_FILTER),
    ('{"config.lr": {"$foo": 1}}', Reason.INVALID_FILTER),
    ('{"$where": "1"}', Reason.INVALID_FILTER),
    ('{"config.lr": {"$in": 5}}', Reason.INVALID_FILTER),
    ('{"display_name": {"$regex": "("}}', Reason.INVALID_FILTER),
    ('{"display_name": {"$regex": 5}}', Reason.INVALID_FILTER),
    ('{"display_name": {"$regex": "a", "$options": "x"}}', Reason.INVALID_FILTER),
    ('{"bogus_key": 1}', Reason.INVALID_FILTER),
    ('{"config.": 1}', Reason.INVALID_FILTER),
    ('{"summary": 1}', Reason.INVALID_FILTER),
    ('{"config.`open": 1}', Reason.INVALID_FILTER),
    ('{"summary.val/f1": "high"}', Reason.INVALID_FILTER),
    ('{"summary.val/f1": NaN}', Reason.INVALID_FILTER),
    ('{"summary.bad*key": 1}', Reason.INVALID_FILTER),
    ('{"state": "sleeping"}', Reason.INVALID_FILTER),
    ('{"state": {"$gt": 1}}', Reason.INVALID_FILTER),
    ('{"created_at": {"$gt": "yesterday"}}', Reason.INVALID_FILTER),
    ('{"tags": {"$gt": "a"}}', Reason.INVALID_FILTER),
    ('{"$and": []}', Reason.INVALID_FILTER),
    ('{"config.lr": {"$exists": "yes"}}', Reason.INVALID_FILTER),
    ('{"config.lr": {"$not": 5}}', Reason.INVALID_FILTER),
    ('{"config.lr": {"$gt": {"a": 1}}}', Reason.INVALID_FILTER),
    ('{"config.x": "nul\\u0000"}', Reason.INVALID_FILTER),
    ('{"config.x": "\\ud800"}', Reason.INVALID_FILTER),
    ('{"config.x": Infinity}', Reason.INVALID_FILTER),
    (json.dumps({"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"$or": [
        {"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"$or": [{"state": 2}]}]}]}]}]}]}]}]}]}]}]}]}]}]}]}]}]}),
     Reason.INVALID_FILTER),
]  # fmt: skip


@pytest.mark.parametrize("text,reason", BAD_FILTERS, ids=[b[0][:40] for b in BAD_FILTERS])
def test_bad_filters_are_invalid_argument_with_a_stable_reason(client, text, reason) -> None:  # type: ignore[no-untyped-def]
    call = lambda: client.query.SearchRuns(q.SearchRunsRequest(parent=PARENT, filter_json=text))  # noqa: E731
    expect(call, grpc.StatusCode.INVALID_ARGUMENT, reason, "filter_json")
    count_call = lambda: client.query.CountRuns(q.CountRunsRequest(parent=PARENT, filter_json=text))  # noqa: E731
    expect(count_call, grpc.StatusCode.INVALID_ARGUMENT, reason, "filter_json")


@pytest.mark.parametrize(
    "order", [["bogus"], ["-tags"], ["summary.val/f1", "-summary.val/f1"], ["config..x"], ["x"] * 9]
)
def test_bad_order_keys_are_invalid_order(client, order) -> None:  # type: ignore[no-untyped-def]
    expect(
        lambda: search(client, None, order),
        grpc.StatusCode.INVALID_ARGUMENT,
        Reason.INVALID_ORDER,
        "order_by",
    )


def test_bad_fields_page_sizes_names_and_tokens(client) -> None:  # type: ignore[no-untyped-def]
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    expect(lambda: search(client, fields=["nope"]), invalid, Reason.INVALID_ORDER, "fields")
    # above the maximum (1000) is coerced to it (AIP-158), not refused; negative is refused
    assert len(search(client, page_size=1001).runs) == len(RUNS)
    expect(lambda: search(client, page_size=-1), invalid, Reason.OUT_OF_RANGE, "page_size")
    expect(lambda: search(client, token="!!garbage"), invalid, Reason.INVALID_PAGE_TOKEN, "page_token")
    token = search(client, {"state": "finished"}, page_size=1).next_page_token
    other = lambda: search(client, {"state": "failed"}, page_size=1, token=token)  # noqa: E731
    expect(other, invalid, Reason.INVALID_PAGE_TOKEN, "page_token")
    reordered = lambda: search(client, {"state": "finished"}, ["created_at"], page_size=1, token=token)  # noqa: E731
    expect(reordered, invalid, Reason.INVALID_PAGE_TOKEN, "page_token")
    bad_parent = q.SearchRunsRequest(parent="entities/x")
    expect(lambda: client.query.SearchRuns(bad_parent), invalid, Reason.INVALID_NAME, "parent")
    missing = q.SearchRunsRequest(parent="entities/search/projects/nope")
    expect(lambda: client.query.SearchRuns(missing), grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND)


def test_group_runs_bad_input(client) -> None:  # type: ignore[no-untyped-def]
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    expect(lambda: group(client, "", "summary.val/f1"), invalid, Reason.FIELD_REQUIRED, "group_by")
    expect(lambda: group(client, "config.opt", "config.lr"), invalid, Reason.INVALID_ORDER, "metric")
    expect(
        lambda: group(client, "summary.val/f1", "summary.val/f1"), invalid, Reason.INVALID_ORDER, "group_by"
    )
