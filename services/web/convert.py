"""Protobuf messages -> JSON-ready dicts for the console's API (numbers stay numbers, NaN becomes null)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp
from strata.ingest.v1 import run_pb2
from strata.lineage.v1 import lineage_pb2
from strata.registry.v1 import artifact_pb2
from strata.wire.metric_keys import split_config


def num(x: float) -> float | str | None:
    """A float for JSON: NaN -> None, infinities -> "inf"/"-inf" strings."""
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def ts(t: Timestamp) -> float | None:
    """Seconds since the epoch, or None when unset."""
    return t.seconds + t.nanos / 1e9 if (t.seconds or t.nanos) else None


def picked(message: Any, *names: str) -> dict[str, Any]:
    """The named fields of `message` as they are, keyed by their names."""
    return {n: getattr(message, n) for n in names}


def enum_name(enum: Any, value: int, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower()


def loads(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def summary(s: run_pb2.MetricSummary) -> dict[str, Any]:
    override = loads(s.override_json) if s.override_json else None
    return {
        "last": override if s.override_json else num(s.last),
        "last_step": s.last_step,
        "min": num(s.min) if s.finite_count else None,
        "max": num(s.max) if s.finite_count else None,
        "mean": num(s.mean) if s.finite_count else None,
        "count": s.count,
    }


def run(r: run_pb2.Run) -> dict[str, Any]:
    prov = r.provenance
    stored = loads(r.config_json)
    config, definitions = split_config(stored if isinstance(stored, dict) else {})
    return {
        "name": r.name,
        "id": r.run_id,
        "display_name": r.display_name,
        "state": enum_name(run_pb2.RunState, r.state, "RUN_STATE_"),
        "job_type": r.job_type,
        "group": r.group,
        "tags": list(r.tags),
        "notes": r.notes,
        "config": config,
        "metric_definitions": definitions,  # run.define_metric: {name or glob: {step_metric, hidden, ...}}
        "summary": {s.key: summary(s) for s in r.summary},
        "user": r.author.name.removeprefix("entities/") if r.author.name else "",
        "provenance": {
            "os_user": prov.os_user,
            "host": prov.hostname,
            "git_commit": prov.git_commit,
            "git_dirty": prov.git_dirty,
            "git_remote": prov.git_remote,
            "command": " ".join(prov.command),
            "runtime": prov.runtime,
        },
        "create_time": ts(r.create_time),
        "heartbeat_time": ts(r.heartbeat_time),
        "finish_time": ts(r.finish_time),
        "exit_code": r.exit_code,
        "point_count": r.point_count,
    }


def floats(values: Any) -> list[Any]:
    """A repeated double as a JSON-ready list, converted in C (numpy) unless a NaN or inf needs mapping."""
    arr = np.asarray(values, dtype=np.float64)
    out: list[Any] = arr.tolist()
    return out if np.isfinite(arr).all() else [num(v) for v in out]


def _numbers_json(values: Any, fmt: str) -> str:
    """A JSON array of doubles with `fmt` significant digits: formatting each number is ~5x faster than
    json.dumps's shortest-repr floats, which dominated large chart answers. NaN -> null, inf -> "inf"."""
    arr = np.asarray(values, dtype=np.float64)
    if np.isfinite(arr).all():
        return "[" + ",".join(map(fmt.format, arr.tolist())) + "]"
    return json.dumps([num(v) if not math.isfinite(v) else float(fmt.format(v)) for v in arr.tolist()])


def series_json(s: Any, *, times: bool = True) -> str:
    """One MetricSeries as JSON text (the same fields as `series`), values to 7 significant digits."""
    parts = [
        f'"run":{json.dumps(s.run)}',
        f'"key":{json.dumps(s.key, ensure_ascii=False)}',
        f'"steps":[{",".join(map(str, s.steps))}]',
        f'"values":{_numbers_json(s.values, "{:.7g}")}',
        f'"total_points":{int(s.total_points)}',
    ]
    if times:
        parts.append(f'"times":{_numbers_json(s.times, "{:.13g}")}')
        parts.append(f'"x_values":{_numbers_json(s.x_values, "{:.7g}")}')
    return "{" + ",".join(parts) + "}"


def series(s: Any, *, times: bool = True) -> dict[str, Any]:
    """One MetricSeries; `times=False` leaves out wall times and x values (compare charts use steps)."""
    out = {
        "run": s.run,
        "key": s.key,
        "steps": np.asarray(s.steps, dtype=np.int64).tolist(),
        "values": floats(s.values),
        "total_points": s.total_points,
    }
    if times:
        out["times"] = np.asarray(s.times, dtype=np.float64).tolist()
        out["x_values"] = floats(s.x_values)
    return out


def artifact(a: artifact_pb2.Artifact) -> dict[str, Any]:
    return {
        "name": a.name,
        "id": a.name.rsplit("/", 1)[-1],
        **picked(a, "type", "description", "version_count", "latest_version"),
        "update_time": ts(a.update_time),
    }


def version(v: artifact_pb2.ArtifactVersion) -> dict[str, Any]:
    return {
        **picked(v, "name", "artifact", "type", "version"),
        "state": enum_name(artifact_pb2.ArtifactVersionState, v.state, "ARTIFACT_VERSION_STATE_"),
        "description": v.description,
        "metadata": loads(v.metadata_json) or {},
        "aliases": list(v.aliases),
        **picked(v, "file_count", "total_size", "producer_run"),
        "author": v.author.name,
        "provenance": {"host": v.provenance.hostname, "git_commit": v.provenance.git_commit},
        "commit_time": ts(v.commit_time),
        "expire_time": ts(v.expire_time),
    }


def manifest_entry(e: artifact_pb2.ManifestEntry) -> dict[str, Any]:
    if e.HasField("reference"):
        return {"path": e.path, "size": e.reference.size, "reference": e.reference.uri, "sha256": ""}
    return {"path": e.path, "size": e.blob.size, "sha256": e.blob.sha256, "reference": ""}


def alias(a: artifact_pb2.Alias) -> dict[str, Any]:
    return {**picked(a, "alias", "version", "revision", "protected"), "update_time": ts(a.update_time)}


def alias_event(e: artifact_pb2.AliasEvent) -> dict[str, Any]:
    return {
        **picked(e, "alias", "revision"),
        "kind": enum_name(artifact_pb2.AliasEventKind, e.kind, "ALIAS_EVENT_KIND_"),
        **picked(e, "from_version", "to_version"),
        "actor": e.actor.name,
        "reason": e.reason,
        "create_time": ts(e.create_time),
    }


def node(n: lineage_pb2.Node) -> dict[str, Any]:
    return {
        "name": n.name,
        "kind": "run" if n.kind == lineage_pb2.NODE_KIND_RUN else "version",
        **picked(n, "job_type", "artifact_type", "label", "depth", "state"),
    }


def edge(e: lineage_pb2.Edge) -> dict[str, Any]:
    kind = "produced" if e.kind == lineage_pb2.EDGE_KIND_PRODUCED else "used"
    return {"source": e.source, "target": e.target, "kind": kind}
