"""Field-by-field conversion between protobuf messages and plain objects, written once.

Most conversions between a message and a dataclass (either way) copy fields that have the same name
on both sides and spell out only the few that differ. `message_from` and `dataclass_from` copy every
field of the target from the same-named attribute of the source; the keyword arguments supply the
fields whose name or value differs. A target field that the source lacks (and that is not supplied)
raises AttributeError: no field is ever left at its default silently. Used by the client's SDK and by
the server's convert modules. Public and stable: see strata.wire.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, cast

from google.protobuf.message import Message

M = TypeVar("M", bound=Message)
T = TypeVar("T")


_NAMES: dict[type, tuple[str, ...]] = {}  # a class -> its field names, read once


def field_names(cls: Any) -> tuple[str, ...]:
    """The field names of a message class or a dataclass, in declaration order."""
    if cls not in _NAMES:
        if isinstance(cls, type) and issubclass(cls, Message):
            _NAMES[cls] = tuple(f.name for f in cls.DESCRIPTOR.fields)
        else:
            _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return _NAMES[cls]


Getter = Callable[[object], tuple[Any, ...]]
# (class, the names a call site supplies) -> the other fields and one getter that reads them all:
# as fast as spelling the keyword arguments out (an impact answer converts 100,000s of nodes)
_GETTERS: dict[tuple[type, tuple[str, ...]], tuple[tuple[str, ...], Getter]] = {}


def _getter(names: tuple[str, ...]) -> Getter:
    if len(names) == 1:
        name = names[0]
        return lambda source: (getattr(source, name),)
    if not names:
        return lambda source: ()
    return cast(Getter, attrgetter(*names))


def _copied(cls: type, source: object, given: dict[str, Any]) -> dict[str, Any]:
    """`given`, plus the attributes of `source` named like the other fields of `cls`."""
    found = _GETTERS.get((cls, tuple(given)))
    if found is None:
        rest = tuple(n for n in field_names(cls) if n not in given)
        found = _GETTERS[(cls, tuple(given))] = (rest, _getter(rest))
    copied = dict(zip(found[0], found[1](source), strict=True))
    if given:
        copied.update(given)
    return copied


def message_from(cls: type[M], source: object, **given: Any) -> M:
    """A `cls` message: every field from the same-named attribute of `source`, except those in `given`."""
    return cls(**_copied(cls, source, given))


def dataclass_from(cls: type[T], source: object, **given: Any) -> T:
    """A `cls` dataclass: every field from the same-named attribute of `source`, except those in `given`."""
    return cls(**_copied(cls, source, given))
