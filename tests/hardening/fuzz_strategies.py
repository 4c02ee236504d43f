"""Hypothesis strategies built from protobuf message descriptors, for the RPC fuzzer.

`messages(descriptor, seeds)` draws a serialized message of any request type: strings from a pool of
hostile values (U+0000, huge, deeply nested or non-finite JSON, malformed names) mixed with `seeds`
(names of resources that exist, so calls get past name checks, and the field names an update mask
may hold) and arbitrary text; integers at their
type's boundaries; doubles including NaN and infinities; unknown enum numbers; random bytes; nested
messages (to a bounded depth) and repeated fields. Values protobuf itself refuses (a lone surrogate in
a string) are dropped from the message; `raw_requests()` draws arbitrary bytes as a serialized request,
which covers invalid UTF-8 and truncated fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import descriptor as d
from google.protobuf import message_factory
from hypothesis import strategies as st

MAX_DEPTH = 3
INT_BOUNDS = {
    d.FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    d.FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
HOSTILE_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "x" * 70_000,
    "é" * 5000,
    "\u202e\x1b[31m",
    "../../etc/passwd",
    "entities/",
    "entities/admin/projects/",
    "entities/admin/projects/fuzz/runs/",
    "apiKeys/x",
    "{",
    "[]",
    "{}",
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": 1e400}',
    '{"a": ' + "9" * 400 + "}",
    '{"a": "\\u0000"}',
    '{"a": "\\ud800"}',
    '{"\\udfff": 1}',
    '{"a": ' + "[" * 3000 + "]" * 3000 + "}",
    "[" * 100_000,
    '{"$or": [' * 50 + "{}" + "]}" * 50,
    "9" * 5000,
    "-1",
    "latest",
    "v0",
    "v99999999999999999999",
    "a" * 64,
    "name:v1",
    "production",
]


def _pool(seeds: Sequence[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.sampled_from(list(seeds) or [""]),
        st.text(max_size=40),
        st.builds(lambda s, t: s + t, st.sampled_from(list(seeds) or [""]), st.text(max_size=12)),
    )


def _scalar(field: d.FieldDescriptor, strings: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    t = field.type
    if t == d.FieldDescriptor.TYPE_STRING:
        return strings
    if t == d.FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if t == d.FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
        return st.floats(
            allow_nan=True, allow_infinity=True, width=64 if t == d.FieldDescriptor.TYPE_DOUBLE else 32
        )
    if t == d.FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), st.sampled_from([-1, 99, 2**31 - 1]))
    lo, hi = INT_BOUNDS[t]
    edges = sorted({lo, hi, 0, 1, -1 if lo < 0 else 2, lo + 1, hi - 1, 2**53 + 1 if hi > 2**53 else hi})
    return st.one_of(st.sampled_from(edges), st.integers(lo, hi))


def _value(field: d.FieldDescriptor, strings: st.SearchStrategy[str], depth: int) -> st.SearchStrategy[Any]:
    if field.type == d.FieldDescriptor.TYPE_MESSAGE:
        return _fields(field.message_type, strings, depth + 1)
    return _scalar(field, strings)


def _fields(desc: d.Descriptor, strings: st.SearchStrategy[str], depth: int) -> st.SearchStrategy[dict]:
    """A dict {field name: value or list of values}; fields are left out at random (and past MAX_DEPTH)."""
    if depth > MAX_DEPTH:
        return st.just({})
    parts = {}
    for field in desc.fields:
        value = _value(field, strings, depth)
        if field.is_repeated:
            value = st.lists(value, max_size=3)
        parts[field.name] = st.one_of(st.none(), value)
    return st.fixed_dictionaries(parts).map(lambda kv: {k: v for k, v in kv.items() if v is not None})


def _fill(msg: Any, values: dict) -> None:
    """Set what protobuf accepts of `values` on `msg`; refused values (lone surrogates) are dropped."""
    for name, value in values.items():
        field = msg.DESCRIPTOR.fields_by_name[name]
        is_message = field.type == d.FieldDescriptor.TYPE_MESSAGE
        try:
            if field.is_repeated:
                target = getattr(msg, name)
                for item in value:
                    if is_message:
                        _fill(target.add(), item)
                    else:
                        target.append(item)
            elif is_message:
                _fill(getattr(msg, name), value)
                if not value:
                    getattr(msg, name).SetInParent()
            else:
                setattr(msg, name, value)
        except (ValueError, TypeError, UnicodeError):
            pass


def _serialize(cls: type, values: dict) -> bytes:
    msg = cls()
    _fill(msg, values)
    try:
        return msg.SerializeToString()
    except (ValueError, UnicodeError):
        return b""


def field_names(desc: d.Descriptor, depth: int = 0) -> list[str]:
    """Every field name reachable from `desc` (update masks and order_by strings name them)."""
    names = []
    for field in desc.fields:
        names.append(field.name)
        if field.message_type is not None and depth < MAX_DEPTH:
            names += field_names(field.message_type, depth + 1)
    return sorted(set(names))


def messages(desc: d.Descriptor, seeds: Sequence[str]) -> st.SearchStrategy[bytes]:
    """Serialized messages of type `desc`, drawn as the module docstring says."""
    cls = message_factory.GetMessageClass(desc)
    pool = _pool([*seeds, *field_names(desc)])
    return _fields(desc, pool, 0).map(lambda values: _serialize(cls, values))


def raw_requests() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, and well-formed tags followed by cut-short or non-UTF-8 payloads."""
    tag = st.integers(1, 20).map(lambda n: bytes([(n << 3) | 2]))
    broken = st.builds(lambda t, b: t + bytes([len(b) + 5]) + b, tag, st.binary(max_size=8))
    not_utf8 = st.builds(lambda t: t + b"\x03\xff\xfe\xfd", tag)
    return st.one_of(st.binary(max_size=128), broken, not_utf8)
