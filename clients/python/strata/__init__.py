"""Strata: run tracking and artifact version control for ML teams. The W&B-shaped SDK.

    import strata
    run = strata.init(project="text-classifier", entity="ml-research", config={"lr": 3e-4})
    run.log({"train/loss": 0.31})
    run.finish()

Names are imported lazily so `import strata` stays cheap for training jobs and sidecars.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "Client": "strata.client",
    "RetryPolicy": "strata.client",
    "StrataError": "strata.errors",
    "Reason": "strata.errors",
    "init": "strata.sdk.run",
    "Run": "strata.sdk.run",
    "finish": "strata.sdk.run",
    "Artifact": "strata.sdk.artifact",
    "ArtifactTTL": "strata.sdk.artifact",
    "Api": "strata.sdk.api",
    "Lineage": "strata.sdk.lineage",
    "Image": "strata.sdk.media",
    "Plotly": "strata.sdk.media",
    "Html": "strata.sdk.media",
    "Table": "strata.sdk.media",
    "Histogram": "strata.sdk.media",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'strata' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise AttributeError(f"strata.{name} is not available yet ({module}): {e}") from e
    globals()[name] = value
    return value
