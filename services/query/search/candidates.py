"""Candidate runs from the side indexes (query migration 0003) for filters no index on `runs` answers.

Two kinds of top-level condition (ANDed at the top of the filter) have an index path:

* a numeric range on a config key (`config.lr > 0.01`, `$gte`/`$lt`/... on one path, combined): an
  index range scan on run_config_numbers (key, num);
* a $regex on display_name, run_id, job_type, group, user, tags or a config key: the regex's required
  literals (regex_literals.py) become trigram codes, and the GIN index of run_text_trigrams yields the
  runs whose text holds all of them (for some alternative of the regex).

`candidate_ids` probes each such condition (at most MAX_PROBES), reading at most CAP + 1 ids, and
returns the smallest set when it holds at most CAP runs: the search then reads only those runs and
applies the whole filter to them. Every set is a superset of the runs that satisfy its condition, so
the result is exactly the filter's result. None means no selective index path: the search scans.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ...common.db import Conn
from .filters import And, Leaf, Node
from .regex_literals import required_literals
from .sqlgen import RANGE_OPS

CAP = 20_000
MAX_PROBES = 4
MAX_DEPTH = 6  # config paths strata_config_leaves reaches (query/0003)
TEXT_FIELDS = {"display_name", "run_id", "job_type", "group", "user", "tags"}
# A path segment PostgreSQL's `#>` may read as a list index (strtol: spaces, a sign, digits).
_INDEX_LIKE = re.compile(r" *[+-]?[0-9]+")


@dataclass(frozen=True)
class Probe:
    query: str  # selects run ids; parameters $1.. are `params`
    params: list[Any]
    bounded: bool  # an index range scan that stops at the LIMIT (a GIN bitmap scan reads it all first)


def probes(project_id: int, node: Node, ci_safe: bool) -> list[Probe]:
    """The index probes of node's top-level conditions (numeric config ranges merged per path)."""
    leaves = _conjuncts(node)
    out: list[Probe] = []
    ranges: dict[tuple[str, ...], list[Leaf]] = {}
    for leaf in leaves:
        if _numeric_range(leaf):
            ranges.setdefault(leaf.attr.path, []).append(leaf)
        elif leaf.op == "regex":
            probe = _regex_probe(project_id, leaf, ci_safe)
            if probe is not None:
                out.append(probe)
    out[:0] = [_range_probe(project_id, path, group) for path, group in ranges.items()]
    return out[:MAX_PROBES]


async def candidate_ids(
    conn: Conn, project_id: int, node: Node, timeout: float, cap: int | None = None, bounded: bool = False
) -> list[int] | None:
    """The smallest probe's run ids when some probe finds at most `cap` (default CAP) runs, else None.
    With `bounded`, only probes whose cost is bounded by the cap (range scans, not regex trigrams,
    whose GIN bitmap covers every run holding a common literal): for a probe that may well fail."""
    cap = CAP if cap is None else min(cap, CAP)
    found = probes(project_id, node, await case_insensitive_safe(conn, timeout))
    found = [p for p in found if p.bounded or not bounded]
    best: list[int] | None = None
    for probe in found:
        rows = await conn.fetch(f"{probe.query} LIMIT {max(cap + 1, 0)}", *probe.params, timeout=timeout)
        if len(rows) <= cap and (best is None or len(rows) < len(best)):
            best = [r[0] for r in rows]
            if len(best) < 100:
                break
    return best


def _conjuncts(node: Node) -> list[Leaf]:
    if isinstance(node, And):
        return [leaf for c in node.children for leaf in _conjuncts(c)]
    return [node] if isinstance(node, Leaf) else []


def _indexable_path(path: tuple[str, ...]) -> bool:
    """Paths strata_config_leaves indexes: objects only, at most MAX_DEPTH keys."""
    return 0 < len(path) <= MAX_DEPTH and not any(_INDEX_LIKE.fullmatch(p) for p in path)


def _numeric_range(leaf: Leaf) -> bool:
    return (
        leaf.attr.kind == "config"
        and leaf.op in RANGE_OPS
        and isinstance(leaf.value, (int, float))
        and not isinstance(leaf.value, bool)
        and _indexable_path(leaf.attr.path)
    )


def _range_probe(project_id: int, path: tuple[str, ...], leaves: list[Leaf]) -> Probe:
    """Runs with a number at path within all bounds, compared non-strictly on the float8 image (a
    monotone rounding: `x > v` implies f(x) >= f(v)), so no matching run is left out."""
    params: list[Any] = [project_id, list(path)]
    conds = ["key = strata_config_key($1::int8, $2::text[])"]
    for leaf in leaves:
        params.append(json.dumps(leaf.value))
        op = ">=" if leaf.op in ("gt", "gte") else "<="
        conds.append(f"num {op} strata_config_number(${len(params)}::jsonb)")
    return Probe(f"SELECT run_id FROM run_config_numbers WHERE {' AND '.join(conds)}", params, True)


def _field(leaf: Leaf) -> tuple[str, Any] | None:
    """(SQL of the trigram field for parameter $2, the parameter) of a regex leaf, or None."""
    attr = leaf.attr
    if attr.kind == "column" and attr.name in TEXT_FIELDS:
        return "$2::text", attr.name
    if attr.kind == "config" and _indexable_path(attr.path):
        return "strata_config_field($2::text[])", list(attr.path)
    return None


def _regex_probe(project_id: int, leaf: Leaf, ci_safe: bool) -> Probe | None:
    found = _field(leaf)
    pattern, case_insensitive = leaf.value
    if found is None or (case_insensitive and not ci_safe):
        return None
    branches = required_literals(pattern)
    if branches is None:
        return None
    if case_insensitive:
        branches = [_ascii_pieces(b) for b in branches]
        if not all(branches):
            return None
    field, value = found
    params: list[Any] = [project_id, value]
    alternatives = []
    for literals in branches:
        params.append(literals)
        alternatives.append(f"codes @> strata_literal_codes($1::int8, {field}, ${len(params)}::text[])")
    long_value = f"codes @> strata_trigram_codes($1::int8, {field}, repeat('x', strata_trigram_limit() + 1))"
    where = " OR ".join([*alternatives, long_value])
    return Probe(f"SELECT run_id FROM run_text_trigrams WHERE {where}", params, False)


def _ascii_pieces(literals: list[str]) -> list[str]:
    """For a case-insensitive regex: the parts of each literal made of ASCII characters only (the
    folding of the index is ASCII-only; other letters may match in another case)."""
    out = []
    for lit in literals:
        out += [p for p in re.split(r"[^\x00-\x7f]+", lit) if len(p) >= 3]
    return out


_ci_safe: bool | None = None


async def case_insensitive_safe(conn: Conn, timeout: float) -> bool:
    """Whether an ASCII letter of a `~*` pattern matches only ASCII letters of a value in this
    database (not so in a Turkish locale, where pattern "i" matches "İ"): then the ASCII-only folding
    serves case-insensitive regexes (their literals keep only ASCII characters; a non-ASCII pattern
    letter may match an ASCII one, "İ" matches "i", so it is never part of a literal). Checked once
    per process."""
    global _ci_safe
    if _ci_safe is None:
        _ci_safe = not await conn.fetchval(
            "SELECT chr(304) ~* 'i' OR chr(305) ~* 'i' OR chr(8490) ~* 'k' OR chr(383) ~* 's'",
            timeout=timeout,
        )
    return _ci_safe
