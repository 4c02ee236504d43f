"""Mongo-style filter documents (W&B's public API dialect) -> a validated, typed filter tree.

Operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $regex (+ $options "i") $not, and the logical
$and $or $nor. `{"key": value}` means $eq; `{"key": {"$gt": 1, "$lt": 5}}` ANDs its operators.
Semantics follow MongoDB: a missing key matches $ne, $nin, $not and $nor but no comparison;
`{"key": null}` matches a missing key; on a list (tags, a config list) $eq/$in match any element.

Values are checked against the key's type (summary values are numbers, created_at takes ISO 8601,
Unix seconds or a time relative to the query, "-<n><unit>" with unit s, m, h, d or w: "-7d" is seven
days before now, state takes names such as "finished" or enum numbers) and every problem is an
INVALID_ARGUMENT with reason INVALID_FILTER (INVALID_JSON when the text does not parse). The tree is
then translated to parameterised SQL by sqlgen.py: values only ever travel as query parameters.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, cast

from ...common import jsonvalue
from ...common.errors import InvalidArgument, Reason
from ...common.runs import RUN_STATE_NAMES
from .attrs import Attr, PathError, parse_attr

MAX_FILTER_CHARS = 64 * 1024
MAX_DEPTH = 16
MAX_LEAVES = 256
MAX_LIST = 1000
MAX_STRING = 4096
MAX_SUMMARY_KEYS = 16

STATE_BY_NUMBER = RUN_STATE_NAMES
STATE_NAMES = {name: number for number, name in RUN_STATE_NAMES.items()}
TEXT_COLUMNS = ("group", "job_type", "user", "display_name", "run_id")
TIME_COLUMNS = ("created_at", "updated_at", "heartbeat_at", "finished_at")
COMPARISONS = ("$gt", "$gte", "$lt", "$lte")
FIELD_OPS = ("$eq", "$ne", "$in", "$nin", "$exists", "$regex", "$options", "$not", *COMPARISONS)


@dataclass(frozen=True)
class Leaf:
    """attr <op> value. op: eq, in, gt, gte, lt, lte, exists, regex. Values are normalized (state ->
    int, times -> datetime, config values stay JSON). For regex, value = (pattern, case_insensitive)."""

    attr: Attr
    op: str
    value: Any


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Leaf | Not | And | Or
MATCH_ALL = And(())


class FilterError(ValueError):
    pass


def parse_filter(text: str, field: str = "filter_json") -> Node:
    """Parse filter_json (empty: match everything) into a tree, or raise INVALID_ARGUMENT."""
    if not text.strip():
        return MATCH_ALL
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidArgument(field, Reason.INVALID_FILTER, f"filter is longer than {MAX_FILTER_CHARS} chars")
    try:
        doc = jsonvalue.parse(text, field, max_bytes=MAX_FILTER_CHARS * 4)
    except jsonvalue.JsonError as e:
        if e.syntax:
            raise
        raise InvalidArgument(field, Reason.INVALID_FILTER, e.message) from None
    try:
        return parse_document(doc)
    except (FilterError, PathError, RecursionError) as e:
        raise InvalidArgument(field, Reason.INVALID_FILTER, str(e) or "filter is too deep") from None


def parse_document(doc: object) -> Node:
    parser = _Parser()
    node = parser.document(doc, 0)
    if len(parser.summary_keys) > MAX_SUMMARY_KEYS:
        raise FilterError(f"a filter may use at most {MAX_SUMMARY_KEYS} different summary metrics")
    return node


class _Parser:
    def __init__(self) -> None:
        self.leaves = 0
        self.summary_keys: set[str] = set()

    def document(self, doc: object, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FilterError(f"filter nests deeper than {MAX_DEPTH} levels")
        if not isinstance(doc, dict):
            raise FilterError(f"a filter document must be a JSON object, not {_type(doc)}")
        parts: list[Node] = []
        for key, value in doc.items():
            if key in ("$and", "$or", "$nor"):
                children = tuple(self.document(d, depth + 1) for d in _non_empty_list(key, value))
                node: Node = And(children) if key == "$and" else Or(children)
                parts.append(Not(node) if key == "$nor" else node)
            elif key.startswith("$"):
                raise FilterError(f"unknown top-level operator {key[:40]!r} (use $and, $or, $nor)")
            else:
                parts.append(self.field(parse_attr(key), value, depth + 1))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def field(self, attr: Attr, value: object, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FilterError(f"filter nests deeper than {MAX_DEPTH} levels")
        if attr.kind == "summary":
            self.summary_keys.add(attr.path[0])
        if isinstance(value, dict) and any(k.startswith("$") for k in value):
            return self.operators(attr, value, depth)
        return self.leaf(attr, "eq", value)

    def operators(self, attr: Attr, ops: dict[str, Any], depth: int) -> Node:
        unknown = [k for k in ops if k not in FIELD_OPS]
        if unknown:
            raise FilterError(f"unknown operator {unknown[0][:40]!r} on {attr}")
        if "$options" in ops and "$regex" not in ops:
            raise FilterError("$options needs $regex")
        parts: list[Node] = []
        for op, operand in ops.items():
            if op == "$options":
                continue
            if op == "$not":
                if (
                    not isinstance(operand, dict)
                    or not operand
                    or not all(k.startswith("$") for k in operand)
                ):
                    raise FilterError(f"$not on {attr} takes an operator document, e.g. {{'$gt': 1}}")
                parts.append(Not(self.operators(attr, operand, depth + 1)))
            elif op == "$ne":
                parts.append(Not(self.leaf(attr, "eq", operand)))
            elif op == "$nin":
                parts.append(Not(self.leaf(attr, "in", operand)))
            elif op == "$regex":
                parts.append(self.leaf(attr, "regex", (operand, ops.get("$options", ""))))
            else:
                parts.append(self.leaf(attr, op[1:], operand))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def leaf(self, attr: Attr, op: str, operand: object) -> Node:
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise FilterError(f"a filter may have at most {MAX_LEAVES} conditions")
        return _typed_leaf(attr, op, operand)


def _typed_leaf(attr: Attr, op: str, operand: object) -> Node:
    if op == "exists":
        if not isinstance(operand, (bool, int)) or isinstance(operand, float):
            raise FilterError(f"$exists on {attr} takes true or false")
        return Leaf(attr, "exists", bool(operand))
    if op == "in":
        values = _list(attr, operand)
        return Leaf(attr, "in", tuple(_value(attr, v, "$in") for v in values))
    if op == "regex":
        pattern, options = cast("tuple[object, object]", operand)  # leaf(attr, "regex", (pattern, options))
        return _regex_leaf(attr, pattern, options)
    if op in ("gt", "gte", "lt", "lte"):
        if attr.kind == "column" and attr.name in ("state", "tags"):
            raise FilterError(f"${op} does not apply to {attr}")
        value = _value(attr, operand, f"${op}")
        if value is None or isinstance(value, (dict, list)):
            raise FilterError(f"${op} on {attr} needs a number, string or time, not {_type(operand)}")
        return Leaf(attr, op, value)
    return Leaf(attr, "eq", _value(attr, operand, "$eq"))


def _regex_leaf(attr: Attr, pattern: object, options: object) -> Node:
    if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_STRING:
        raise FilterError(f"$regex on {attr} takes a non-empty pattern string")
    _check_string(pattern)
    if not isinstance(options, str) or any(o != "i" for o in options):
        raise FilterError('$options supports only "i" (case-insensitive)')
    if attr.kind == "summary" or (attr.kind == "column" and attr.name in TIME_COLUMNS):
        raise FilterError(f"$regex does not apply to {attr} (not a string)")
    if attr.kind == "column" and attr.name == "state":
        try:
            compiled = re.compile(pattern, re.IGNORECASE if options else 0)
        except re.error as e:
            raise FilterError(f"invalid $regex {pattern[:80]!r}: {e}") from None
        matching = tuple(n for name, n in STATE_NAMES.items() if compiled.search(name))
        return Leaf(attr, "in", matching)
    return Leaf(attr, "regex", (pattern, bool(options)))


def _list(attr: Attr, operand: object) -> list[Any]:
    if not isinstance(operand, list):
        raise FilterError(f"$in/$nin on {attr} takes a list, not {_type(operand)}")
    if len(operand) > MAX_LIST:
        raise FilterError(f"$in/$nin lists have at most {MAX_LIST} values")
    return operand


def _value(attr: Attr, value: object, op: str) -> Any:
    """Normalize one operand for attr's type; None means 'missing/null'."""
    if value is None:
        return None
    if attr.kind == "config":
        return _json_value(value)
    if attr.kind == "summary":
        return _number(attr, value, op)
    name = attr.name
    if name == "state":
        return _state(value)
    if name == "tags":
        if op == "$eq" and isinstance(value, list):
            return tuple(_string(attr, v, op) for v in _list(attr, value))
        return _string(attr, value, op)
    if name in TIME_COLUMNS:
        return _time(attr, value)
    return _string(attr, value, op)


def _number(attr: Attr, value: object, op: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FilterError(f"{op} on {attr} needs a number (summary values are numbers), not {_type(value)}")
    number = float(value)
    if math.isnan(number):
        raise FilterError(f"{op} on {attr}: NaN is not comparable (NaN summaries count as missing)")
    return number


def _string(attr: Attr, value: object, op: str) -> str:
    if not isinstance(value, str):
        raise FilterError(f"{op} on {attr} needs a string, not {_type(value)}")
    return _check_string(value)


def _check_string(value: str) -> str:
    if len(value) > MAX_STRING:
        raise FilterError(f"strings in filters have at most {MAX_STRING} characters")
    if "\x00" in value:
        raise FilterError("strings in filters may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FilterError("strings in filters must be valid Unicode (no lone surrogates)") from None
    return value


def _json_value(value: object) -> object:
    """A config operand: any JSON value PostgreSQL jsonb can hold (no NaN/inf, no NUL)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise FilterError("config values in filters must be finite numbers")
    if isinstance(value, str):
        _check_string(value)
    elif isinstance(value, list):
        for v in value:
            _json_value(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_string(k)
            _json_value(v)
    return value


def _state(value: object) -> int:
    if isinstance(value, str):
        name = value.lower().removeprefix("run_state_")
        if name in STATE_NAMES:
            return STATE_NAMES[name]
    elif isinstance(value, int) and not isinstance(value, bool) and value in STATE_BY_NUMBER:
        return value
    names = ", ".join(STATE_NAMES)
    raise FilterError(f"state must be one of {names} (or RUN_STATE_* names / numbers), not {value!r:.80}")


_RELATIVE = re.compile(r"-(\d{1,9})([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class RelativeTime(datetime):
    """A time given relative to the moment the filter is parsed ("-7d": seven days before now). Its
    repr is the relative text, so a page token stays bound to the same filter as time passes."""

    text: str

    @classmethod
    def of(cls, text: str) -> RelativeTime:
        m = _RELATIVE.fullmatch(text)
        assert m is not None
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        at = datetime.now(timezone.utc) - timedelta(seconds=seconds)
        out = cls.fromtimestamp(at.timestamp(), tz=timezone.utc)
        out.text = text
        return out

    def __repr__(self) -> str:
        return f"RelativeTime({self.text!r})"


def _time(attr: Attr, value: object) -> datetime:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        if isinstance(value, str) and _RELATIVE.fullmatch(value.strip()):
            return RelativeTime.of(value.strip())
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    raise FilterError(f"{attr} takes an ISO 8601 time or Unix seconds, not {value!r:.80}")


def _non_empty_list(op: str, value: object) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise FilterError(f"{op} takes a non-empty list of filter documents")
    return value


def _type(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def summary_metrics(node: Node) -> set[str]:
    """Every summary metric the tree refers to."""
    if isinstance(node, Leaf):
        return {node.attr.path[0]} if node.attr.kind == "summary" else set()
    children = (node.child,) if isinstance(node, Not) else node.children
    return set().union(*(summary_metrics(c) for c in children)) if children else set()


def required_present(node: Node) -> set[Attr]:
    """Attributes every matching run must have (top-level conditions that fail on a missing value):
    their summary joins can be inner joins, and an order key among them has no 'missing' tail."""
    if isinstance(node, And):
        return set().union(*(required_present(c) for c in node.children)) if node.children else set()
    if isinstance(node, Leaf):
        if node.op == "exists":  # a summary row can exist with a missing value (NaN)
            return {node.attr} if node.value and node.attr.kind != "summary" else set()
        if node.op == "in":
            return set() if None in node.value or not node.value else {node.attr}
        if node.op == "eq" and node.value is None:
            return set()
        return {node.attr}
    return set()


def regex_patterns(node: Node) -> list[str]:
    """Every $regex pattern in the tree (checked by PostgreSQL before a search runs)."""
    if isinstance(node, Leaf):
        return [node.value[0]] if node.op == "regex" else []
    children = (node.child,) if isinstance(node, Not) else node.children
    return [p for c in children for p in regex_patterns(c)]
