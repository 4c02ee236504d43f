"""GetPanelData: a panel's data computed from live runs when it is viewed. No gRPC and no SQL here.

A panel's runs are its grid's runsets (each: a project, a filter in the query language, order keys and
a limit; none means the report's project, newest 1000 runs), read in ONE repeatable-read snapshot
through the query service's search store: one query selects each runset's runs, and one grouped query
per y key folds their curves (lines.py), so the cost does not grow with one call per run. A runset
naming a project the viewer may not read is PERMISSION_DENIED: a report never shows such runs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from strata.ingest.v1 import run_pb2

from ...common.auth.policy import Access
from ...common.context import current_principal
from ...common.db import Conn
from ...common.deps import Deps
from ...common.runs import summary_rows_by_run
from ...query.search import store as search_store
from ...query.search.attrs import parse_order
from ...query.search.domain import group_key, prepare, resolve_project
from ...query.search.filters import Node, parse_filter
from . import media, tables
from .lines import Line, LineOptions, fold_lines

DEFAULT_LIMIT = 1000
DEFAULT_UNGROUPED_RUNS = 100
DEFAULT_TABLE_COLUMNS = ("name", "state", "created_at")
_GROUP_ROWS_PER_RUN = 16  # a run has several group values when grouped by tags


@dataclass(frozen=True)
class RunsetSpec:
    project: str  # empty: the report's project
    filters: str
    order: tuple[str, ...]
    limit: int


@dataclass(frozen=True)
class PanelSpec:
    kind: str  # a Panel oneof name: line_plot, runs_table, bar_plot, ...
    y: tuple[str, ...] = ()
    x: str = "_step"
    groupby: str = ""
    aggregation: str = "mean"
    band: str = "minmax"
    smoothing: float = 0.0
    max_runs: int = 0
    columns: tuple[str, ...] = ()
    metric: str = ""
    key: str = ""  # MediaPanel: the media key


@dataclass(frozen=True)
class RowOut:
    run: str
    display_name: str
    values: list[Any]


@dataclass
class PanelResult:
    run_count: int = 0
    live: bool = False
    lines: list[Line] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[RowOut] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class _Runset:
    project_id: int
    node: Node
    pks: list[int]


async def panel_data(
    deps: Deps, report_project: str, runsets: list[RunsetSpec], panel: PanelSpec, timeout: float
) -> PanelResult:
    specs = runsets or [RunsetSpec("", "", (), 0)]
    principal = current_principal()
    for spec in specs:
        if spec.project and spec.project != report_project:
            await deps.authorizer.require(principal, Access.PROJECT_READ, spec.project)
    async with (
        deps.pool.acquire(timeout=timeout) as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        chosen = [await _select(conn, s, report_project, timeout) for s in specs]
        pks = list(dict.fromkeys(pk for rs in chosen for pk in rs.pks))
        count = sum([await search_store.count_runs(conn, rs.project_id, rs.node, timeout) for rs in chosen])
        records = await search_store.runs_by_pk(conn, pks, timeout)
        result = await _compute(conn, panel, chosen, pks, records, timeout)
    result.run_count = count
    result.live = any(r["state"] == run_pb2.RUN_STATE_RUNNING for r in records.values())
    return result


async def _select(conn: Conn, spec: RunsetSpec, report_project: str, timeout: float) -> _Runset:
    project_id = await resolve_project(conn, spec.project or report_project)
    node = parse_filter(spec.filters, "runset.filters")
    await prepare(conn, node, timeout)
    keys = parse_order(list(spec.order))
    search = search_store.SearchSpec(project_id, node, keys, None, spec.limit or DEFAULT_LIMIT)
    rows = await search_store.search_ids(conn, search, timeout)
    return _Runset(project_id, node, [pk for pk, _ in rows])


async def _compute(
    conn: Conn, panel: PanelSpec, chosen: list[_Runset], pks: list[int],
    records: dict[int, asyncpg.Record], timeout: float,
) -> PanelResult:  # fmt: skip
    if panel.kind == "line_plot":
        if panel.max_runs or not panel.groupby:
            pks = pks[: panel.max_runs or DEFAULT_UNGROUPED_RUNS]
        groups = await _groups(conn, panel.groupby, chosen, pks, records, timeout)
        options = LineOptions(panel.aggregation, panel.band, panel.smoothing, panel.x or "_step")
        starts = {pk: records[pk]["create_time"].timestamp() for pk in groups if records[pk]["create_time"]}
        lines = await fold_lines(
            conn, groups, list(panel.y), options, starts=starts, by_value=bool(panel.groupby), timeout=timeout
        )
        return PanelResult(lines=lines)
    if panel.kind in ("bar_plot", "scalar_chart"):
        return await _folded(conn, panel, chosen, pks, records, timeout)
    if panel.kind == "media_panel":
        found = await media.media_runs(conn, panel.key, pks, timeout)
        rows = await _rows(conn, ["name"], list(found), records)
        for row, values in zip(rows, found.values(), strict=True):
            row.values.extend(values)
        return PanelResult(columns=list(media.COLUMNS), rows=rows)
    columns = _columns(panel)
    return PanelResult(columns=columns, rows=await _rows(conn, columns, pks, records))


def _columns(panel: PanelSpec) -> list[str]:
    if panel.kind == "runs_table":
        return list(panel.columns or DEFAULT_TABLE_COLUMNS)
    if panel.kind == "scatter_plot":
        return list(panel.columns)
    if panel.kind == "parallel_coordinates":
        return list(panel.columns)
    return ["name"]


async def _groups(
    conn: Conn, groupby: str, chosen: list[_Runset], pks: list[int],
    records: dict[int, asyncpg.Record], timeout: float,
) -> dict[int, list[str]]:  # fmt: skip
    """Run pk -> its group values (JSON text), or its display name when not grouped."""
    if not groupby:
        return _by_run(pks, records)
    by, wanted = group_key(groupby), set(pks)
    groups: dict[int, list[str]] = {}
    for rs in chosen:
        limit = max(len(rs.pks), 1) * _GROUP_ROWS_PER_RUN + 1
        for r in await search_store.group_values(conn, rs.project_id, rs.node, by, limit, timeout):
            if r["id"] in wanted:
                groups.setdefault(r["id"], []).append(r["value"] or "null")
    return groups


def _by_run(pks: list[int], records: dict[int, asyncpg.Record]) -> dict[int, list[str]]:
    seen: set[str] = set()
    out: dict[int, list[str]] = {}
    for pk in pks:
        label = records[pk]["display_name"] or records[pk]["run_id"]
        if label in seen:
            label = f"{label} ({records[pk]['run_id']})"
        seen.add(label)
        out[pk] = [label]
    return out


async def _rows(
    conn: Conn, columns: list[str], pks: list[int], records: dict[int, asyncpg.Record]
) -> list[RowOut]:
    attrs = [tables.parse_column(c) for c in columns]
    metrics = sorted({a.path[0] for a in attrs if a is not None and a.kind == "summary"})
    summaries = await summary_rows_by_run(conn, pks, metrics) if metrics else {}
    need_config = any(a is not None and a.kind == "config" for a in attrs)
    out = []
    for pk in pks:
        run = records[pk]
        config = json.loads(run["config"]) if need_config else {}
        by_key = {s["key"]: s for s in summaries.get(pk, [])}
        values = [tables.value_of(a, run, config, by_key) for a in attrs]
        name = f"entities/{run['entity']}/projects/{run['project']}/runs/{run['run_id']}"
        out.append(RowOut(name, run["display_name"], values))
    return out


async def _folded(
    conn: Conn, panel: PanelSpec, chosen: list[_Runset], pks: list[int],
    records: dict[int, asyncpg.Record], timeout: float,
) -> PanelResult:  # fmt: skip
    rows = await _rows(conn, [panel.metric], pks, records)
    value = {pk: tables.as_number(row.values[0]) for pk, row in zip(pks, rows, strict=True)}
    if panel.kind == "scalar_chart":
        return PanelResult(
            labels=[panel.metric], values=[tables.fold(list(value.values()), panel.aggregation)]
        )
    if not panel.groupby:
        return PanelResult(labels=[r.display_name for r in rows], values=[value[pk] for pk in pks])
    groups = await _groups(conn, panel.groupby, chosen, pks, records, timeout)
    members: dict[str, list[float]] = {}
    for pk, values in groups.items():
        for g in values:
            members.setdefault(g, []).append(value[pk])
    labels = sorted(members)
    folded = [tables.fold(members[g], panel.aggregation) for g in labels]
    return PanelResult(labels=labels, values=[v if math.isfinite(v) else math.nan for v in folded])
