"""SQL of run search, counting and grouping (history lives in ../history/store.py).

Search plan for one page (keyset pagination, order keys k1..km, ties by run id in k1's direction):

1. Runs whose k1 value is present ("part A"). When k1 is a summary metric or created_at, first an
   *ordered walk*: read at most WALK_BUDGET candidates from the index that yields k1's order
   (metric_keys_key_value, runs_project_created) and apply the filter to each; a page is usually
   complete after a few dozen candidates, whatever the project size. The planner cannot know how
   selective a config condition is, so it is not asked: if the walk's budget runs out before the
   page fills, the general query (the planner's choice) finishes part A.
2. Runs where k1 is missing ("part B", NULLS LAST), ordered by k2..km: only when part A did not fill
   the page and the filter does not already require k1.

Where the filter has a config range or a $regex at its top level, the side indexes (candidates.py)
may narrow it to a candidate set: at most a walk's budget of runs makes the walk unnecessary; at most
candidates.CAP serves the general query after a walk ran out of budget. Every query then reads only
`r.id = ANY(candidates)`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import asyncpg

from ...common.db import Conn
from ...common.runs import RUN_COLUMNS, RUN_FROM, RUN_STATE_NAMES
from .attrs import Attr, OrderKey
from .candidates import candidate_ids, probes
from .cursor import Position
from .filters import And, Leaf, Node, required_present, summary_metrics
from .sqlgen import RANGE_OPS, OrderExpr, Sql, keyset_after, order_exprs, where

WALK_BUDGET = 2000
LONG_WALK_FACTOR = 16  # the second, longer walk of filters only a side index could narrow
MAX_GROUPS = 10_000
# run state names indexed by RunState number + 1 (PostgreSQL arrays start at 1), bound as a parameter
STATE_NAMES_BY_NUMBER = [RUN_STATE_NAMES.get(n, "unspecified") for n in range(max(RUN_STATE_NAMES) + 1)]


@dataclass(frozen=True)
class SearchSpec:
    project_id: int
    filter: Node
    keys: list[OrderKey]
    position: Position | None
    limit: int
    candidates: list[int] | None = None  # run pks that include every match (candidates.py), or None


Row = tuple[int, tuple[Any, ...]]  # (run pk, order values)


async def begin_read(conn: Conn) -> None:
    """Settings for search transactions: plan every query with its actual values (shapes vary)."""
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")


async def check_regexes(conn: Conn, patterns: Sequence[str], timeout: float) -> str | None:
    """Compile every pattern in PostgreSQL (its regex dialect is what runs); returns an error or None."""
    if not patterns:
        return None
    try:
        await conn.fetchval(
            "SELECT bool_and(('' ~ p) IS NOT NULL) FROM unnest($1::text[]) AS u(p)",
            list(patterns),
            timeout=timeout,
        )
    except (
        asyncpg.exceptions.InvalidRegularExpressionError,
        asyncpg.exceptions.ProgramLimitExceededError,
    ) as e:
        return str(e)
    return None


async def search_ids(conn: Conn, spec: SearchSpec, timeout: float) -> list[Row]:
    k1 = spec.keys[0]
    pos = spec.position
    in_tail = pos is not None and pos.values[0] is None and k1.attr.nullable
    rows: list[Row] = []
    if not in_tail:
        rows, spec = await _part_a(conn, spec, timeout)
    k1_required = k1.attr in required_present(spec.filter)
    if len(rows) < spec.limit and k1.attr.nullable and not k1_required:
        spec = await _with_candidates(conn, spec, timeout)
        rows += await _run(conn, *_general(spec, spec.limit - len(rows), tail=True), timeout)
    return rows


async def _with_candidates(conn: Conn, spec: SearchSpec, timeout: float) -> SearchSpec:
    """spec restricted to the side indexes' candidate runs when a selective index path exists."""
    if spec.candidates is not None:
        return spec
    found = await candidate_ids(conn, spec.project_id, spec.filter, timeout)
    return spec if found is None else replace(spec, candidates=found)


async def _part_a(conn: Conn, spec: SearchSpec, timeout: float) -> tuple[list[Row], SearchSpec]:
    walk = _walk(spec, spec.limit, WALK_BUDGET)
    ordered_index = walk is not None
    if walk is not None and spec.candidates is None:
        few = await candidate_ids(conn, spec.project_id, spec.filter, timeout, cap=WALK_BUDGET, bounded=True)
        if few is not None:  # a config range leaves fewer runs than the walk would read: sort those
            spec, walk = replace(spec, candidates=few), None
    if walk is not None:
        rows = await _walk_rows(conn, walk, timeout)
        if len(rows) >= spec.limit:
            return rows, spec
        count_walk = _walk(spec, spec.limit, WALK_BUDGET, count_only=True)
        assert count_walk is not None  # the spec has a walk (above)
        count_query, count_params = count_walk
        candidates = await conn.fetchval(count_query, *count_params, timeout=timeout)
        if candidates < WALK_BUDGET:
            return rows, spec  # the walk saw every candidate: part A is complete
    # After a walk ran out of budget the filter is selective: read only the side indexes' candidates
    # when they narrow it, and let the planner filter first and sort the few survivors, rather than
    # walk the order index again (what it picks when it guesses wrong).
    spec = await _with_candidates(conn, spec, timeout)
    if walk is not None and spec.candidates is None and probes(spec.project_id, spec.filter, True):
        # A regex or config range whose side index found too many candidates (a common literal, a
        # wide range) and no other index: the planner would read the whole project. A longer walk
        # stops as soon as the page is full, so filters matching more than ~0.2% of runs end here.
        longer = _walk(spec, spec.limit, WALK_BUDGET * LONG_WALK_FACTOR)
        assert longer is not None
        rows = await _walk_rows(conn, longer, timeout)
        if len(rows) >= spec.limit:
            return rows, spec
    rows = await _run(conn, *_general(spec, spec.limit, tail=False, unordered_index=ordered_index), timeout)
    return rows, spec


async def _walk_rows(conn: Conn, walk: tuple[str, list[Any]], timeout: float) -> list[Row]:
    # Candidates must stream through nested loops in index order so the walk stops once the page
    # is full; a hash join would read the whole budget first.
    await conn.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
    rows = await _run(conn, walk[0], walk[1], timeout)
    await conn.execute("SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on")
    return rows


async def _run(conn: Conn, query: str, params: list[Any], timeout: float) -> list[Row]:
    records = await conn.fetch(query, *params, timeout=timeout)
    return [(r[0], tuple(r[1:])) for r in records]


def _inner_metrics(node: Node) -> set[str]:
    return {a.path[0] for a in required_present(node) if a.kind == "summary"}


def _general(
    spec: SearchSpec, limit: int, *, tail: bool, unordered_index: bool = False
) -> tuple[str, list[Any]]:
    """The planner-chosen query for part A (k1 present) or part B (tail: k1 missing). With
    unordered_index, k1's ORDER BY is an expression no index provides (`+ 0`, `+ interval '0'`)."""
    sql = Sql()
    project = sql.param(spec.project_id, "int8")
    source = "runs r"
    runs_only, rest = _split(spec.filter)
    only = [] if spec.candidates is None else [f"r.id = ANY({sql.param(spec.candidates, 'int8[]')})"]
    if unordered_index and (runs_only or only):
        # Run-attribute conditions first, on their own (MATERIALIZED: the planner may not merge them
        # back); summary joins and sorting then only see the few runs that pass.
        first_pass = " AND ".join([*only, where(sql, And(tuple(runs_only)))])
        source = f"(WITH c AS MATERIALIZED (SELECT * FROM runs r WHERE r.project_id = {project} AND {first_pass}) SELECT * FROM c) r"
        spec = replace(spec, filter=And(tuple(rest)))
        only = []
    exprs = order_exprs(sql, spec.keys)
    conds = [f"r.project_id = {project}", *only, where(sql, spec.filter)]
    inner = _inner_metrics(spec.filter)
    if tail:
        order, select = _tail_part(sql, spec, exprs, conds)
    else:
        order, select = _present_part(sql, spec, exprs, conds, unordered_index)
        if spec.keys[0].attr.kind == "summary":
            inner.add(spec.keys[0].attr.path[0])
    clauses = [e.clause() for e in order] + [f"r.id {'DESC' if exprs[0].descending else 'ASC'}"]
    query = (
        f"SELECT r.id, {', '.join(select)} FROM {source} {sql.joins(inner)} WHERE {' AND '.join(conds)} "
        f"ORDER BY {', '.join(clauses)} LIMIT {sql.param(limit, 'int8')}"
    )
    return query, sql.params


def _tail_part(sql: Sql, spec: SearchSpec, exprs: list[OrderExpr], conds: list[str]) -> tuple[list, list]:
    """Part B: runs whose first order key is missing, ordered by the other keys."""
    k1, pos = exprs[0], spec.position
    conds.append(f"{k1.sql} IS NULL")
    if pos is not None and pos.values[0] is None:
        conds.append(keyset_after(sql, exprs[1:], list(pos.values[1:]), pos.run_pk, k1.descending))
    return exprs[1:], ["NULL", *(e.sql for e in exprs[1:])]


def _present_part(
    sql: Sql, spec: SearchSpec, exprs: list[OrderExpr], conds: list[str], unordered_index: bool
) -> tuple[list, list]:
    """Part A: runs whose first order key is present."""
    k1, pos = exprs[0], spec.position
    if k1.nullable:
        conds.append(f"{k1.sql} IS NOT NULL")
    if pos is not None:
        conds.append(
            keyset_after(sql, [_not_null(k1), *exprs[1:]], list(pos.values), pos.run_pk, k1.descending)
        )
    first = _not_null(k1)
    if unordered_index:
        zero = "interval '0'" if k1.cast == "timestamptz" else "0"
        first = OrderExpr(f"({k1.sql} + {zero})", k1.descending, False, k1.cast)
    return [first, *exprs[1:]], [e.sql for e in exprs]


def _split(node: Node) -> tuple[list[Node], list[Node]]:
    """Top-level conjuncts that read only the runs row, and the others (which read summaries)."""
    if isinstance(node, And):
        parts = [_split(c) for c in node.children]
        return [n for p in parts for n in p[0]], [n for p in parts for n in p[1]]
    return ([], [node]) if summary_metrics(node) else ([node], [])


def _not_null(e: OrderExpr) -> OrderExpr:
    return OrderExpr(e.sql, e.descending, False, e.cast)


def _walk(
    spec: SearchSpec, limit: int, budget: int, *, count_only: bool = False
) -> tuple[str, list[Any]] | None:
    """The ordered walk for part A, or None when k1 has no index that yields its order."""
    k1 = spec.keys[0]
    attr = k1.attr
    if attr.kind == "summary" and attr.agg == "value":
        return _walk_summary(spec, limit, budget, count_only)
    if attr.kind == "column" and attr.name == "created_at":
        return _walk_created(spec, limit, budget, count_only)
    return None


def _walk_summary(spec: SearchSpec, limit: int, budget: int, count_only: bool) -> tuple[str, list[Any]]:
    sql = Sql()
    k1 = spec.keys[0]
    metric = k1.attr.path[0]
    a = sql.alias(metric)
    direction = "DESC" if k1.descending else "ASC"
    value = "strata_summary_value(m.last, m.override)"
    conds = [f"m.key = {sql.param(metric, 'text')}", f"{value} IS NOT NULL"]
    pos = spec.position
    if pos is not None:
        conds.append(f"{value} {'<=' if k1.descending else '>='} {sql.param(pos.values[0], 'float8')}")
    conds += [f"{value} {op} {sql.param(v, 'float8')}" for op, v in _bounds(spec.filter, k1.attr)]
    walk = (
        f"SELECT m.*, {value} AS v FROM metric_keys m WHERE {' AND '.join(conds)} "
        f"ORDER BY {value} {direction}, m.run_id {direction} LIMIT {sql.param(budget, 'int8')}"
    )
    if count_only:
        return f"SELECT count(*) FROM ({walk}) w", sql.params
    first = OrderExpr(f"{a}.v", k1.descending, False, "float8")
    return _walk_outer(sql, spec, f"({walk}) {a} JOIN runs r ON r.id = {a}.run_id", first, {metric}, limit)


def _walk_created(spec: SearchSpec, limit: int, budget: int, count_only: bool) -> tuple[str, list[Any]]:
    sql = Sql()
    k1 = spec.keys[0]
    direction = "DESC" if k1.descending else "ASC"
    conds = [f"project_id = {sql.param(spec.project_id, 'int8')}"]
    pos = spec.position
    if pos is not None:
        conds.append(
            f"create_time {'<=' if k1.descending else '>='} {sql.param(pos.values[0], 'timestamptz')}"
        )
    conds += [f"create_time {op} {sql.param(v, 'timestamptz')}" for op, v in _bounds(spec.filter, k1.attr)]
    walk = (
        f"SELECT id, create_time AS v FROM runs WHERE {' AND '.join(conds)} "
        f"ORDER BY create_time {direction}, id {direction} LIMIT {sql.param(budget, 'int8')}"
    )
    if count_only:
        return f"SELECT count(*) FROM ({walk}) w", sql.params
    first = OrderExpr("w.v", k1.descending, False, "timestamptz")
    return _walk_outer(sql, spec, f"({walk}) w JOIN runs r ON r.id = w.id", first, set(), limit)


def _bounds(node: Node, attr: Attr) -> list[tuple[str, Any]]:
    """Top-level range/equality conditions on attr: they bound the walk's index range, so the walk
    starts where matching runs start instead of spending its budget above them."""
    if isinstance(node, And):
        return [b for child in node.children for b in _bounds(child, attr)]
    if (
        isinstance(node, Leaf)
        and node.attr == attr
        and node.op in ("eq", *RANGE_OPS)
        and node.value is not None
    ):
        return [(RANGE_OPS.get(node.op, "="), node.value)]
    return []


def _walk_outer(
    sql: Sql, spec: SearchSpec, source: str, first: OrderExpr, walked: set[str], limit: int
) -> tuple[str, list[Any]]:
    """Filter, keyset and order applied on top of the walk's candidates (which arrive in k1 order)."""
    exprs = [first, *order_exprs(sql, spec.keys[1:])]
    conds = [f"r.project_id = {sql.param(spec.project_id, 'int8')}", where(sql, spec.filter)]
    pos = spec.position
    desc = first.descending
    if pos is not None:
        conds.append(keyset_after(sql, exprs, list(pos.values), pos.run_pk, desc))
    inner = _inner_metrics(spec.filter)
    joins = Sql(sql.params, {m: a for m, a in sql.metric_alias.items() if m not in walked}).joins(inner)
    clauses = [e.clause() for e in exprs] + [f"r.id {'DESC' if desc else 'ASC'}"]
    query = (
        f"SELECT r.id, {', '.join(e.sql for e in exprs)} FROM {source} {joins} "
        f"WHERE {' AND '.join(conds)} ORDER BY {', '.join(clauses)} LIMIT {sql.param(limit, 'int8')}"
    )
    return query, sql.params


# --- counting and grouping ---------------------------------------------------------------------


async def count_runs(
    conn: Conn,
    project_id: int,
    node: Node,
    timeout: float,
    cap: int | None = None,
    candidates: list[int] | None = None,
) -> int:
    """The number of matching runs; with `cap`, counting stops at cap + 1 (the planner's plan, so
    indexes serve selective filters); with `candidates`, only those runs are read (candidates.py)."""
    sql = Sql()
    project = sql.param(project_id, "int8")
    cond = where(sql, node)
    if candidates is not None:
        cond = f"r.id = ANY({sql.param(candidates, 'int8[]')}) AND {cond}"
    matching = f"FROM runs r {sql.joins(_inner_metrics(node))} WHERE r.project_id = {project} AND {cond}"
    if cap is None:
        query = f"SELECT count(*) {matching}"
    else:
        query = f"SELECT count(*) FROM (SELECT 1 {matching} LIMIT {sql.param(cap + 1, 'int8')}) c"
    result: int = await conn.fetchval(query, *sql.params, timeout=timeout)
    return result


async def sample_matches(
    conn: Conn, project_id: int, node: Node, sample: Sample, timeout: float
) -> tuple[int, int]:
    """(project runs in the sample, how many match). A sample is `percent` of the runs table's
    pages (TABLESAMPLE SYSTEM), or, when the project is a small part of the table, `runs` of its
    runs picked through its index in a hash order of their ids; both fixed, so the same data gives
    the same estimate."""
    sql = Sql()
    project = sql.param(project_id, "int8")
    cond = where(sql, node)
    if sample.percent is not None:
        source = f"runs r TABLESAMPLE SYSTEM ({sql.param(sample.percent, 'float8')}) REPEATABLE (42)"
    else:
        picked = (
            f"SELECT id FROM runs WHERE project_id = {project} "
            f"ORDER BY hashint8(id), id LIMIT {sql.param(sample.runs, 'int8')}"
        )
        source = f"runs r JOIN ({picked}) p ON p.id = r.id"
    query = (
        f"SELECT count(*), count(*) FILTER (WHERE {cond}) FROM {source} {sql.joins(set())} "
        f"WHERE r.project_id = {project}"
    )
    row = await conn.fetchrow(query, *sql.params, timeout=timeout)
    assert row is not None  # an aggregate always returns one row
    return row[0], row[1]


@dataclass(frozen=True)
class Sample:
    percent: float | None  # of the runs table's pages; None: `runs` runs through the project index
    runs: int


async def table_size(conn: Conn, timeout: float) -> int:
    """Rows in the runs table, as the statistics estimate it (0 before the first ANALYZE)."""
    return int(
        await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'runs'::regclass", timeout=timeout)
    )


async def project_size(conn: Conn, project_id: int, timeout: float) -> tuple[int, bool]:
    """(runs in the project, exact?): counted when the planner expects at most 20,000 (an
    index-only scan), else the planner's estimate (statistics kept by ANALYZE / autovacuum)."""
    plan = await conn.fetchval(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM runs WHERE project_id = $1::int8", project_id, timeout=timeout
    )
    rows = int(json.loads(plan)[0]["Plan"]["Plan Rows"])
    if rows > 20_000:
        return rows, False
    n = await conn.fetchval("SELECT count(*) FROM runs WHERE project_id = $1", project_id, timeout=timeout)
    return n, True


def group_expr(sql: Sql, attr: Attr) -> tuple[str, str]:
    """(jsonb expression of a run's group value, extra FROM items) for GroupRuns/AggregateHistory."""
    if attr.kind == "config":
        return sql.expr(attr), ""
    if attr.name == "tags":
        return "to_jsonb(tg.tag)", "LEFT JOIN LATERAL unnest(r.tags) AS tg(tag) ON true"
    if attr.name == "state":
        return f"to_jsonb(({sql.param(STATE_NAMES_BY_NUMBER, 'text[]')})[r.state + 1])", ""
    if attr.name.endswith("_at"):
        return f"to_jsonb({sql.expr(attr)})", ""
    return f"to_jsonb(NULLIF({sql.expr(attr)}, ''))", ""


async def group_runs(
    conn: Conn,
    project_id: int,
    node: Node,
    group_by: Attr,
    metric: Attr,
    timeout: float,
    candidates: list[int] | None = None,
) -> list[asyncpg.Record]:
    sql = Sql()
    project = sql.param(project_id, "int8")
    g, extra = group_expr(sql, group_by)
    m = sql.expr(metric)
    cond = where(sql, node)
    if candidates is not None:
        cond = f"r.id = ANY({sql.param(candidates, 'int8[]')}) AND {cond}"
    query = f"""SELECT g::text AS value, count(*) AS run_count, count(m) AS metric_count,
                       avg(m) AS mean, min(m) AS min, max(m) AS max
                FROM (SELECT COALESCE({g}, 'null'::jsonb) AS g, {m} AS m
                      FROM runs r {sql.joins(_inner_metrics(node))} {extra}
                      WHERE r.project_id = {project} AND {cond}) t
                GROUP BY g ORDER BY g = 'null'::jsonb, g LIMIT {MAX_GROUPS + 1}"""
    return await conn.fetch(query, *sql.params, timeout=timeout)


async def group_values(
    conn: Conn, project_id: int, node: Node, group_by: Attr | None, limit: int, timeout: float
) -> list[asyncpg.Record]:
    """(run pk, group value as JSON text) of the runs matching a filter, for AggregateHistory."""
    sql = Sql()
    project = sql.param(project_id, "int8")
    g, extra = group_expr(sql, group_by) if group_by is not None else ("'null'::jsonb", "")
    cond = where(sql, node)
    query = f"""SELECT r.id, ({g})::text AS value FROM runs r {sql.joins(_inner_metrics(node))} {extra}
                WHERE r.project_id = {project} AND {cond} ORDER BY r.id LIMIT {sql.param(limit, "int8")}"""
    return await conn.fetch(query, *sql.params, timeout=timeout)


# --- loading runs and keys ---------------------------------------------------------------------


async def runs_by_pk(conn: Conn, pks: Sequence[int], timeout: float) -> dict[int, asyncpg.Record]:
    rows = await conn.fetch(
        f"SELECT {RUN_COLUMNS} FROM {RUN_FROM} WHERE r.id = ANY($1)", list(pks), timeout=timeout
    )
    return {r["id"]: r for r in rows}
