"""Filter trees and order keys -> parameterised SQL over `runs r` and `metric_keys` joins.

Only fixed SQL fragments written here become SQL text; every user-supplied value (filter operands,
config paths, metric keys, cursor values) is appended to `Sql.params` and referenced as `$n::type`.

Three-valued logic: in a positive context NULL (a missing value) behaves as false, which is Mongo's
semantics for comparisons; negations ($ne, $nin, $not, $nor) are written NOT COALESCE(x, false) so a
missing value matches them, as in Mongo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .attrs import Attr, OrderKey
from .containment import containment_docs
from .filters import TEXT_COLUMNS, And, Leaf, Node, Not, Or

COLUMN_SQL = {
    "state": "r.state",
    "tags": "r.tags",
    "group": "r.run_group",
    "job_type": "r.job_type",
    "user": "r.author_name",
    "display_name": "r.display_name",
    "run_id": "r.run_id",
    "created_at": "r.create_time",
    "updated_at": "r.update_time",
    "heartbeat_at": "r.heartbeat_time",
    "finished_at": "r.finish_time",
}
COLUMN_TYPE = {"state": "smallint", "tags": "text[]", "finished_at": "timestamptz"}
COLUMN_TYPE |= {c: "timestamptz" for c in ("created_at", "updated_at", "heartbeat_at")}
COLUMN_TYPE |= {c: "text" for c in TEXT_COLUMNS}
SUMMARY_VALUE = "strata_summary_value({a}.last, {a}.override)"
SUMMARY_SQL = {
    "value": SUMMARY_VALUE,
    "last": "NULLIF({a}.last, 'NaN'::float8)",
    "min": "{a}.min",
    "max": "{a}.max",
    "mean": "({a}.sum / NULLIF({a}.finite_count, 0))",
    "count": "{a}.count::float8",
}
RANGE_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass
class Sql:
    """Collects parameters; `metric_alias` maps summary metric keys to their metric_keys alias."""

    params: list[Any] = field(default_factory=list)
    metric_alias: dict[str, str] = field(default_factory=dict)

    def param(self, value: Any, cast: str) -> str:
        self.params.append(value)
        return f"${len(self.params)}::{cast}"

    def alias(self, metric: str) -> str:
        if metric not in self.metric_alias:
            self.metric_alias[metric] = f"s{len(self.metric_alias)}"
        return self.metric_alias[metric]

    def expr(self, attr: Attr) -> str:
        if attr.kind == "column":
            return COLUMN_SQL[attr.name]
        if attr.kind == "config":
            return f"(r.config #> {self.param(list(attr.path), 'text[]')})"
        return SUMMARY_SQL[attr.agg].format(a=self.alias(attr.path[0]))

    def joins(self, inner: set[str]) -> str:
        """JOIN clauses for every metric alias used so far (inner for metrics that must exist)."""
        parts = []
        for metric, a in self.metric_alias.items():
            kind = "JOIN" if metric in inner else "LEFT JOIN"
            parts.append(
                f"{kind} metric_keys {a} ON {a}.run_id = r.id AND {a}.key = {self.param(metric, 'text')}"
            )
        return " ".join(parts)


def where(sql: Sql, node: Node) -> str:
    if isinstance(node, And):
        return "(" + " AND ".join(where(sql, c) for c in node.children) + ")" if node.children else "true"
    if isinstance(node, Or):
        return "(" + " OR ".join(where(sql, c) for c in node.children) + ")"
    if isinstance(node, Not):
        return f"NOT COALESCE({where(sql, node.child)}, false)"
    return _leaf(sql, node)


def _leaf(sql: Sql, leaf: Leaf) -> str:
    attr = leaf.attr
    if attr.kind == "config":
        return _config_leaf(sql, leaf)
    if attr.kind == "summary":
        return _summary_leaf(sql, leaf)
    if leaf.op == "exists":
        return _column_exists(attr.name) if leaf.value else f"NOT {_column_exists(attr.name)}"
    col, cast = COLUMN_SQL[attr.name], COLUMN_TYPE[attr.name]
    if attr.name == "tags":
        return _tags_leaf(sql, leaf)
    if leaf.op == "eq":
        return _column_missing(attr.name) if leaf.value is None else f"{col} = {sql.param(leaf.value, cast)}"
    if leaf.op == "in":
        present = [v for v in leaf.value if v is not None]
        test = f"{col} = ANY({sql.param(present, cast + '[]')})"
        return f"({test} OR {_column_missing(attr.name)})" if None in leaf.value else test
    guard = f"{col} <> '' AND " if cast == "text" else ""
    if leaf.op == "regex":
        pattern, ci = leaf.value
        return f"({guard}{col} {'~*' if ci else '~'} {sql.param(pattern, 'text')})"
    return f"({guard}{col} {RANGE_OPS[leaf.op]} {sql.param(leaf.value, cast)})"


def _column_exists(name: str) -> str:
    col = COLUMN_SQL[name]
    if name == "tags":
        return "(cardinality(r.tags) > 0)"
    if name == "finished_at":
        return "(r.finish_time IS NOT NULL)"
    return f"({col} <> '')" if COLUMN_TYPE[name] == "text" else "true"


def _column_missing(name: str) -> str:
    exists = _column_exists(name)
    return "false" if exists == "true" else f"NOT {exists}"


def _tags_leaf(sql: Sql, leaf: Leaf) -> str:
    if leaf.op == "eq":
        if leaf.value is None:
            return "(cardinality(r.tags) = 0)"
        if isinstance(leaf.value, tuple):
            return f"(r.tags = {sql.param(list(leaf.value), 'text[]')})"
        return (
            f"(r.tags @> ARRAY[{sql.param(leaf.value, 'text')}])"  # = ANY(r.tags), as the GIN index reads it
        )
    if leaf.op == "in":
        present = [v for v in leaf.value if v is not None]
        test = f"(r.tags && {sql.param(present, 'text[]')})"
        return f"({test} OR cardinality(r.tags) = 0)" if None in leaf.value else test
    pattern, ci = leaf.value  # regex: any tag matches
    op = "~*" if ci else "~"
    return f"EXISTS (SELECT 1 FROM unnest(r.tags) AS t(tag) WHERE t.tag {op} {sql.param(pattern, 'text')})"


def _summary_leaf(sql: Sql, leaf: Leaf) -> str:
    a = sql.alias(leaf.attr.path[0])
    if leaf.op == "exists":
        return f"({a}.run_id IS {'NOT ' if leaf.value else ''}NULL)"
    x = sql.expr(leaf.attr)
    if leaf.op == "eq":
        return f"({x} IS NULL)" if leaf.value is None else f"({x} = {sql.param(leaf.value, 'float8')})"
    if leaf.op == "in":
        present = [v for v in leaf.value if v is not None]
        test = f"({x} = ANY({sql.param(present, 'float8[]')}))"
        return f"({test} OR {x} IS NULL)" if None in leaf.value else test
    return f"({x} {RANGE_OPS[leaf.op]} {sql.param(leaf.value, 'float8')})"


def _config_leaf(sql: Sql, leaf: Leaf) -> str:
    if leaf.op == "in" and not leaf.value:
        return "false"  # (and no unused parameter: PostgreSQL could not type it)
    x = sql.expr(leaf.attr)
    if leaf.op == "exists":
        return f"({x} IS {'NOT ' if leaf.value else ''}NULL)"
    if leaf.op in ("eq", "in"):
        values = [leaf.value] if leaf.op == "eq" else list(leaf.value)
        tests = (
            [_config_equals(sql, x, [v for v in values if v is not None], leaf.attr.path)]
            if any(v is not None for v in values)
            else []
        )
        if None in values:
            tests.append(f"({x} IS NULL OR {x} = 'null'::jsonb)")
        return "(" + " OR ".join(tests) + ")" if tests else "false"
    if leaf.op == "regex":
        pattern, ci = leaf.value
        op = "~*" if ci else "~"
        return f"(jsonb_typeof({x}) = 'string' AND ({x} #>> '{{}}') {op} {sql.param(pattern, 'text')})"
    value = leaf.value
    kind = "boolean" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "string"
    return (
        f"(jsonb_typeof({x}) = '{kind}' AND {x} {RANGE_OPS[leaf.op]} {sql.param(json.dumps(value), 'jsonb')})"
    )


def _config_equals(sql: Sql, x: str, values: list[Any], path: tuple[str, ...] = ()) -> str:
    """Equal to one of the values, or (Mongo) a list containing one of them. With a path the
    containment prefilter of containment.py comes first, so the config GIN index can find the runs."""
    arr = sql.param([json.dumps(v) for v in values], "jsonb[]")
    exact = (
        f"({x} = ANY({arr}) OR (jsonb_typeof({x}) = 'array' AND EXISTS "
        f"(SELECT 1 FROM jsonb_array_elements({x}) AS e(v) WHERE e.v = ANY({arr}))))"
    )
    docs = containment_docs(path, values)
    if not docs:
        return exact
    return f"(r.config @> ANY({sql.param(docs, 'jsonb[]')}) AND {exact})"


# --- ordering and keyset pagination -----------------------------------------------------------


@dataclass(frozen=True)
class OrderExpr:
    sql: str
    descending: bool
    nullable: bool
    cast: str

    def clause(self) -> str:
        """Missing values sort last. A never-NULL expression gets the plain direction, which is what a
        btree yields scanning forward (ASC) or backward (DESC), so an index can supply the order."""
        direction = "DESC" if self.descending else "ASC"
        return f"{self.sql} {direction} NULLS LAST" if self.nullable else f"{self.sql} {direction}"


def order_exprs(sql: Sql, keys: list[OrderKey]) -> list[OrderExpr]:
    out = []
    for k in keys:
        cast = (
            "float8"
            if k.attr.kind == "summary"
            else "jsonb"
            if k.attr.kind == "config"
            else COLUMN_TYPE[k.attr.name]
        )
        out.append(OrderExpr(sql.expr(k.attr), k.descending, k.attr.nullable, cast))
    return out


def keyset_after(sql: Sql, exprs: list[OrderExpr], values: list[Any], run_pk: int, id_desc: bool) -> str:
    """Rows strictly after (values..., run_pk) in ORDER BY exprs (NULLS LAST), r.id."""
    terms: list[str] = []
    equal: list[str] = []
    for e, v in zip(exprs, values, strict=True):
        if v is not None:
            op = "<" if e.descending else ">"
            p = sql.param(v, e.cast)
            beyond = f"({e.sql} {op} {p} OR {e.sql} IS NULL)" if e.nullable else f"{e.sql} {op} {p}"
            terms.append(" AND ".join([*equal, beyond]))
            equal.append(f"{e.sql} = {p}")
        else:
            equal.append(f"{e.sql} IS NULL")
    terms.append(" AND ".join([*equal, f"r.id {'<' if id_desc else '>'} {sql.param(run_pk, 'int8')}"]))
    return "(" + " OR ".join(f"({t})" for t in terms) + ")"
