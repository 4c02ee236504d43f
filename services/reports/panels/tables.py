"""Run attributes as values: the rows of a RunsTable (and of scatter and parallel-coordinates
panels), and the per-group folds of a summary metric for bar and scalar panels.

A column is a run attribute in the query language ("config.lr", "summary.val/acc", "state",
"created_at") or "name" (the run's display name); a value is JSON-ready (None when absent).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import numpy as np

from ...common.runs import RUN_STATE_NAMES
from ...query.search.attrs import Attr, parse_attr

_RECORD_COLUMNS = {
    "group": "run_group",
    "user": "author_name",
    "created_at": "create_time",
    "updated_at": "update_time",
    "heartbeat_at": "heartbeat_time",
    "finished_at": "finish_time",
}


def parse_column(text: str) -> Attr | None:
    """None for "name" (the display name); else the attribute (already validated in the spec)."""
    return None if text == "name" else parse_attr(text)


def value_of(
    attr: Attr | None, run: asyncpg.Record, config: dict[str, Any], summaries: dict[str, asyncpg.Record]
) -> Any:
    if attr is None:
        return run["display_name"]
    if attr.kind == "config":
        node: Any = config
        for part in attr.path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node
    if attr.kind == "summary":
        row = summaries.get(attr.path[0])
        return None if row is None else _summary(row, attr.agg)
    value = run[_RECORD_COLUMNS.get(attr.name, attr.name)]
    if attr.name == "state":
        return RUN_STATE_NAMES.get(value, str(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return list(value) if attr.name == "tags" else value


def _summary(row: asyncpg.Record, agg: str) -> Any:
    if agg == "value":
        if row["override"] is not None:
            return json.loads(row["override"])
        return _finite(row["last"])
    if agg == "mean":
        return _finite(row["sum"] / row["finite_count"]) if row["finite_count"] else None
    if agg == "count":
        return row["count"]
    return _finite(row[agg])


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def as_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def fold(values: Sequence[float], aggregation: str) -> float:
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if finite.size == 0:
        return math.nan
    folds: dict[str, Callable[[np.ndarray], Any]] = {
        "mean": np.mean,
        "median": np.median,
        "min": np.min,
        "max": np.max,
    }
    return float(folds[aggregation](finite))
