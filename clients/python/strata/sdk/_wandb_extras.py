"""W&B calls that everyday scripts make and that Strata answers without W&B's service behind them:
`wandb.Settings` (accepted, ignored: Strata reads STRATA_* variables), `wandb.watch` / `unwatch`
(gradients are not logged: a one-time warning), `wandb.alert` (no Slack or e-mail here: the alert is
printed and kept with the run), and `run.log_code` (the run's source files as a `code` artifact, as W&B
stores them)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._wandb import _need_run, warn_once

MAX_CODE_FILES = 10_000
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "wandb"})


class Settings:
    """`wandb.Settings(start_method="thread", ...)`: every field is accepted and kept, none is used
    (`strata.init(settings=...)` says so once); Strata's own settings are STRATA_* variables."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def update(self, *args: Any, **fields: Any) -> None:
        self.__dict__.update(*args, **fields)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(self.__dict__.items()))
        return f"Settings({inner})"


def watch(models: Any = None, criterion: Any = None, log: str | None = "gradients", log_freq: int = 1000,
          idx: int | None = None, log_graph: bool = False) -> None:  # fmt: skip
    """`wandb.watch`: Strata does not log gradients or parameters of a model; a warning says so once
    and training goes on unchanged."""
    del models, criterion, log, log_freq, idx, log_graph
    warn_once("watch", "strata.watch: model gradients and parameters are not logged (not supported)")


def unwatch(models: Any = None) -> None:
    """`wandb.unwatch`: nothing is watched, so nothing to undo."""
    del models


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    """`wandb.alert`: Strata sends no Slack or e-mail. The alert is printed to stderr and kept in the
    run's summary under `alerts` (title, text, level, time), so the run page shows it."""
    del wait_duration
    run = _need_run("alert")
    level_name = str(getattr(level, "value", level or "INFO")).upper()
    print(f"strata: alert [{level_name}] {title}: {text}", file=sys.stderr)
    warn_once(
        "alert", "strata.alert: alerts are not sent anywhere; they are printed and kept in the run's summary"
    )
    alerts = list(run.summary.get("alerts") or [])
    alerts.append({"title": str(title), "text": str(text), "level": level_name, "time": time.time()})
    run.summary["alerts"] = alerts[-100:]


def _code_file(path: str) -> bool:
    """W&B's default: Python sources, requirements files and Dockerfiles."""
    name = os.path.basename(path)
    requirements = name.startswith("requirements") and name.endswith(".txt")
    return name.endswith(".py") or requirements or name.startswith("Dockerfile")


def code_files(
    root: str | os.PathLike[str],
    include_fn: Callable[..., bool] | None = None,
    exclude_fn: Callable[..., bool] | None = None,
) -> list[Path]:
    """The files under root that log_code stores: include_fn(path) (or W&B's default) and not
    exclude_fn(path); hidden folders (.git, .venv), virtualenv site-packages and caches are skipped."""
    base = Path(root)
    found: list[Path] = []
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(files):
            path = os.path.join(folder, name)
            if _call(include_fn or _code_file, path, base) and not (
                exclude_fn and _call(exclude_fn, path, base)
            ):
                found.append(Path(path))
                if len(found) > MAX_CODE_FILES:
                    raise ValueError(f"log_code: more than {MAX_CODE_FILES} files under {str(base)!r}")
    return found


def _call(fn: Callable[..., bool], path: str, root: Path) -> bool:
    try:  # W&B passes (path, root); older callbacks take the path alone
        return bool(fn(path, str(root)))
    except TypeError:
        return bool(fn(path))


def log_code(
    run: Any,
    root: str | os.PathLike[str] | None = ".",
    name: str | None = None,
    include_fn: Callable[..., bool] | None = None,
    exclude_fn: Callable[..., bool] | None = None,
) -> Any:
    """`run.log_code`: the source files under root as an artifact of type `code` (default name
    `source-<run id>`), logged by the run. Returns the artifact, or None when no file matched."""
    from strata.sdk.artifact import Artifact

    base = Path(root if root is not None else ".").resolve()
    files = code_files(base, include_fn, exclude_fn)
    if not files:
        warn_once(f"log_code:{base}", f"strata: log_code found no source file under {str(base)!r}")
        return None
    art = Artifact(name or f"source-{run.id}", type="code")
    for path in files:
        art.add_file(str(path), name=path.relative_to(base).as_posix())
    return run.log_artifact(art)
