"""The public query API (W&B's `wandb.Api()` shape): search runs, read history into pandas.

    import strata
    api = strata.Api()
    runs = api.runs("ml-research/text-classifier",
                    filters={"state": "finished", "config.lr": {"$gt": 1e-4}}, order="-summary.val/f1")
    len(runs)                                  # CountRuns
    best = runs[0]
    best.config.get("lr"), best.summary.get("val/f1", 0.0)
    df = best.history(keys=["train/loss", "val/loss"], samples=1000)   # W&B's shape: a _step column
    for row in best.scan_history(keys=["train/loss"]): ...             # every point, constant memory
    runs.to_dataframe()                        # one row per run: config.* and summary.* columns

pandas is optional (`pip install 'strata-ml-client[pandas]'`); only the methods returning DataFrames need it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from datetime import datetime, timezone
from typing import Any, overload

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from strata.client import Client
from strata.errors import Reason, StrataError
from strata.ingest.v1 import run_pb2
from strata.query.v1 import query_service_pb2 as q
from strata.wire.metric_keys import split_config

from ._api_extras import ApiExtras, RunExtras
from ._context import default_entity, default_project, project_parent, short_run_name
from ._metric_defs import default_x_axis, summary_of
from .report import ReportsApi

STATE_NAMES = {1: "running", 2: "finished", 3: "failed", 4: "killed", 5: "crashed"}


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("this needs pandas: pip install 'strata-ml-client[pandas]'") from e
    return pandas


class Api(ApiExtras, ReportsApi):
    """Entry point of the query API. `addr`/`api_key` default to $STRATA_ADDR / $STRATA_API_KEY;
    `overrides={"entity": .., "project": ..}` set the defaults for short paths and references (W&B)."""

    def __init__(
        self,
        addr: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        overrides: Mapping[str, Any] | None = None,
        client: Client | None = None,
    ) -> None:
        self.client = client if client is not None else Client(addr, api_key=api_key, timeout=timeout)
        overrides = dict(overrides or {})
        self.entity: str | None = overrides.get("entity") or None
        self.project: str | None = overrides.get("project") or None

    @property
    def default_entity(self) -> str:
        return default_entity(self.client, self.entity)

    @property
    def default_project(self) -> str:
        return default_project(self.project)

    # --- names ---

    def _parent(self, path: str | None = None) -> str:
        """ "entity/project", "project" (default entity), "entities/e/projects/p", or None (the defaults)."""
        if not path:
            return project_parent(self.default_entity, self.default_project)
        if path.startswith("entities/"):
            return path
        parts = path.strip("/").split("/")
        if len(parts) == 1:
            return project_parent(self.default_entity, parts[0])
        if len(parts) == 2:
            return project_parent(parts[0], parts[1])
        raise ValueError(f"expected 'entity/project', got {path!r}")

    def _run_name(self, path: str) -> str:
        if path.startswith("entities/"):
            return path
        parts = path.strip("/").replace("/runs/", "/").split("/")
        if len(parts) == 2:
            parts = [self.default_entity, *parts]
        elif len(parts) == 1:
            parts = [self.default_entity, self.default_project, *parts]
        if len(parts) != 3:
            raise ValueError(f"expected 'entity/project/run_id', got {path!r}")
        return f"{project_parent(parts[0], parts[1])}/runs/{parts[2]}"

    # --- runs ---

    def runs(
        self,
        path: str,
        filters: Mapping[str, Any] | str | None = None,
        order: str | Sequence[str] | None = None,
        per_page: int = 50,
        *,
        fields: Sequence[str] = (),
    ) -> Runs:
        """Runs of a project matching a Mongo-style filter, lazily paged (see docs/guides/query.md)."""
        return Runs(self, self._parent(path), filters, order, per_page, fields)

    def run(self, path: str) -> Run:
        """One run by "entity/project/run_id" (or its resource name); NOT_FOUND if it does not exist."""
        name = self._run_name(path)
        parent, _, run_id = name.rpartition("/runs/")
        found = self.runs(parent, {"run_id": run_id}, per_page=1)
        for run in found:
            return run
        raise StrataError(grpc.StatusCode.NOT_FOUND, Reason.NOT_FOUND, f"run {name!r} not found")

    def history_many(self, runs: Iterable[Run | str], keys: Sequence[str], samples: int = 500) -> Any:
        """Sampled history of several runs in one call: a DataFrame with a `run` column (the run path),
        `_step`, and one column per key."""
        names = [r.resource_name if isinstance(r, Run) else self._run_name(r) for r in runs]
        resp = self.client.query.BatchGetHistory(
            q.BatchGetHistoryRequest(runs=names, keys=list(keys), samples=samples)
        )
        frames = []
        by_run: dict[str, list[Any]] = {}
        for s in resp.series:
            by_run.setdefault(s.run, []).append(s)
        for name, series in by_run.items():
            df = _series_frame(series)
            df.insert(0, "run", short_run_name(name))
            frames.append(df)
        pd = _pandas()
        return (
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["run", "_step", *keys])
        )

    # --- grouped aggregates (reports) ---

    def group_runs(
        self, path: str, group_by: str, metric: str, filters: Mapping[str, Any] | str | None = None
    ) -> list[dict[str, Any]]:
        """Runs grouped by a key with a summary metric aggregated per group, e.g.
        api.group_runs("e/p", "config.lr", "summary.val/f1") -> [{"value": 0.001, "runs": 12,
        "with_metric": 12, "mean": .., "min": .., "max": ..}, ...]."""
        resp = self.client.query.GroupRuns(
            q.GroupRunsRequest(
                parent=self._parent(path), filter_json=_filter_json(filters), group_by=group_by, metric=metric
            )
        )
        return [
            {
                "value": json.loads(g.value_json),
                "runs": g.run_count,
                "with_metric": g.metric_count,
                "mean": g.mean,
                "min": g.min,
                "max": g.max,
            }
            for g in resp.groups
        ]

    def aggregate_history(
        self,
        path: str,
        key: str,
        group_by: str = "",
        filters: Mapping[str, Any] | str | None = None,
        buckets: int = 200,
    ) -> Any:
        """Curves of `key` across runs, grouped: a DataFrame with columns group, _step, mean, min, max,
        runs (the data behind a "loss by learning rate" plot)."""
        resp = self.client.query.AggregateHistory(
            q.AggregateHistoryRequest(
                parent=self._parent(path), filter_json=_filter_json(filters), group_by=group_by, key=key,
                buckets=buckets,
            )
        )  # fmt: skip
        pd = _pandas()
        rows = [
            {
                "group": json.loads(b.value_json),
                "_step": s,
                "mean": m,
                "min": lo,
                "max": hi,
                "runs": b.run_count,
            }
            for b in resp.bands
            for s, m, lo, hi in zip(b.steps, b.mean, b.min, b.max, strict=True)
        ]
        return pd.DataFrame(rows, columns=["group", "_step", "mean", "min", "max", "runs"])

    # --- artifacts (delegated to the registry SDK) ---

    def artifact(self, ref: str, type: str | None = None) -> Any:
        from strata.sdk.artifact import fetch_artifact

        return fetch_artifact(self, ref, type)

    def artifacts(self, type_name: str, name: str, per_page: int = 50, tags: Any = None) -> Any:
        """W&B's `api.artifacts(type_name, name)`: the collection's live versions, newest first."""
        del per_page
        if tags:
            raise ValueError("api.artifacts(tags=...): artifact tags are not stored by Strata; use aliases")
        return self.artifact_versions(type_name, name)

    def flush(self) -> None:
        """W&B's `api.flush()` clears its local cache; Strata's Api asks the server on every call, so
        there is nothing to clear."""

    def artifact_versions(self, type_name: str, name: str | None = None) -> Any:
        """Live versions of a collection, newest first: W&B's (type_name, name) form, or (name)."""
        from strata.sdk.artifact import list_artifact_versions

        if name is None:
            return list_artifact_versions(self, type_name)
        versions = list_artifact_versions(self, name)
        return [v for v in versions if v.type == type_name]


def _filter_json(filters: Mapping[str, Any] | str | None) -> str:
    if filters is None:
        return ""
    return filters if isinstance(filters, str) else json.dumps(filters)


class Runs:
    """A lazy, paged result: iterate it, index it (runs[0]), len() it (a CountRuns call)."""

    def __init__(
        self,
        api: Api,
        parent: str,
        filters: Mapping[str, Any] | str | None,
        order: str | Sequence[str] | None,
        per_page: int,
        fields: Sequence[str],
    ) -> None:
        self.api, self.parent = api, parent
        self.filter_json = _filter_json(filters)
        self.order = [order] if isinstance(order, str) else list(order or [])
        self.per_page, self.fields = per_page, list(fields)
        self._cache: list[Run] = []
        self._token: str | None = ""  # None: no more pages
        self._count: int | None = None

    def _fetch_page(self) -> None:
        resp = self.api.client.query.SearchRuns(
            q.SearchRunsRequest(
                parent=self.parent, filter_json=self.filter_json, order_by=self.order,
                page_size=self.per_page, page_token=self._token or "", fields=self.fields,
            )
        )  # fmt: skip
        self._cache += [Run(self.api, r) for r in resp.runs]
        self._token = resp.next_page_token or None

    def __iter__(self) -> Iterator[Run]:
        i = 0
        while True:
            while i >= len(self._cache) and self._token is not None:
                self._fetch_page()
            if i >= len(self._cache):
                return
            yield self._cache[i]
            i += 1

    def __len__(self) -> int:
        if self._count is None:
            resp = self.api.client.query.CountRuns(
                q.CountRunsRequest(parent=self.parent, filter_json=self.filter_json)
            )
            self._count = resp.count
        return self._count

    @overload
    def __getitem__(self, index: int) -> Run: ...
    @overload
    def __getitem__(self, index: slice) -> list[Run]: ...

    def __getitem__(self, index: int | slice) -> Run | list[Run]:
        if isinstance(index, slice):  # runs[:10] fetches only the pages it needs
            start, stop, step = index.start or 0, index.stop, index.step or 1
            if start < 0 or (stop is not None and stop < 0) or step < 0:
                return list(self)[index]
            return list(itertools.islice(self, start, stop, step))
        if index < 0:
            index += len(self)
        while index >= len(self._cache) and self._token is not None:
            self._fetch_page()
        return self._cache[index]

    def to_dataframe(self) -> Any:
        """One row per run: run attributes, config.<flattened key> and summary.<key> columns."""
        return _pandas().DataFrame([run.to_row() for run in self])

    def __repr__(self) -> str:
        return f"<Runs {self.parent} filter={self.filter_json or '{}'} order={self.order}>"


class Summary(MutableMapping[str, Any]):
    """A run's summary as W&B shows it: run.summary["val/f1"] is the override if one was set, else the
    last value (shaped by define_metric), plus `_runtime`, `_timestamp` and `_step`. `.get(key, default)`
    never raises; `.stats(key)` has min/max/mean/count/last/last_step. Assignments are sent by
    `run.update()`."""

    def __init__(self, msg: run_pb2.Run, defs: Mapping[str, Any] | None = None) -> None:
        self._stats = {s.key: s for s in msg.summary}
        self._values = summary_of(msg, defs or {})
        self._changed: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[key] = self._changed[key] = value

    def __delitem__(self, key: str) -> None:
        del self._values[key]
        self._changed[key] = None

    def changed(self) -> dict[str, Any]:
        return dict(self._changed)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def stats(self, key: str) -> dict[str, Any]:
        """Statistics of a logged or overridden key; {} for the system values (`_runtime`, ...)."""
        if key not in self._stats and key in self._values:
            return {}
        s = self._stats[key]
        return {
            "last": s.last, "last_step": s.last_step, "min": s.min, "min_step": s.min_step, "max": s.max,
            "max_step": s.max_step, "mean": s.mean, "count": s.count, "finite_count": s.finite_count,
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"Summary({dict(self)!r})"


def _time(ts: Timestamp) -> datetime | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime(tzinfo=timezone.utc)


class Run(RunExtras):
    """A run as the query API returns it (strata.init() returns the writing Run). `name` is the display
    name (W&B), `resource_name` "entities/e/projects/p/runs/id", `path` "e/p/id". Edit name, tags,
    notes, config and summary, then `update()`; `delete()` removes it (see _api_extras)."""

    def __init__(self, api: Api, msg: run_pb2.Run) -> None:
        self._api = api
        self._reload(msg)

    def _reload(self, msg: run_pb2.Run) -> None:
        self._msg = msg
        parts = msg.name.split("/")
        self.entity, self.project, self.id = parts[1], parts[3], msg.run_id
        self.resource_name, self.path = msg.name, f"{self.entity}/{self.project}/{self.id}"
        self.name, self.job_type, self.group = msg.display_name, msg.job_type, msg.group
        self.state = STATE_NAMES.get(msg.state, "unspecified")
        self.tags, self.notes, self.user = list(msg.tags), msg.notes, msg.author.name
        self.created_at, self.heartbeat_at = _time(msg.create_time), _time(msg.heartbeat_time)
        self.finished_at = _time(msg.finish_time)
        stored = json.loads(msg.config_json) if msg.config_json else {}
        self.config, self._metric_defs = split_config(stored)
        self.summary = Summary(msg, self._metric_defs)

    @property
    def display_name(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Run {self.path} ({self.state})>"

    @property
    def proto(self) -> run_pb2.Run:
        return self._msg

    def keys(self) -> list[dict[str, Any]]:
        """The run's metric keys with point counts and step ranges."""
        resp = self._api.client.query.ListMetricKeys(q.ListMetricKeysRequest(run=self.resource_name))
        return [
            {"key": k.key, "count": k.count, "min_step": k.min_step, "max_step": k.max_step}
            for k in resp.keys
        ]

    def media_keys(self) -> list[dict[str, Any]]:
        """The run's rich-value keys: key, type, count, first_step, last_step."""
        from . import _media_read

        return _media_read.media_keys(self._api.client, self.resource_name)

    def media(self, key: str, min_step: int | None = None, max_step: int | None = None) -> list[Any]:
        """The rich values logged under `key` (latest step first), as strata.sdk._media_read.MediaValue."""
        from . import _media_read

        return _media_read.media(self._api.client, self.resource_name, key, min_step, max_step)

    def table(self, key: str, step: int | None = None, index: int = 0) -> Any:
        """A table logged under `key` (the latest one unless `step` is given), read as columns."""
        from . import _media_read

        return _media_read.table(self._api.client, self.resource_name, key, step, index)

    def _keys(self, keys: Sequence[str] | str | None) -> list[str]:
        if keys is None:  # every logged key (not summary-only ones)
            return [k["key"] for k in self.keys() if k["count"] > 0]
        return [keys] if isinstance(keys, str) else list(keys)

    def history(
        self,
        keys: Sequence[str] | str | None = None,
        samples: int = 500,
        min_step: int | None = None,
        max_step: int | None = None,
        x_axis: str | None = None,
        pandas: bool = True,
    ) -> Any:
        """Sampled history, about `samples` rows (deterministic; first/last points and per-bucket
        extremes kept): W&B's DataFrame shape, one row per step with `_step`, `_timestamp` and one
        column per key (and the x_axis key's values when x_axis names a key; by default the
        step_metric define_metric gave these keys). pandas=False returns a list of row dicts."""
        names = self._keys(keys)
        x_axis = x_axis or default_x_axis(self._metric_defs, names)
        req = q.GetHistoryRequest(run=self.resource_name, keys=names, samples=samples, x_axis=x_axis)
        if min_step is not None:
            req.min_step = min_step
        if max_step is not None:
            req.max_step = max_step
        series = list(self._api.client.query.GetHistory(req).series)
        if not pandas:
            return _rows(series, x_axis)
        return _series_frame(series, x_axis)

    def scan_history(
        self,
        keys: Sequence[str] | str | None = None,
        page_size: int = 10_000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every point, in step order, as row dicts {"_step", "_timestamp", key: value, ...}; one row per
        step (a step logged twice shows its last value). Streams page by page: constant memory."""
        req = q.ScanHistoryRequest(run=self.resource_name, keys=self._keys(keys), page_size=page_size)
        if min_step is not None:
            req.min_step = min_step
        if max_step is not None:
            req.max_step = max_step
        row: dict[str, Any] | None = None
        for page in self._api.client.query.ScanHistory(req):
            for point_step, key, value, t in _page_points(page.series):
                if row is not None and row["_step"] != point_step:
                    yield row
                    row = None
                if row is None:
                    row = {"_step": point_step, "_timestamp": t}
                row[key] = value
        if row is not None:
            yield row

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "run_id": self.id, "path": self.path, "name": self.name, "display_name": self.name, "state": self.state,
            "job_type": self.job_type, "group": self.group, "tags": self.tags, "user": self.user,
            "created_at": self.created_at,
        }  # fmt: skip
        row.update({f"config.{k}": v for k, v in _flatten(self.config).items()})
        row.update({f"summary.{k}": self.summary.get(k) for k in self.summary})
        return row


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in config.items():
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _page_points(series: Sequence[Any]) -> Iterator[tuple[int, str, float, float]]:
    """Points of one ScanHistory page merged across keys in step order."""
    merged = [
        (st, i, s.key, v, t)
        for i, s in enumerate(series)
        for st, v, t in zip(s.steps, s.values, s.times, strict=True)
    ]
    merged.sort(key=lambda p: (p[0], p[1]))
    for st, _, key, v, t in merged:
        yield st, key, v, t


def _rows(series: Sequence[Any], x_axis: str = "_step") -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for s in series:
        xs = list(s.x_values) or [None] * len(s.steps)
        for st, v, t, x in zip(s.steps, s.values, s.times, xs, strict=True):
            row = rows.setdefault(st, {"_step": st, "_timestamp": t})
            row[s.key] = v
            if x is not None:
                row[x_axis] = x
    return [rows[k] for k in sorted(rows)]


def _series_frame(series: Sequence[Any], x_axis: str = "_step") -> Any:
    pd = _pandas()
    rows = _rows(series, x_axis)
    columns = ["_step", "_timestamp", *dict.fromkeys(s.key for s in series)]
    if x_axis not in ("_step", "_timestamp") and x_axis not in columns:
        columns.append(x_axis)
    return pd.DataFrame(rows, columns=columns)
