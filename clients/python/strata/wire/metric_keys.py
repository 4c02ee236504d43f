"""Metric key rules: the one definition, used by the SDK (checked once per new key in run.log, so a
bad key fails where it is logged, not later in the background) and by the server (ingest refuses bad
keys, query parses filters with the same grammar). Public and stable: see strata.wire."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_KEYS_PER_RUN = 10_000
MAX_KEY_LENGTH = 256
KEY_RE = re.compile(r"[A-Za-z0-9_./:() -]{1,256}")
RESERVED_KEYS = frozenset({"_runtime", "_timestamp"})
# The run config key under which run.define_metric stores its definitions ({name or glob: {"step_metric",
# "summary", "goal", "hidden"}}); readers show the config without it.
METRIC_DEFINITIONS = "_strata_metrics"


def split_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the user's config, the metric definitions) of a stored run config."""
    data = dict(config)
    defs = data.pop(METRIC_DEFINITIONS, None)
    return data, dict(defs) if isinstance(defs, Mapping) else {}


def key_problem(key: str) -> str | None:
    """Why a metric key is not acceptable, or None."""
    if not key:
        return "a metric key may not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"metric key is longer than {MAX_KEY_LENGTH} characters"
    if not KEY_RE.fullmatch(key):
        return f"metric key {key!r} has characters outside [A-Za-z0-9_./:() -]"
    if key.startswith("_") and key not in RESERVED_KEYS:
        return f"metric key {key!r} starts with '_' (reserved for {sorted(RESERVED_KEYS)})"
    return None
