"""SearchRuns, CountRuns and GroupRuns: filter documents and order keys over a project's runs.

No gRPC and no SQL here (SQL is in store.py, messages are built by ../convert.py). Each call reads
in one read-only transaction opened here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import asyncpg

from ...common import paging
from ...common.db import Conn
from ...common.errors import InvalidArgument, Reason
from ...common.names import parse_project
from ...common.projects import get_project
from ...common.runs import summary_rows_by_run
from . import cursor, store
from .attrs import Attr, attr_or_invalid, parse_order
from .candidates import candidate_ids
from .estimate import Count, estimate_count
from .filters import Node, parse_filter, regex_patterns

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_FIELDS = 256


@dataclass(frozen=True)
class Projection:
    """What a search returns besides the run's own attributes (always included)."""

    config: bool | list[tuple[str, ...]]  # True: all; list: only these paths; False: none
    summary: bool | list[str]  # True: all keys; list: only these; False: none

    @classmethod
    def parse(cls, fields: list[str]) -> Projection:
        if not fields:
            return cls(True, True)
        if len(fields) > MAX_FIELDS:
            raise InvalidArgument("fields", Reason.INVALID_ORDER, f"at most {MAX_FIELDS} fields")
        config: bool | list[tuple[str, ...]] = False
        summary: bool | list[str] = False
        for text in fields:
            if text in ("config", "summary"):
                config, summary = (True, summary) if text == "config" else (config, True)
                continue
            attr = attr_or_invalid(text, "fields", Reason.INVALID_ORDER)
            if attr.kind == "config" and config is not True:
                config = [*(config or []), attr.path]
            elif attr.kind == "summary" and summary is not True:
                summary = [*(summary or []), attr.path[0]]
        return cls(config, summary)

    def config_json(self, text: str) -> str:
        if self.config is True or not self.config:
            return text if self.config else ""
        return json.dumps(_prune(json.loads(text), self.config))


def _prune(config: Any, paths: list[tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in paths:
        node, ok = config, True
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                ok = False
                break
        if ok:
            target = out
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = node
    return out


async def resolve_project(conn: Conn, parent: str) -> int:
    return (await get_project(conn, parse_project(parent))).id


async def prepare(conn: Conn, node: Node, timeout: float) -> None:
    """Per-transaction settings, and every $regex compiled in PostgreSQL's dialect up front (so a bad
    pattern is INVALID_FILTER whether or not a row reaches it)."""
    await store.begin_read(conn)
    problem = await store.check_regexes(conn, regex_patterns(node), timeout)
    if problem:
        raise InvalidArgument("filter_json", Reason.INVALID_FILTER, f"invalid $regex: {problem}")


@dataclass(frozen=True)
class SearchRequest:
    parent: str
    filter_json: str
    order_by: list[str]
    page_size: int
    page_token: str
    fields: list[str]


@dataclass(frozen=True)
class FoundRun:
    """A run as a search returns it: its row (RUN_COLUMNS), the projected config and summaries."""

    row: asyncpg.Record
    config_json: str
    summaries: list[asyncpg.Record]  # metric_keys rows (SUMMARY_COLUMNS), in key order


async def search_runs(pool: asyncpg.Pool, req: SearchRequest, timeout: float) -> tuple[list[FoundRun], str]:
    node = parse_filter(req.filter_json)
    keys = parse_order(req.order_by)
    size = paging.page_size(req.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    projection = Projection.parse(req.fields)
    query = cursor.query_of(req.parent, repr(node), keys)
    position = cursor.decode(req.page_token, query, keys)
    async with pool.acquire(timeout=timeout) as conn, conn.transaction(readonly=True):
        project_id = await resolve_project(conn, req.parent)
        await prepare(conn, node, timeout)
        spec = store.SearchSpec(project_id, node, keys, position, size + 1)
        rows = await store.search_ids(conn, spec, timeout)
        page = rows[:size]
        runs = await _load_runs(conn, [pk for pk, _ in page], projection, timeout)
    kept = paging.fit(runs)  # a page is bounded in bytes as well as in runs
    runs, page = runs[:kept], page[:kept]
    token = ""
    if len(rows) > len(page):
        last_pk, values = page[-1]
        token = cursor.encode(query, keys, cursor.Position(values, last_pk))
    return runs, token


async def _load_runs(conn: Conn, pks: list[int], projection: Projection, timeout: float) -> list[FoundRun]:
    records = await store.runs_by_pk(conn, pks, timeout)
    summaries: dict[int, list[asyncpg.Record]] = {pk: [] for pk in pks}
    if projection.summary:
        keys = None if projection.summary is True else projection.summary
        summaries = await summary_rows_by_run(conn, pks, keys)
    return [FoundRun(records[pk], projection.config_json(records[pk]["config"]), summaries[pk]) for pk in pks]


async def count_runs(
    pool: asyncpg.Pool, parent: str, filter_json: str, timeout: float, allow_estimate: bool = False
) -> Count:
    node = parse_filter(filter_json)
    async with pool.acquire(timeout=timeout) as conn, conn.transaction(readonly=True):
        project_id = await resolve_project(conn, parent)
        await prepare(conn, node, timeout)
        if allow_estimate:  # the sample first: a common filter needs no candidate set
            return await estimate_count(conn, project_id, node, timeout)
        found = await candidate_ids(conn, project_id, node, timeout)  # None: no selective index path
        return Count(await store.count_runs(conn, project_id, node, timeout, candidates=found), False)


@dataclass(frozen=True)
class Group:
    value_json: str
    run_count: int
    metric_count: int
    mean: float
    min: float
    max: float


def group_key(text: str, field: str = "group_by") -> Attr:
    if not text:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    attr = attr_or_invalid(text, field, Reason.INVALID_ORDER)
    if attr.kind == "summary":
        raise InvalidArgument(
            field, Reason.INVALID_ORDER, "group by config keys or run attributes, not summaries"
        )
    return attr


def metric_key(text: str, field: str = "metric") -> Attr:
    if not text:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    attr = attr_or_invalid(text, field, Reason.INVALID_ORDER)
    if attr.kind != "summary":
        raise InvalidArgument(
            field, Reason.INVALID_ORDER, "metric must be summary.<key>[.min|.max|.mean|...]"
        )
    return attr


async def group_runs(
    pool: asyncpg.Pool, parent: str, filter_json: str, group_by: str, metric: str, timeout: float
) -> list[Group]:
    node = parse_filter(filter_json)
    by, what = group_key(group_by), metric_key(metric)
    async with pool.acquire(timeout=timeout) as conn, conn.transaction(readonly=True):
        project_id = await resolve_project(conn, parent)
        await prepare(conn, node, timeout)
        found = await candidate_ids(conn, project_id, node, timeout)
        rows = await store.group_runs(conn, project_id, node, by, what, timeout, found)
    if len(rows) > store.MAX_GROUPS:
        raise InvalidArgument("group_by", Reason.OUT_OF_RANGE, f"more than {store.MAX_GROUPS} groups")
    nan = math.nan
    return [
        Group(
            r["value"] or "null",
            r["run_count"],
            r["metric_count"],
            nan if r["mean"] is None else r["mean"],
            nan if r["min"] is None else r["min"],
            nan if r["max"] is None else r["max"],
        )
        for r in rows
    ]
