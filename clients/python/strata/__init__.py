"""Strata: run tracking and artifact version control for ML teams. The W&B-shaped SDK.

    import strata
    run = strata.init(project="text-classifier", entity="ml-research", config={"lr": 3e-4})
    run.log({"train/loss": 0.31})
    run.finish()

W&B habits work at the module level too: `strata.log`, `strata.config`, `strata.summary`, `strata.run`
(the current run, or None), `strata.define_metric`, `strata.login`, `strata.save`.

Names are imported lazily so `import strata` stays cheap for training jobs and sidecars.
"""

from __future__ import annotations

import importlib
from importlib import resources
from typing import Any

# the one version number of both distributions (clients/python/strata/VERSION)
__version__ = resources.files(__name__).joinpath("VERSION").read_text().strip()

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
    "Report": "strata.sdk.report",
    "Audio": "strata.sdk.media_av",
    "Video": "strata.sdk.media_av",
    "log": "strata.sdk._wandb",
    "define_metric": "strata.sdk._wandb",
    "save": "strata.sdk._wandb",
    "log_artifact": "strata.sdk._wandb",
    "use_artifact": "strata.sdk._wandb",
    "login": "strata.sdk._wandb",
    "Settings": "strata.sdk._wandb_extras",
    "watch": "strata.sdk._wandb_extras",
    "unwatch": "strata.sdk._wandb_extras",
    "alert": "strata.sdk._wandb_extras",
    "util": "strata.util",
    "plot": "strata.plot",
    "Image": "strata.sdk.media",
    "Plotly": "strata.sdk.media",
    "Html": "strata.sdk.media",
    "Table": "strata.sdk.media",
    "Histogram": "strata.sdk.media",
}
# W&B's module-level state: the current run and its config/summary, looked up on every access.
_CURRENT = ("run", "config", "summary")

__all__ = sorted([*_LAZY, *_CURRENT, "report"])


def __getattr__(name: str) -> Any:
    if name in _CURRENT:
        from strata.sdk._wandb import module_attribute

        return module_attribute(name)
    if name in ("util", "report", "plot"):
        return importlib.import_module(f"strata.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'strata' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise AttributeError(f"strata.{name} is not available yet ({module}): {e}") from e
    globals()[name] = value
    return value
