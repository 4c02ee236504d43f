"""Containment prefilters that let the config GIN index (runs_config_path) find runs by config value.

`config.a.b == v` in a filter means: the value at path a.b equals v, or (Mongo) is a list with an
element equal to v. Every such run also satisfies `config @> {"a": {"b": v}}` or
`config @> {"a": {"b": [v]}}`, which a GIN `jsonb_path_ops` index answers without reading the rows.
The prefilter is a superset (an object value also contains smaller objects), so the exact test
stays and rechecks every run the index yields: adding the prefilter never changes a result.

A path segment that is an integer (as strtol reads one: " 1" and "+1" too) may index into a list (`#>` reads `config.layers.0` from
`{"layers": [...]}`), which containment cannot express; such paths get no prefilter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

_INDEX_LIKE = re.compile(r" *[+-]?[0-9]+")  # what `#>` reads as a list index (strtol: spaces, a sign)


def containment_docs(path: Sequence[str], values: Sequence[Any]) -> list[str]:
    """JSON documents D such that a run matching `path == value` (for a value in values) has
    config @> D for one of them; [] when no prefilter applies."""
    if not path or any(_INDEX_LIKE.fullmatch(part) for part in path):
        return []
    docs = []
    for value in values:
        for leaf in (value, [value]):
            doc: Any = leaf
            for part in reversed(path):
                doc = {part: doc}
            docs.append(json.dumps(doc))
    return docs
