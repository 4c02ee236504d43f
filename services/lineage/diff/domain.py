"""Version diffs: "why did accuracy drop in v12?"

For two versions of one artifact: the manifest diff (files added, removed, or changed by digest or
reference), the metadata diff (top-level keys whose JSON values differ), and the upstream-lineage
diff: both versions' upstream graphs are walked (store-side, like TraceUpstream) and, artifact by
artifact, the versions found on one side only are paired up (oldest with oldest), each with the
nearest depth where it appears. `origin` marks where a difference started (see _origins): when a
clean dataset differs only because the tokenizer that made it was swapped, the tokenizer is the
origin and the dataset is not.

No gRPC and no SQL here (SQL is in store.py); the whole diff reads one snapshot opened here.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field

from ...common.errors import InvalidArgument, Reason
from ...common.runs import run_name
from ..model import MAX_DEPTH, Direction, Graph, NodeKey, NodeKind, TraversalOptions
from ..nodes.domain import Caller, Reader, resolve_version, snapshot
from ..trace.domain import bounded, trace
from . import store

DEFAULT_DIFF_DEPTH = 10
DEFAULT_MANIFEST_CHANGES, MAX_MANIFEST_CHANGES = 1000, 100_000
LINEAGE_NODE_CAP = 10_000  # per side; lineages beyond that are compared on what was reached


@dataclass(frozen=True)
class FileChange:
    path: str
    change: str  # "added" | "removed" | "modified"
    old_sha256: str = ""
    new_sha256: str = ""
    old_size: int = 0
    new_size: int = 0
    old_reference_uri: str = ""
    new_reference_uri: str = ""


@dataclass(frozen=True)
class MetadataChange:
    key: str
    old_value_json: str  # "" when absent
    new_value_json: str


@dataclass(frozen=True)
class ConfigChange:
    key: str  # dotted path into the nested config
    old_value_json: str  # "" when absent
    new_value_json: str


@dataclass(frozen=True)
class InputChange:
    artifact: str
    old_version: str  # resource names; "" when absent on that side
    new_version: str
    depth: int
    origin: bool


@dataclass
class VersionDiff:
    old_version: str
    new_version: str
    files: list[FileChange] = field(default_factory=list)
    files_added: int = 0
    files_removed: int = 0
    files_changed: int = 0
    files_truncated: bool = False
    metadata: list[MetadataChange] = field(default_factory=list)
    inputs: list[InputChange] = field(default_factory=list)
    old_producer: str = ""  # run resource names; "" when unknown or not readable
    new_producer: str = ""
    config: list[ConfigChange] = field(default_factory=list)


async def diff_versions(
    caller: Caller, old_value: str, new_value: str, max_depth: int, max_changes: int
) -> VersionDiff:
    """What differs between two versions of one artifact, in one snapshot."""
    async with snapshot(caller) as reader:
        return await _diff(reader, old_value, new_value, max_depth, max_changes)


async def _diff(
    reader: Reader, old_value: str, new_value: str, max_depth: int, max_changes: int
) -> VersionDiff:
    depth = bounded(max_depth, DEFAULT_DIFF_DEPTH, MAX_DEPTH, "max_depth")
    limit = bounded(max_changes, DEFAULT_MANIFEST_CHANGES, MAX_MANIFEST_CHANGES, "max_manifest_changes")
    old = await resolve_version(reader, old_value, "old_version")
    new = await resolve_version(reader, new_value, "new_version")
    if old.artifact_id != new.artifact_id:
        raise InvalidArgument(
            "new_version",
            Reason.DIFFERENT_ARTIFACTS,
            f"{old.name} and {new.name} are versions of different artifacts",
        )
    result = VersionDiff(old.name, new.name)
    await _diff_manifest(reader, old.key[1], new.key[1], limit, result)
    rows = await store.metadata_diff(reader.conn, old.key[1], new.key[1], reader.timeout)
    result.metadata = [MetadataChange(r["key"], r["old_value"] or "", r["new_value"] or "") for r in rows]
    opts = TraversalOptions(depth, LINEAGE_NODE_CAP)
    old_graph = await trace(reader, old, Direction.UPSTREAM, opts)
    new_graph = await trace(reader, new, Direction.UPSTREAM, opts)
    result.inputs = input_changes(old_graph, new_graph)
    old_run, new_run = await _producer(reader, old.key[1]), await _producer(reader, new.key[1])
    result.old_producer, result.new_producer = old_run[0], new_run[0]
    if old_run[0] and new_run[0]:
        result.config = config_changes(old_run[1], new_run[1])
    return result


async def _producer(reader: Reader, version_id: int) -> tuple[str, object]:
    """(run resource name, parsed config) of the version's producing run; ("", None) when there is
    none or the caller may not read its project (its config is not revealed then)."""
    row = await store.producer(reader.conn, version_id, reader.timeout)
    if row is None or not await reader.visibility.readable([row["project_id"]]):
        return "", None
    return run_name(row["entity"], row["project"], row["run_id"]), json.loads(row["config"])


def _flatten(value: object, prefix: str = "") -> dict[str, object]:
    """Nested dicts as {"a.b": leaf}; lists and scalars are leaves (compared whole)."""
    if isinstance(value, dict) and (value or not prefix):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: value}


def config_changes(old: object, new: object) -> list[ConfigChange]:
    """The config paths whose values differ, in key order (JSON equality: 1 == 1.0, true != 1)."""
    a, b = _flatten(old), _flatten(new)
    missing = object()
    changes = []
    for key in sorted(a.keys() | b.keys()):
        x, y = a.get(key, missing), b.get(key, missing)
        if x is not missing and y is not missing and _same(x, y):
            continue
        changes.append(
            ConfigChange(
                key,
                "" if x is missing else json.dumps(x, sort_keys=True),
                "" if y is missing else json.dumps(y, sort_keys=True),
            )
        )
    return changes


def _same(x: object, y: object) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    return x == y


async def _diff_manifest(reader: Reader, old_id: int, new_id: int, limit: int, out: VersionDiff) -> None:
    rows = await store.manifest_diff(reader.conn, old_id, new_id, limit, reader.timeout)
    for r in rows:
        change = "added" if not r["in_old"] else "removed" if not r["in_new"] else "modified"
        out.files.append(
            FileChange(
                r["path"],
                change,
                r["old_sha256"] or "",
                r["new_sha256"] or "",
                r["old_size"] or 0,
                r["new_size"] or 0,
                r["old_ref"] or "",
                r["new_ref"] or "",
            )
        )
    if rows:
        out.files_added, out.files_removed = rows[0]["added"], rows[0]["removed"]
        out.files_changed = rows[0]["changed"]
    out.files_truncated = out.files_added + out.files_removed + out.files_changed > len(rows)


def _inputs(graph: Graph) -> dict[str, dict[NodeKey, int]]:
    """artifact -> {version key: depth}, the compared version itself excluded."""
    out: dict[str, dict[NodeKey, int]] = defaultdict(dict)
    for n in graph.nodes[1:]:
        if n.kind is NodeKind.VERSION:
            out[n.artifact][n.key] = n.depth
    return out


def _reach(graph: Graph, sources: set[NodeKey], *, forward: bool) -> set[NodeKey]:
    """Nodes strictly downstream (forward) or upstream of any of `sources`, within the graph."""
    step: dict[NodeKey, list[NodeKey]] = defaultdict(list)
    for e in graph.edges:
        if forward:
            step[e.source].append(e.target)
        else:
            step[e.target].append(e.source)
    reached: set[NodeKey] = set()
    stack = [nxt for s in sources for nxt in step[s]]
    while stack:
        key = stack.pop()
        if key not in reached:
            reached.add(key)
            stack.extend(step[key])
    return reached


def _origins(graph: Graph, paired: set[NodeKey], unpaired: set[NodeKey]) -> set[NodeKey]:
    """Which differing inputs of one side are where a difference started.

    A version that changed (paired with another version of its artifact) is the origin unless some
    differing input lies upstream of it: then it merely inherited the change (a dataset re-made with
    a swapped tokenizer). An input present on this side only is the origin unless another one-sided
    input lies downstream of it: then it was only pulled in along with that one.
    """
    inherited = _reach(graph, paired | unpaired, forward=True)
    pulled_in = _reach(graph, unpaired, forward=False)
    return {k for k in paired if k not in inherited} | {k for k in unpaired if k not in pulled_in}


def input_changes(old: Graph, new: Graph) -> list[InputChange]:
    """Upstream artifacts whose versions differ between the two lineages, nearest first."""
    old_inputs, new_inputs = _inputs(old), _inputs(new)
    old_nodes, new_nodes = old.by_key(), new.by_key()
    pairs: list[tuple[str, NodeKey | None, NodeKey | None]] = []
    for artifact in sorted(old_inputs.keys() | new_inputs.keys()):
        o, n = old_inputs.get(artifact, {}), new_inputs.get(artifact, {})
        only_old = sorted((k for k in o if k not in n), key=lambda k: old_nodes[k].version)
        only_new = sorted((k for k in n if k not in o), key=lambda k: new_nodes[k].version)
        pairs.extend((artifact, a, b) for a, b in itertools.zip_longest(only_old, only_new))
    old_origins = _origins(old, {a for _, a, b in pairs if a and b}, {a for _, a, b in pairs if a and not b})
    new_origins = _origins(new, {b for _, a, b in pairs if a and b}, {b for _, a, b in pairs if b and not a})
    changes = []
    for artifact, a, b in pairs:
        depths = [old_nodes[a].depth] if a else []
        depths += [new_nodes[b].depth] if b else []
        changes.append(
            InputChange(
                artifact,
                old_nodes[a].name if a else "",
                new_nodes[b].name if b else "",
                min(depths),
                origin=(a is None or a in old_origins) and (b is None or b in new_origins),
            )
        )
    return sorted(changes, key=lambda c: (c.depth, c.artifact, c.old_version, c.new_version))
