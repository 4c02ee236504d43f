"""`run.define_metric`: how a metric is summarised and which key is its default x axis, and the system
values every summary carries (`_runtime`, `_timestamp`, `_step`).

Definitions are stored on the server in the run's config under the reserved key `_strata_metrics`
({name or glob: {"step_metric", "summary", "goal", "hidden"}}): config updates are JSON merge patches,
so a definition is one additive UpdateRun, survives resumes and `strata sync`, and every reader (the
SDK, the query API, the console) finds it with the run. `run.config` never shows the reserved key.

A defined summary replaces the metric's plain last value with W&B's shape: `summary="min"` gives
`summary["loss"] == {"min": 0.12}`, `summary="min,last"` gives both, `summary="best"` with
`goal="minimize"` gives {"best": <min>}; `summary="none"` leaves the metric out. Overrides set with
`run.summary[key] = value` always win.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from strata.wire.metric_keys import METRIC_DEFINITIONS

RESERVED = METRIC_DEFINITIONS
SUMMARIES = frozenset({"min", "max", "mean", "last", "best", "first", "none", "copy"})
GOALS = {"minimize": "min", "min": "min", "maximize": "max", "max": "max"}


def definition(
    name: str, step_metric: str | None, summary: str | None, goal: str | None, hidden: bool | None
) -> dict[str, Any]:
    """A checked definition of run.define_metric's options (ValueError naming the bad option)."""
    if not isinstance(name, str) or not name:
        raise ValueError("define_metric needs a metric name (a glob like 'val/*' is allowed)")
    out: dict[str, Any] = {}
    if step_metric:
        out["step_metric"] = str(step_metric)
    if summary:
        parts = [p.strip() for p in summary.split(",") if p.strip()]
        bad = [p for p in parts if p not in SUMMARIES]
        if bad:
            raise ValueError(f"summary must be among {sorted(SUMMARIES)}, not {bad}")
        out["summary"] = ",".join(parts)
    if goal:
        if goal not in GOALS:
            raise ValueError(f"goal must be 'minimize' or 'maximize', not {goal!r}")
        out["goal"] = "minimize" if GOALS[goal] == "min" else "maximize"
    if hidden:
        out["hidden"] = True
    return out


def lookup(defs: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """The definition for `key`: an exact name first, else the first glob that matches."""
    if key in defs:
        found: dict[str, Any] = defs[key]
        return found
    for pattern, d in defs.items():
        if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(key, pattern):
            return dict(d)
    return None


def default_x_axis(defs: Mapping[str, Any], keys: Iterable[str]) -> str:
    """The step_metric shared by every key (the default x axis of history), else "_step"."""
    axes = {(lookup(defs, k) or {}).get("step_metric", "_step") for k in keys}
    return axes.pop() if len(axes) == 1 else "_step"


def shaped(key: str, last: Any, stats: Mapping[str, Any] | None, defs: Mapping[str, Any]) -> Any:
    """The summary value of one metric key under its definition; `_MISSING` for summary="none"."""
    d = lookup(defs, key)
    if not d or "summary" not in d or stats is None:
        return last
    wanted = d["summary"].split(",")
    if "none" in wanted:
        return MISSING
    out: dict[str, Any] = {}
    for kind in wanted:
        if kind == "best":
            out["best"] = stats["min" if GOALS.get(d.get("goal", "minimize"), "min") == "min" else "max"]
        elif kind in ("last", "copy"):
            out["last"] = last
        elif kind in ("min", "max", "mean"):
            out[kind] = stats[kind]
    return out


MISSING = object()


def apply(
    values: Mapping[str, Any],
    stats: Mapping[str, Mapping[str, Any]],
    overrides: set[str],
    defs: Mapping[str, Any],
) -> dict[str, Any]:
    """Summary values shaped by the definitions (overrides untouched)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        v = value if key in overrides else shaped(key, value, stats.get(key), defs)
        if v is not MISSING:
            out[key] = v
    return out


def system_values(run: Any) -> dict[str, Any]:
    """`_runtime` (seconds from creation to finish, or to the last heartbeat while running),
    `_timestamp` (that moment, Unix seconds) and `_step` (the last step logged) of a run_pb2.Run."""
    start = _seconds(run.create_time)
    if start is None:
        return {}
    end = _seconds(run.finish_time) or _seconds(run.heartbeat_time) or _seconds(run.update_time) or start
    if run.state == 1:  # running: up to now
        end = max(end, datetime.now(timezone.utc).timestamp())
    out: dict[str, Any] = {"_runtime": max(0.0, end - start), "_timestamp": end}
    if run.next_step > 0:
        out["_step"] = run.next_step - 1
    return out


def _seconds(ts: Any) -> float | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return float(ts.seconds + ts.nanos / 1e9)


def summary_of(run: Any, defs: Mapping[str, Any]) -> dict[str, Any]:
    """A run_pb2.Run's whole summary, as W&B shows it: metric values shaped by definitions,
    overrides, and the system values."""
    values, stats, overrides = {}, {}, set()
    for s in run.summary:
        if s.override_json:
            values[s.key] = json.loads(s.override_json)
            overrides.add(s.key)
        else:
            values[s.key] = s.last
        if s.count:
            stats[s.key] = {"min": s.min, "max": s.max, "mean": s.mean}
    return {**system_values(run), **apply(values, stats, overrides, defs)}
