"""Run attribute paths: the keys of filter documents, order_by, fields and group_by.

Grammar (validated here; nothing a user types ever becomes SQL text):

  path     := column | "config." cpath | "summary." spath
  column   := state | tags | group | job_type | user | display_name | run_id
              | created_at | updated_at | heartbeat_at | finished_at         (+ a few W&B aliases)
  cpath    := segment ("." segment)*          nested config keys; a segment is bare text without
                                              "." or "`", or `quoted` (`` `` `` inside is one "`")
  spath    := metric [ "." agg ] | `metric` [ "." agg ]
  agg      := min | max | mean | last | count

Metric keys contain "/" and "." (e.g. "val/f1", "loss.scaled"). In `summary.<rest>` everything after
"summary." is the metric key, except a trailing ".min", ".max", ".mean", ".last" or ".count", which
selects that aggregate. To name a metric whose key itself ends in one of those (a metric called
"x.min"), quote it: summary.`x.min` (its value) or summary.`x.min`.max (its maximum).

`summary.<metric>` is the value a run shows: the summary override when it is a number, else the
last logged value; NaN counts as missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strata.wire.metric_keys import KEY_RE  # the metric-key grammar ingest and the SDK use

from ...common.errors import InvalidArgument, Reason

COLUMNS = {
    "state": "state",
    "tags": "tags",
    "group": "group",
    "run_group": "group",
    "job_type": "job_type",
    "jobType": "job_type",
    "user": "user",
    "username": "user",
    "author": "user",
    "display_name": "display_name",
    "displayName": "display_name",
    "run_id": "run_id",
    "id": "run_id",
    "created_at": "created_at",
    "createdAt": "created_at",
    "create_time": "created_at",
    "updated_at": "updated_at",
    "updatedAt": "updated_at",
    "update_time": "updated_at",
    "heartbeat_at": "heartbeat_at",
    "heartbeatAt": "heartbeat_at",
    "heartbeat_time": "heartbeat_at",
    "finished_at": "finished_at",
    "finish_time": "finished_at",
}
AGGREGATES = ("min", "max", "mean", "last", "count")
MAX_PATH_CHARS = 1024
MAX_SEGMENTS = 32
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Attr:
    """A validated attribute. kind: "column" (name), "config" (path), "summary" (metric, agg)."""

    kind: str
    name: str = ""
    path: tuple[str, ...] = ()
    agg: str = "value"

    @property
    def nullable(self) -> bool:
        return self.kind in ("config", "summary") or self.name == "finished_at"

    def __str__(self) -> str:
        if self.kind == "column":
            return self.name
        if self.kind == "config":
            return "config." + ".".join(_quote(p) if ("." in p or "`" in p) else p for p in self.path)
        metric = self.path[0]
        text = "summary." + (_quote(metric) if _needs_quotes(metric) else metric)
        return text if self.agg == "value" else f"{text}.{self.agg}"


def _quote(segment: str) -> str:
    return "`" + segment.replace("`", "``") + "`"


def _needs_quotes(metric: str) -> bool:
    return any(metric.endswith("." + a) for a in AGGREGATES)


class PathError(ValueError):
    pass


def parse_attr(text: object) -> Attr:
    """Parse a path; raises PathError (callers turn it into INVALID_ARGUMENT for their field)."""
    if not isinstance(text, str) or not text:
        raise PathError("a key must be a non-empty string")
    if len(text) > MAX_PATH_CHARS or _CONTROL.search(text):
        raise PathError(f"key {text[:80]!r} is too long or contains control characters")
    root, dot, rest = text.partition(".")
    if root in ("config", "summary", "summary_metrics") and not rest:
        raise PathError(f"{root!r} needs a key after it, e.g. {root}.lr")
    if root == "config":
        return Attr("config", path=tuple(_segments(rest)))
    if root in ("summary", "summary_metrics"):
        metric, agg = _summary(rest)
        return Attr("summary", path=(metric,), agg=agg)
    if not dot and text in COLUMNS:
        return Attr("column", name=COLUMNS[text])
    raise PathError(
        f"unknown key {text[:80]!r}: use config.<key>, summary.<metric> or one of {sorted(set(COLUMNS.values()))}"
    )


def _segments(rest: str) -> list[str]:
    """Split a dotted path into segments; `quoted` segments may contain dots."""
    out: list[str] = []
    i, n = 0, len(rest)
    while True:
        if i < n and rest[i] == "`":
            segment, i = _quoted(rest, i)
        else:
            j = i
            while j < n and rest[j] not in ".`":
                j += 1
            segment, i = rest[i:j], j
        if not segment:
            raise PathError(f"empty segment in {rest[:80]!r}")
        out.append(segment)
        if i == n:
            break
        if rest[i] != ".":
            raise PathError(f"unexpected {rest[i]!r} in {rest[:80]!r}: quote the whole segment")
        i += 1
    if len(out) > MAX_SEGMENTS:
        raise PathError(f"a key has at most {MAX_SEGMENTS} segments")
    return out


def _quoted(text: str, i: int) -> tuple[str, int]:
    """Read `...` starting at text[i] == "`"; returns (content, index after the closing quote)."""
    buf: list[str] = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == "`":
            if i + 1 < len(text) and text[i + 1] == "`":
                buf.append("`")
                i += 2
                continue
            return "".join(buf), i + 1
        buf.append(c)
        i += 1
    raise PathError(f"unterminated ` quote in {text[:80]!r}")


def _summary(rest: str) -> tuple[str, str]:
    if rest.startswith("`"):
        metric, i = _quoted(rest, 0)
        tail = rest[i:]
        if tail and (not tail.startswith(".") or tail[1:] not in AGGREGATES):
            raise PathError(f"after a quoted metric only .{'|.'.join(AGGREGATES)} may follow, not {tail!r}")
        agg = tail[1:] if tail else "value"
    else:
        metric, agg = rest, "value"
        head, dot, last = rest.rpartition(".")
        if dot and head and last in AGGREGATES:
            metric, agg = head, last
    if not KEY_RE.fullmatch(metric):
        raise PathError(f"metric key {metric[:80]!r} must be 1-256 characters of [A-Za-z0-9_./-:() ]")
    return metric, agg


def check_metric_key(key: str, field: str) -> str:
    """A metric key as GetHistory & co. take it (the ingest grammar, plus the reserved _timestamp)."""
    if not KEY_RE.fullmatch(key) and key not in ("_runtime", "_timestamp"):
        raise InvalidArgument(
            field, Reason.INVALID_NAME, f"{key[:80]!r} is not a metric key ([A-Za-z0-9_./-:() ])"
        )
    return key


def attr_or_invalid(text: object, field: str, reason: str) -> Attr:
    try:
        return parse_attr(text)
    except PathError as e:
        raise InvalidArgument(field, reason, str(e)) from None


@dataclass(frozen=True)
class OrderKey:
    attr: Attr
    descending: bool

    def __str__(self) -> str:
        return ("-" if self.descending else "+") + str(self.attr)


MAX_ORDER_KEYS = 8


def parse_order(order_by: list[str]) -> list[OrderKey]:
    """["-summary.val/f1", "created_at"] -> keys; the default is -created_at."""
    if len(order_by) > MAX_ORDER_KEYS:
        raise InvalidArgument("order_by", Reason.INVALID_ORDER, f"at most {MAX_ORDER_KEYS} order keys")
    keys = []
    for text in order_by:
        descending = text.startswith("-")
        body = text[1:] if text[:1] in ("+", "-") else text
        attr = attr_or_invalid(body, "order_by", Reason.INVALID_ORDER)
        if attr.kind == "column" and attr.name == "tags":
            raise InvalidArgument("order_by", Reason.INVALID_ORDER, "cannot order by tags (a list)")
        keys.append(OrderKey(attr, descending))
    if len({str(k.attr) for k in keys}) != len(keys):
        raise InvalidArgument("order_by", Reason.INVALID_ORDER, "an order key appears twice")
    return keys or [OrderKey(Attr("column", name="created_at"), True)]
