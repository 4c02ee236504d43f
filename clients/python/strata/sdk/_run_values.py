"""What `run.log` accepts, checked in the caller's thread: the step, the values, and the run's keys.

A run's keys (`LogKeys`) hold numbers or rich values, never both. `LogKeys.values` returns a private
copy of a call's numbers and its checked rich values, or raises TypeError/ValueError naming the key
before any new key is registered, so a refused call leaves no trace. The common cases — known keys
holding plain floats, known keys holding images — are checked by C-level set operations first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from strata.sdk.media import Histogram, Html, Image, Media, Plotly, Table, Text, rich_values
from strata.wire.metric_keys import MAX_KEYS_PER_RUN, key_problem

_FLOATS = frozenset(
    {
        float,
        bool,
        np.float64,
        np.float32,
        np.float16,
        np.int64,
        np.int32,
        np.int16,
        np.int8,
        np.uint8,
        np.bool_,
    }
)  # types that always convert to float64 (a Python int may be too large: it is checked)
_FAST = _FLOATS | {int}
_MEDIA = frozenset({Image, Plotly, Html, Table, Histogram, Text})  # rich value types of the fast path
MAX_STEP = 2**63 - 2  # the server keeps the run's next step (highest step + 1) in an int64


class LogKeys:
    """The keys a run has logged: `known` (numbers, in the order the producer numbers them: `order`,
    `names`) and `media` (rich values). Used under run.log's lock."""

    def __init__(self) -> None:
        self.known: set[str] = set()
        self.media: set[str] = set()
        self.order: dict[str, int] = {}
        self.names: list[str] = []

    def values(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[Media]]]:
        """A private copy of `data`'s numbers and its checked rich values: raises TypeError/ValueError
        naming the key."""
        # the common case (known keys, plain floats) is checked by two C-level set operations; Python
        # ints are converted once in C, so an int too large for a float64 raises in this thread
        if type(data) is dict and self.known.issuperset(data):
            if _FLOATS.issuperset(map(type, data.values())):
                return data.copy(), {}
            if _FAST.issuperset(map(type, data.values())):
                try:
                    list(map(float, data.values()))
                    return data.copy(), {}
                except OverflowError:
                    pass  # checked() names the key
        # rich values only, under keys that hold rich values already (an image every step)
        if type(data) is dict and self.media.issuperset(data) and _MEDIA.issuperset(map(type, data.values())):
            rich: dict[str, list[Media]] = {}
            for key, value in data.items():
                rich[key] = [value.check(key)]
            return {}, rich
        return self.checked(data)

    def checked(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[Media]]]:
        """Flattened float-convertible values of `data` and its rich values; raises (naming the key)
        before any new key is registered, so a rejected call leaves no trace."""
        rich: dict[str, list[Media]] = {}
        out = flatten(data, "", {}, rich)
        new = [key for key in out if key not in self.known]
        for key in new + [k for k in rich if k not in self.media]:
            problem = key_problem(key)
            if problem:
                raise ValueError(problem)
        for key in new:
            if key in self.media:
                raise ValueError(f"cannot log a number under {key!r}: the key holds rich values in this run")
        for key in rich:
            if key in self.known:
                raise ValueError(f"cannot log a rich value under {key!r}: the key holds numbers in this run")
        if len(self.known) + len(new) > MAX_KEYS_PER_RUN:
            raise ValueError(f"a run has at most {MAX_KEYS_PER_RUN} distinct metric keys")
        for key in new:
            self.register(key)
        self.media.update(rich)
        return out, rich

    def register(self, key: str) -> None:
        """A new, checked key of numbers."""
        self.names.append(key)
        self.order[key] = len(self.names) - 1
        self.known.add(key)


def checked_step(step: Any) -> int:
    """An explicit step as an int in 0..MAX_STEP (bool, float and str steps are refused)."""
    if type(step) is not int:
        if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
            raise TypeError(f"step must be an int, not {type(step).__name__} ({step!r})")
        step = int(step)
    checked: int = step
    if not 0 <= step <= MAX_STEP:
        raise ValueError(f"step must be in 0..{MAX_STEP}, not {step}")
    return checked


def flatten(
    data: Mapping[str, Any], prefix: str, out: dict[str, Any], rich: dict[str, list[Media]]
) -> dict[str, Any]:
    """Nested dicts flattened with "/", every value checked (a float, a type that converts, or a rich
    value, which goes to `rich`)."""
    for k, v in data.items():
        if not isinstance(k, str):
            raise TypeError(f"metric keys are strings, not {type(k).__name__}")
        key = prefix + k
        if isinstance(v, Mapping):
            flatten(v, key + "/", out, rich)
        elif type(v) not in _FLOATS:
            values = rich_values(key, v)
            if values is None:
                out[key] = to_float(key, v)
            else:
                rich[key] = values
        else:
            out[key] = v
    return out


def to_float(key: str, value: Any) -> float:
    if value is None or isinstance(value, (bytes, bytearray)):
        raise TypeError(
            f"cannot log {type(value).__name__} under {key!r}: log numbers, strings, or rich values "
            "(strata.Image, Plotly, Html, Table, Histogram)"
        )
    try:
        return float(value)
    except OverflowError:
        raise ValueError(
            f"cannot log {type(value).__name__} under {key!r}: the value is too large for a float64"
        ) from None
    except (TypeError, ValueError):
        raise TypeError(
            f"cannot log {type(value).__name__} under {key!r}: log numbers, strings, or rich values "
            "(strata.Image, Plotly, Html, Table, Histogram)"
        ) from None
