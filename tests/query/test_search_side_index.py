"""The side indexes of the runs table (numeric config ranges, $regex trigrams): the literal analysis of
regexes, the tables kept equal to what the runs hold through inserts, updates and deletes, every
candidate set a superset of its condition's matches, and searches and counts that give the same
answer with and without the index path, over randomized data (unicode, case-insensitive regexes,
config changed after creation, deleted runs)."""

from __future__ import annotations

import json
import random
import string
from typing import Any

import pytest
from strata.query.v1 import query_service_pb2 as q
from strata_server.query.search import candidates as cand
from strata_server.query.search import estimate, store
from strata_server.query.search.attrs import parse_attr, parse_order
from strata_server.query.search.containment import containment_docs
from strata_server.query.search.cursor import Position
from strata_server.query.search.filters import parse_filter
from strata_server.query.search.regex_literals import required_literals

from tests.fixtures import query as fx

PARENT = "entities/side/projects/p"
SIDE_TABLES = ("run_config_numbers", "run_text_trigrams")
WORDS = [
    "adam",
    "sgd",
    "roberta",
    "bert-base",
    "Größe",
    "naïve",
    "日本語モデル",
    "lr=0.01",
    "x.y(z)",
    "AbCdEf",
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("^run 12345$", [["run 12345"]]),
        ("adam(w)?|sgd_mom", [["adam"], ["sgd_mom"]]),
        ("lr=0\\.01", [["lr=0.01"]]),
        ("abcd*efg", [["abc", "efg"]]),
        ("abc+def", [["abc", "def"]]),
        ("abc?def", [["def"]]),
        ("abcd{2,3}xyz", [["abc", "xyz"]]),
        ("[abc]def[^x]ghi", [["def", "ghi"]]),
        ("\\x41bcd\\dxyz", [["xyz"]]),  # \\x takes every hex digit: "bcd" is part of it
        ("\\x41ghi", [["ghi"]]),
        ("\\u00e9abc", [["abc"]]),
        ("***=a.b*c", [["a.b*c"]]),
        ("日本語", [["日本語"]]),
        ("ab*cd", None),  # only "a" and "cd": too short
        ("abc|.*", None),  # one alternative needs nothing
        ("(?i)abc", None),  # embedded options: not analysed
        ("[[:alpha:]]+", None),
        ("(abc)", None),
    ],
)
def test_required_literals(pattern: str, expected: list[list[str]] | None) -> None:
    assert required_literals(pattern) == expected


def _config(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "lr": rng.choice([rng.uniform(-1, 1), 10 ** rng.uniform(-8, 2), 0, 1e300, -5e-310, 2**70]),
        "model": {"name": rng.choice(WORDS) + str(i % 7), "depth": rng.randint(0, 9)},
        "s": rng.choice(WORDS) + " " + rng.choice(WORDS),
        "n": rng.choice([str(rng.randint(0, 99)), rng.randint(0, 99), True, None]),
        "list": [rng.randint(0, 5), rng.choice(WORDS)],
        **({"long": "q" * 2100 + rng.choice(WORDS)} if i % 17 == 0 else {}),
    }


@pytest.fixture(scope="module")
def project(server):  # type: ignore[no-untyped-def]
    rng = random.Random(11)

    async def load() -> int:
        pid = await fx.create_project(server.deps.pool, "side", "p")
        other = await fx.create_project(server.deps.pool, "side", "other")
        for i in range(240):
            await fx.add_run(
                server.deps.pool,
                pid if i % 8 else other,
                f"r{i}",
                config=_config(rng, i),
                display_name=f"{rng.choice(WORDS)} run {i}",
                tags=[rng.choice(WORDS)],
                job_type=rng.choice(["train", "eval", "ÉVAL"]),
                summary={"val/f1": rng.random()} if i % 3 else None,
            )
        async with server.deps.pool.acquire() as conn:
            # config changed after creation (and a number beyond float8), names changed, runs deleted
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM runs WHERE project_id = $1", pid)]
            for k, run_pk in enumerate(ids[::5]):
                raw = json.dumps(_config(rng, k + 1000))
                raw = raw[:-1] + ', "huge": 1e400}' if k % 3 == 0 else raw
                await conn.execute(
                    "UPDATE runs SET config = $2::jsonb, display_name = $3 WHERE id = $1",
                    run_pk,
                    raw,
                    f"renamed {rng.choice(WORDS)} {k}",
                )
            await conn.execute("DELETE FROM runs WHERE id = ANY($1)", ids[1::9])
        return pid

    return server.run(load())


def _filters(rng: random.Random, values: list[Any], texts: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _ in range(60):
        path = rng.choice(["config.lr", "config.model.depth", "config.n", "config.huge", "config.lr"])
        bound = rng.choice(values)
        ops = rng.sample(["$gt", "$gte", "$lt", "$lte"], rng.randint(1, 2))
        out.append({path: {op: bound for op in ops}})
    for _ in range(60):
        text = rng.choice(texts)
        start = rng.randrange(max(1, len(text) - 3))
        piece = text[start : start + rng.randint(3, 6)]
        lit = "".join(c if c.isalnum() or c == " " else "\\" + c for c in piece)
        pattern = rng.choice([lit, "^.*" + lit, lit + "|zzzq", lit + "s?", "(a|b)?" + lit + "[0-9]*"])
        key = rng.choice(["display_name", "config.s", "config.model.name", "tags", "job_type", "config.long"])
        doc: dict[str, Any] = {"$regex": pattern}
        if rng.random() < 0.4:
            doc = {
                "$regex": "".join(c.swapcase() if rng.random() < 0.5 else c for c in pattern),
                "$options": "i",
            }
        out.append({key: doc} if rng.random() < 0.7 else {key: doc, "config.model.depth": {"$gte": 3}})
    return out


def _sample_data(server, pid: int) -> tuple[list[Any], list[str]]:  # type: ignore[no-untyped-def]
    async def read() -> tuple[list[Any], list[str]]:
        async with server.deps.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT display_name, config::text AS c, tags, job_type FROM runs WHERE project_id = $1", pid
            )
        values: list[Any] = [0, -1, 1e-9, 0.5, 3, 1e300, -5e-310]
        texts: list[str] = []
        for r in rows:
            c = json.loads(r["c"])
            if "model" not in c:
                continue  # a run added by a later test
            numbers = [v for v in (c.get("lr"), c["model"]["depth"]) if isinstance(v, (int, float))]
            values += [v if abs(v) < 2**63 else float(v) for v in numbers]  # filters take int64
            texts += [r["display_name"], c["s"], c["model"]["name"], *r["tags"], r["job_type"]]
        return values, texts

    return server.run(read())


async def _ids(conn, pid: int, node, candidates: list[int] | None) -> list[int]:  # type: ignore[no-untyped-def]
    spec = store.SearchSpec(pid, node, parse_order(["display_name"]), None, 1000, candidates)
    return [pk for pk, _ in await store.search_ids(conn, spec, 30)]


def test_every_filter_gives_the_same_runs_with_and_without_the_index_path(
    server, project, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    async def no_index_path(*args: object) -> None:
        return None

    monkeypatch.setattr(store, "candidate_ids", no_index_path)  # searches below scan unless given candidates
    rng = random.Random(5)
    values, texts = _sample_data(server, project)
    docs = _filters(rng, values, texts)

    by, metric = parse_attr("config.model.depth"), parse_attr("summary.val/f1")

    async def check() -> tuple[int, int]:
        used = matched = 0
        async with server.deps.pool.acquire() as conn, conn.transaction(readonly=True):
            await store.begin_read(conn)
            for doc in docs:
                node = parse_filter(json.dumps(doc))
                truth = await _ids(conn, project, node, None)
                matched += bool(truth)
                for probe in cand.probes(project, node, await cand.case_insensitive_safe(conn, 30)):
                    used += 1
                    ids = [r[0] for r in await conn.fetch(probe.query, *probe.params)]
                    assert set(truth) <= set(ids), doc  # a superset of the matches
                    assert await _ids(conn, project, node, ids) == truth, doc
                    exact = await store.count_runs(conn, project, node, 30)
                    assert await store.count_runs(conn, project, node, 30, candidates=ids) == exact, doc
                    groups = await store.group_runs(conn, project, node, by, metric, 30)
                    assert await store.group_runs(conn, project, node, by, metric, 30, ids) == groups, doc
        return used, matched

    used, matched = server.run(check())
    assert used >= 100  # nearly every generated filter had an index path
    assert matched >= 40  # and many match some runs: the comparison is not between empty results


def _recomputed(conn, table: str):  # type: ignore[no-untyped-def]
    if table == "run_config_numbers":
        return conn.fetch(
            """SELECT r.id, strata_config_key(r.project_id, l.path) AS key, strata_config_number(l.value) AS num
               FROM runs r, strata_config_leaves(r.config) l WHERE jsonb_typeof(l.value) = 'number'
               EXCEPT ALL SELECT run_id, key, num FROM run_config_numbers"""
        )
    return conn.fetch(  # the codes a regex search asks for (strata_trigram_codes), as sets
        """SELECT r.id, ARRAY(
                   SELECT DISTINCT c
                   FROM strata_run_texts(r.display_name, r.run_id, r.job_type, r.run_group, r.author_name,
                                         r.tags, r.config) x,
                        unnest(strata_trigram_codes(r.project_id, x.field, x.value)) c ORDER BY c) AS codes
           FROM runs r
           EXCEPT ALL SELECT run_id, ARRAY(SELECT DISTINCT c FROM unnest(codes) c ORDER BY c) FROM run_text_trigrams"""
    )


def test_side_tables_equal_what_the_runs_hold(server, project) -> None:  # type: ignore[no-untyped-def]
    async def check() -> None:
        async with server.deps.pool.acquire() as conn:
            for table in ("run_config_numbers", "run_text_trigrams"):
                assert await _recomputed(conn, table) == []  # nothing missing
                stale = await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE run_id NOT IN (SELECT id FROM runs)"
                )
                assert stale == 0  # nothing left by deleted runs
            counts = await conn.fetchrow(
                """SELECT (SELECT count(*) FROM run_text_trigrams) AS t, (SELECT count(*) FROM runs) AS r"""
            )
            assert counts["t"] == counts["r"]

    server.run(check())


def test_a_heartbeat_update_does_not_touch_the_side_tables(server, project) -> None:  # type: ignore[no-untyped-def]
    async def check() -> tuple[int, int]:
        async with server.deps.pool.acquire() as conn:
            run_pk = await conn.fetchval("SELECT min(id) FROM runs WHERE project_id = $1", project)
            before = await conn.fetchval(
                "SELECT xmin::text::bigint FROM run_text_trigrams WHERE run_id = $1", run_pk
            )
            await conn.execute(
                "UPDATE runs SET heartbeat_time = now(), point_count = point_count + 1 WHERE id = $1", run_pk
            )
            await conn.execute("UPDATE runs SET config = config WHERE id = $1", run_pk)  # unchanged value
            after = await conn.fetchval(
                "SELECT xmin::text::bigint FROM run_text_trigrams WHERE run_id = $1", run_pk
            )
            return before, after

    before, after = server.run(check())
    assert before == after


def test_selective_filters_read_only_candidates(server, project) -> None:  # type: ignore[no-untyped-def]
    async def sizes() -> list[int | None]:
        async with server.deps.pool.acquire() as conn:
            out = []
            for doc in (
                {"display_name": {"$regex": "run 12$"}},
                {"config.lr": {"$gt": 1e299}},
                {"config.s": {"$regex": "日本語モ", "$options": ""}},
                {"job_type": {"$regex": "ÉVAL"}},
            ):
                found = await cand.candidate_ids(conn, project, parse_filter(json.dumps(doc)), 30)
                out.append(None if found is None else len(found))
            return out

    for size in server.run(sizes()):
        assert size is not None and size < 100


def test_no_index_path_for_what_it_cannot_answer() -> None:
    for doc in (
        {"display_name": {"$regex": "[0-9]+"}},  # no literal
        {"config.list.0": {"$gt": 1}},  # a list index
        {"config.list.+1": {"$gt": 1}},  # also a list index for `#>` (strtol)
        {"config.a.b.c.d.e.f.g": {"$gt": 1}},  # deeper than the indexed 6 keys
        {"$or": [{"config.lr": {"$gt": 1}}, {"state": "finished"}]},  # not a top-level condition
        {"config.lr": {"$gt": True}},  # not a number
        {"display_name": {"$regex": "日本語", "$options": "i"}},  # case-insensitive beyond ASCII
    ):
        assert cand.probes(1, parse_filter(json.dumps(doc)), True) == []


def test_a_signed_or_spaced_list_index_gets_no_containment_prefilter() -> None:
    assert containment_docs(("list", "+1"), [1]) == []
    assert containment_docs(("list", " 1"), [1]) == []
    assert containment_docs(("list", "x1"), [1]) != []


def test_search_and_count_over_grpc_use_the_index_path(server, project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = server.client()
    monkeypatch.setattr(cand, "CAP", 10)
    for doc in ({"display_name": {"$regex": "run 1[0-9]$"}}, {"config.model.depth": {"$gte": 9}}):
        text = json.dumps(doc)
        resp = client.query.SearchRuns(q.SearchRunsRequest(parent=PARENT, filter_json=text, page_size=5))
        names = [r.display_name for r in resp.runs]
        count = client.query.CountRuns(
            q.CountRunsRequest(parent=PARENT, filter_json=text, allow_estimate=True)
        )
        exact = client.query.CountRuns(q.CountRunsRequest(parent=PARENT, filter_json=text))
        assert count.count == exact.count and not count.estimated
        assert len(names) == min(5, exact.count)
    letters = "".join(random.Random(1).choices(string.ascii_lowercase, k=12))
    empty = client.query.CountRuns(
        q.CountRunsRequest(parent=PARENT, filter_json=json.dumps({"display_name": {"$regex": letters}}))
    )
    assert empty.count == 0


def test_a_signed_list_index_finds_the_element(server, project) -> None:  # type: ignore[no-untyped-def]
    async def add() -> None:
        await fx.add_run(server.deps.pool, project, "signed-index", config={"sl": [0, 7, "x"]})

    server.run(add())
    client = server.client()
    for path in ("config.sl.1", "config.sl.+1"):  # PostgreSQL's `#>` reads "+1" as list index 1
        for doc in ({path: 7}, {path: {"$gte": 7}}):
            req = q.CountRunsRequest(parent=PARENT, filter_json=json.dumps(doc))
            assert client.query.CountRuns(req).count == 1, doc


@pytest.mark.parametrize("budget", [2000, 3])
@pytest.mark.parametrize("order", [[], ["-summary.val/f1"], ["config.lr"]])
def test_pages_in_every_order_are_the_same_with_and_without_the_index_path(
    server, project, monkeypatch, order, budget
) -> None:  # type: ignore[no-untyped-def]
    """The whole flow (ordered walk, early candidate sets, the longer walk, the tail of runs missing
    the order key), page by page, against the same searches with the index path switched off."""
    monkeypatch.setattr(cand, "CAP", 40)  # small sets, so that both early and late probes happen
    monkeypatch.setattr(store, "WALK_BUDGET", budget)  # 3: walks run out, the longer walk reads 48
    values, texts = _sample_data(server, project)
    docs = _filters(random.Random(9), values, texts)[::3]
    real = store.candidate_ids

    async def no_index_path(*args: object, **kwargs: object) -> None:
        return None

    async def pages(conn, node, lookup) -> list[int]:  # type: ignore[no-untyped-def]
        monkeypatch.setattr(store, "candidate_ids", lookup)  # off: no candidate set, no longer walk
        monkeypatch.setattr(store, "probes", cand.probes if lookup is real else lambda *a: [])
        out: list[int] = []
        position = None
        for _ in range(50):
            spec = store.SearchSpec(project, node, parse_order(order), position, 8)
            rows = await store.search_ids(conn, spec, 30)
            out += [pk for pk, _ in rows[:7]]
            if len(rows) < 8:
                return out
            position = Position(rows[6][1], rows[6][0])
        return out

    async def check() -> int:
        nonempty = 0
        async with server.deps.pool.acquire() as conn, conn.transaction(readonly=True):
            await store.begin_read(conn)
            for doc in docs:
                node = parse_filter(json.dumps(doc))
                truth = await pages(conn, node, no_index_path)
                assert await pages(conn, node, real) == truth, doc
                nonempty += bool(truth)
        return nonempty

    assert server.run(check()) >= 10


def test_runs_written_through_ingest_are_found_by_range_and_regex(server, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Created, renamed and reconfigured through the SDK (ingest's own SQL): the triggers keep the
    side indexes in step, and searches that use them see every change at once."""
    import strata

    monkeypatch.setenv("STRATA_ADDR", server.addr)
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setattr(cand, "CAP", 5)
    ids = []
    for i in range(8):
        run = strata.init(
            project="sdk", entity="side", config={"lr": 0.001 * (i + 1), "opt": {"name": f"adam{i}"}}
        )
        if i == 3:
            run.name = "Zeta-Ünïcode run"
            run.config["lr"] = 0.5
            run.config["opt"] = {"name": "lamb-q"}
        run.finish()
        ids.append(run.id)
    api = strata.Api(server.addr)

    def found(doc: dict[str, Any]) -> list[str]:
        return sorted(r.id for r in api.runs("side/sdk", doc))

    assert found({"config.lr": {"$gt": 0.1}}) == [ids[3]]
    assert found({"config.lr": {"$gte": 0.004, "$lt": 0.1}}) == sorted(ids[4:])  # 0.004 itself: run 3 moved
    for pattern in ("zeta-Ün", "ZETA-ün", "^zeta-.nïcode"):  # PostgreSQL folds Ü too; the index ASCII only
        assert found({"display_name": {"$regex": pattern, "$options": "i"}}) == [ids[3]], pattern
    assert found({"config.opt.name": {"$regex": "^lamb"}}) == [ids[3]]
    assert found({"config.opt.name": {"$regex": "adam3"}}) == []  # the old value is gone
    api.runs("side/sdk", {"config.lr": {"$gt": 0.1}})[0].delete()
    assert found({"config.lr": {"$gt": 0.1}}) == []
    assert found({"display_name": {"$regex": "Zeta"}}) == []


def test_a_slow_capped_count_gives_way_to_the_estimate(server, project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A selective filter no index serves: the capped count is cut at CAPPED_COUNT_MS and the
    sample's estimate stands, flagged; the transaction stays usable and its statement timeout as it was."""
    real_count = store.count_runs

    async def slow_count(conn, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
        await conn.execute("SELECT pg_sleep(2)")
        return await real_count(conn, *args, **kwargs)

    node = parse_filter(json.dumps({"display_name": {"$regex": "^[a-z]+ 9[0-9]7$"}}))

    async def run(cut: bool) -> tuple[estimate.Count, str, str]:
        async with server.deps.pool.acquire() as conn, conn.transaction(readonly=True):
            before = await conn.fetchval("SHOW statement_timeout")
            monkeypatch.setattr(estimate.store, "count_runs", slow_count if cut else real_count)
            monkeypatch.setattr(estimate, "SAMPLE_RUNS", 50)  # a sample smaller than the project
            got = await estimate.estimate_count(conn, project, node, 30)
            return got, before, await conn.fetchval("SHOW statement_timeout")

    got, before, after = server.run(run(cut=True))
    assert got.estimated and before == after
    got, before, after = server.run(run(cut=False))
    assert not got.estimated and before == after


def test_the_migration_backfills_runs_that_existed_before_it(server, project) -> None:  # type: ignore[no-untyped-def]
    """The migration's backfill statements, run on emptied side tables (in a transaction rolled back),
    rebuild exactly what the triggers maintain."""
    from pathlib import Path

    import strata_server

    sql = (Path(strata_server.__file__).parent / "query/migrations/0003_search_side_index.sql").read_text()
    backfill = sql.split("-- Backfill the runs that exist when this migration runs.")[1]

    async def check() -> None:
        async with server.deps.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            try:
                before = [await conn.fetchval(f"SELECT count(*) FROM {t}") for t in SIDE_TABLES]
                await conn.execute("TRUNCATE run_config_numbers, run_text_trigrams")
                await conn.execute(backfill)
                after = [await conn.fetchval(f"SELECT count(*) FROM {t}") for t in SIDE_TABLES]
                assert after == before and min(after) > 0
                for table in SIDE_TABLES:
                    assert await _recomputed(conn, table) == []
            finally:
                await tx.rollback()

    server.run(check())
