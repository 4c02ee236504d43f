"""Keyset pagination under concurrent inserts, the ordered-walk fallback, and a hypothesis fuzz test
that throws random filter documents at the service (answers are results or INVALID_ARGUMENT)."""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strata.client import NO_RETRY
from strata.errors import StrataError
from strata.query.v1 import query_service_pb2 as q
from strata_server.query.search import store

from tests.fixtures import query as fx
from tests.query.test_search import RUNS, add_runs

PARENT = "entities/paging/projects/p"
SMALL = "entities/paging/projects/small"
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def env(server):  # type: ignore[no-untyped-def]
    rng = random.Random(7)

    async def load() -> tuple[int, int]:
        pool = server.deps.pool
        big = await fx.create_project(pool, "paging", "p")
        for i in range(60):
            f1 = round(rng.random(), 2)  # rounded: many ties
            await fx.add_run(
                pool, big, f"r{i:03d}", config={"lr": rng.choice([0.1, 0.01, "auto"])},
                summary={"val/f1": f1} if i % 5 else {}, created=T0 + timedelta(minutes=i % 17),
            )  # fmt: skip
        small = await add_runs(pool, "paging", "small", T0)
        return big, small

    big, _ = server.run(load())
    return server, big


def page_all(client, parent: str, order: list[str], size: int, filter_doc=None, between=None) -> list[str]:  # type: ignore[no-untyped-def]
    out, token = [], ""
    while True:
        resp = client.query.SearchRuns(
            q.SearchRunsRequest(
                parent=parent, order_by=order, page_size=size, page_token=token,
                filter_json=json.dumps(filter_doc) if filter_doc else "",
            )
        )  # fmt: skip
        out += [r.run_id for r in resp.runs]
        token = resp.next_page_token
        if between:
            between()
        if not token:
            return out


ORDERS = [["-summary.val/f1"], ["summary.val/f1", "-created_at"], ["-created_at"], ["config.lr", "run_id"]]


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ",".join(o))
def test_paging_while_runs_are_inserted_has_no_duplicates_and_no_skips(env, order) -> None:  # type: ignore[no-untyped-def]
    server, project_id = env
    client = server.client()
    before = set(page_all(client, PARENT, order, 1000))
    stop = threading.Event()
    rng = random.Random(len(order[0]))

    def writer() -> None:
        i = 0
        while not stop.is_set():
            run_id = f"new-{order[0]}-{i}"
            summary = {"val/f1": round(rng.random(), 2)} if i % 3 else {}
            created = T0 + timedelta(minutes=rng.randrange(-5, 25))
            server.run(fx.add_run(server.deps.pool, project_id, run_id, summary=summary, created=created))
            i += 1

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        seen = page_all(client, PARENT, order, 7, between=lambda: None)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(seen) == len(set(seen)), "a run was returned twice"
    assert before <= set(seen), f"runs skipped: {sorted(before - set(seen))}"


def test_pages_are_sorted_across_page_boundaries(env) -> None:  # type: ignore[no-untyped-def]
    server, _ = env
    client = server.client()
    runs, token, values = [], "", []
    while True:
        resp = client.query.SearchRuns(
            q.SearchRunsRequest(parent=PARENT, order_by=["-summary.val/f1"], page_size=4, page_token=token)
        )
        runs += list(resp.runs)
        token = resp.next_page_token
        if not token:
            break
    for r in runs:
        f1 = [s.last for s in r.summary if s.key == "val/f1"]
        values.append(f1[0] if f1 else float("-inf"))
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(
    "filter_doc",
    [
        None,
        {"config.lr": "auto"},
        {"summary.val/f1": {"$gt": 0.5}},
        {"config.lr": {"$in": [0.1]}},
        {"config.lr": 0.1, "summary.val/f1": {"$lt": 0.5}},
        {
            "$or": [{"config.lr": 0.01}, {"summary.val/f1": {"$gt": 0.9}}],
            "created_at": {"$gte": "2024-01-01T00:05:00Z"},
        },
    ],
)
@pytest.mark.parametrize("order", [["-summary.val/f1"], ["summary.val/f1"], ["-created_at"], ["created_at"]])
def test_ordered_walk_with_a_tiny_budget_falls_back_to_the_same_answer(
    env, monkeypatch, order, filter_doc
) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client()
    expected = page_all(client, PARENT, order, 1000, filter_doc)
    monkeypatch.setattr(store, "WALK_BUDGET", 3)
    assert page_all(client, PARENT, order, 5, filter_doc) == expected


# --- fuzz -------------------------------------------------------------------------------------------

KEYS = [
    "state", "tags", "group", "job_type", "user", "display_name", "created_at", "heartbeat_at", "finished_at",
    "run_id", "config.lr", "config.opt", "config.model.layers", "config.sizes", "config.`dotted.key`",
    "summary.val/f1", "summary.val/f1.max", "summary.train/loss.mean", "summary.`x.min`", "summary.val/loss.count",
    "bogus", "config.", "summary.a*b", "config.a.`b", "$not", "$in", "", "config.a..b", "summary.`x`.y",
]  # fmt: skip
OPS = [
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$regex",
    "$options",
    "$not",
    "$bogus",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.text(alphabet="()[]{}*+?.|^$\\ab", max_size=6),
    st.sampled_from(
        ["finished", "RUN_STATE_FAILED", "2024-01-01T00:00:00", "bert", "adam", "\ud800", "a\x00", "i"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=8,
)
FIELD = st.one_of(VALUES, st.dictionaries(st.sampled_from(OPS), VALUES, min_size=1, max_size=3))
DOCS = st.recursive(
    st.dictionaries(st.sampled_from(KEYS), FIELD, max_size=3),
    lambda d: (
        st.dictionaries(
            st.sampled_from(["$and", "$or", "$nor"]), st.lists(d, max_size=3), min_size=1, max_size=2
        )
        | st.dictionaries(st.sampled_from(KEYS), FIELD, max_size=2)
    ),
    max_leaves=6,
)
NUMBERS = st.one_of(
    st.integers(-100, 100), st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.001, 0.9, 12])
)
TEXTS = st.one_of(st.text(max_size=5), st.sampled_from(["adam", "bert", "g1", "alice", "a", "finished"]))
TYPED = {
    "config": (["config.lr", "config.opt", "config.model.layers", "config.sizes", "config.model"],
               st.one_of(NUMBERS, TEXTS, st.none(), st.lists(NUMBERS, max_size=3))),
    "summary": (["summary.val/f1", "summary.val/f1.max", "summary.train/loss.mean", "summary.`x.min`"],
                st.one_of(NUMBERS, st.none())),
    "state": (["state"], st.one_of(st.sampled_from(["finished", "failed", "running", "killed"]), st.integers(1, 5))),
    "tags": (["tags"], st.one_of(TEXTS, st.lists(TEXTS, max_size=2))),
    "text": (["group", "job_type", "user", "display_name", "run_id"], st.one_of(TEXTS, st.none())),
    "time": (["created_at", "finished_at"],
             st.one_of(st.floats(1.6e9, 1.8e9), st.sampled_from(["2024-01-01T03:00:00+00:00", "2024-01-01"]))),
}  # fmt: skip
REGEXES = st.one_of(
    st.text(alphabet="()[]*+?.|^$\\ab", min_size=1, max_size=5), st.sampled_from(["^a", "b$", "er"])
)


@st.composite
def typed_leaf(draw):  # type: ignore[no-untyped-def]
    keys, values = TYPED[draw(st.sampled_from(sorted(TYPED)))]
    key = draw(st.sampled_from(keys))
    op = draw(
        st.sampled_from(
            ["=", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$regex", "$not"]
        )
    )
    if op == "=":
        return {key: draw(values)}
    if op in ("$in", "$nin"):
        return {key: {op: draw(st.lists(values, max_size=3))}}
    if op == "$exists":
        return {key: {op: draw(st.booleans())}}
    if op == "$regex":
        return {key: {op: draw(REGEXES), "$options": draw(st.sampled_from(["", "i"]))}}
    if op == "$not":
        return {key: {"$not": {draw(st.sampled_from(["$gt", "$lt", "$eq"])): draw(values)}}}
    return {key: {op: draw(values)}}


TYPED_DOCS = st.recursive(
    typed_leaf(),
    lambda d: st.builds(
        lambda op, docs: {op: docs},
        st.sampled_from(["$and", "$or", "$nor"]),
        st.lists(d, min_size=1, max_size=3),
    ),
    max_leaves=5,
)
FUZZ_ORDERS = [[], ["-summary.val/f1"], ["config.lr", "-created_at"], ["summary.val/f1.min"], ["group"]]


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(doc=st.one_of(DOCS, TYPED_DOCS), order=st.sampled_from(FUZZ_ORDERS), budget=st.sampled_from([1, 2000]))
def test_fuzzed_filters_answer_results_or_invalid_argument_never_internal(env, doc, order, budget) -> None:  # type: ignore[no-untyped-def]
    client = env[0].client(retry=NO_RETRY)
    text = json.dumps(doc)
    store.WALK_BUDGET, saved = budget, store.WALK_BUDGET  # 1: every search takes the fallback path
    try:
        _check_fuzzed(client, doc, text, order)
    finally:
        store.WALK_BUDGET = saved


def _check_fuzzed(client, doc, text: str, order: list[str]) -> None:  # type: ignore[no-untyped-def]
    try:
        resp = client.query.SearchRuns(
            q.SearchRunsRequest(parent=SMALL, filter_json=text, order_by=order, page_size=3), timeout=30
        )
        matched = client.query.CountRuns(q.CountRunsRequest(parent=SMALL, filter_json=text)).count
    except StrataError as e:
        assert e.code == grpc.StatusCode.INVALID_ARGUMENT, f"{e} for {text}"
        event(f"invalid: {e.reason}")
        return
    event("results")
    assert len(resp.runs) == min(3, matched)
    negated = json.dumps({"$nor": [doc]}) if doc else json.dumps({"$nor": [{}]})
    rest = client.query.CountRuns(q.CountRunsRequest(parent=SMALL, filter_json=negated)).count
    assert matched + rest == len(RUNS), f"a filter and its $nor must partition the runs: {text}"
