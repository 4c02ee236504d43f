"""W&B habits at the module level: `strata.log`, `strata.config`, `strata.summary`, `strata.run`,
`strata.define_metric`, `strata.login`, `strata.save`, and the `strata.init` arguments W&B scripts pass.

    import strata as wandb
    wandb.login(key=os.environ["STRATA_API_KEY"], host="grpc.example.com:50051")
    wandb.init(project="team-a/pretraining", config=args)     # argparse.Namespace, dataclass or YAML path
    wandb.config.lr                                            # the current run's config
    wandb.log({"loss": 0.3})                                   # the current run
    wandb.save("checkpoints/*.pt")                             # run files

Arguments of `wandb.init` that mean nothing here (dir, reinit, save_code, settings, ...) are accepted
with one warning each, so a W&B script runs unchanged.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# W&B init arguments with no meaning in Strata: accepted, warned about once each.
IGNORED_INIT_KWARGS = frozenset(
    {
        "dir",
        "reinit",
        "save_code",
        "settings",
        "anonymous",
        "magic",
        "monitor_gym",
        "sync_tensorboard",
        "force",
        "config_exclude_keys",
        "config_include_keys",
        "fork_from",
        "resume_from",
        "allow_val_change",
        "tensorboard",
    }
)
_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(message, UserWarning, stacklevel=4)


def ignored_kwargs(kwargs: Mapping[str, Any]) -> None:
    """Warn once per W&B-only argument; a name W&B does not know either is a TypeError, as in W&B."""
    for key in kwargs:
        if key not in IGNORED_INIT_KWARGS:
            raise TypeError(f"init() got an unexpected keyword argument {key!r}")
        warn_once(f"init:{key}", f"strata.init: {key}= has no meaning in Strata and is ignored")


def split_project(project: str | None, entity: str | None) -> tuple[str | None, str | None]:
    """project="entity/project" (W&B accepts it) -> (project, entity); a conflicting entity= is an error."""
    if project and "/" in project:
        owner, _, name = project.partition("/")
        if entity and entity != owner:
            raise ValueError(f"project {project!r} names entity {owner!r} but entity={entity!r}")
        return name, owner
    return project, entity


def map_mode(mode: str | None) -> str | None:
    """W&B modes: "offline" and "disabled" keep everything local (the spool); "shared" is online."""
    if mode is None:
        return None
    lowered = mode.lower()
    if lowered == "disabled":
        warn_once("mode:disabled", 'strata.init: mode="disabled" runs offline (kept in the local spool)')
        return "offline"
    return "online" if lowered == "shared" else lowered


def config_dict(config: Any) -> dict[str, Any]:
    """A config from a dict, an argparse.Namespace, a dataclass (instance), a YAML/JSON file path, or
    an object with __dict__; YAML files in W&B's {"key": {"value": v}} shape are unwrapped."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    if isinstance(config, argparse.Namespace):
        return dict(vars(config))
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if isinstance(config, (str, os.PathLike)):
        return _config_file(Path(config))
    if hasattr(config, "__dict__"):
        return {k: v for k, v in vars(config).items() if not k.startswith("_")}
    raise TypeError(f"config must be a dict, Namespace, dataclass or file path, not {type(config).__name__}")


def _config_file(path: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a mapping")
    return {
        k: v["value"] if isinstance(v, dict) and set(v) <= {"value", "desc"} and "value" in v else v
        for k, v in data.items()
        if k != "wandb_version"
    }


# --- module-level functions on the current run ---


def current() -> Any:
    from strata.sdk import run as _run

    return _run._current


def _need_run(what: str) -> Any:
    run = current()
    if run is None:
        raise RuntimeError(f"strata.{what}: no run; call strata.init() first")
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool = True) -> None:
    """`wandb.log`: log to the current run."""
    _need_run("log").log(data, step=step, commit=commit)


def log_artifact(
    artifact_or_path: Any, name: str | None = None, type: str | None = None, aliases: Any = None
) -> Any:
    """`wandb.log_artifact`: log an artifact (or a path) from the current run."""
    return _need_run("log_artifact").log_artifact(artifact_or_path, name=name, type=type, aliases=aliases)


def use_artifact(ref: Any, type: str | None = None) -> Any:
    """`wandb.use_artifact`: the current run uses a version (lineage)."""
    return _need_run("use_artifact").use_artifact(ref, type=type)


def define_metric(name: str, **kwargs: Any) -> dict[str, Any]:
    """`wandb.define_metric`: define a metric of the current run (see Run.define_metric)."""
    definition: dict[str, Any] = _need_run("define_metric").define_metric(name, **kwargs)
    return definition


def save(glob_str: str, base_path: str | None = None, policy: str = "live") -> list[str]:
    """`wandb.save`: upload the files matching a glob as run files now (policy is accepted; files are
    uploaded once, when save is called). Returns the run-file paths."""
    from strata.sdk import run_files

    run = _need_run("save")
    base = Path(base_path) if base_path else None
    files = []
    for match in sorted(glob.glob(glob_str, recursive=True)):
        local = Path(match)
        if local.is_file():
            rel = Path(os.path.relpath(local, base) if base else os.path.normpath(match)).as_posix()
            if rel.startswith("../") or Path(rel).is_absolute():
                rel = local.name  # outside the base folder: keep the file name
            files.append((rel, local))
    if not files:
        warn_once(f"save:{glob_str}", f"strata.save: no file matches {glob_str!r}")
        return []
    run_files.upload_run_files(run.client, run.resource_name, files)
    return [p for p, _ in files]


def login(
    key: str | None = None, host: str | None = None, relogin: bool | None = None, **ignored: Any
) -> bool:
    """`wandb.login(key=, host=)`: use this API key and server for this process (STRATA_API_KEY and
    STRATA_ADDR); with a key, it is checked against the server at once. `strata login` stores a key
    for later processes."""
    del relogin, ignored
    if host:
        os.environ["STRATA_ADDR"] = host.split("://", 1)[-1].rstrip("/")
    if key:
        os.environ["STRATA_API_KEY"] = key
        from strata.client import Client
        from strata.iam.v1 import iam_service_pb2

        with Client() as client:
            client.iam.GetPrincipal(iam_service_pb2.GetPrincipalRequest(), timeout=10)
    return True


class _PreInit:
    """`wandb.config` / `wandb.summary` before `wandb.init()`: reading or writing says to call init."""

    def __init__(self, what: str) -> None:
        object.__setattr__(self, "_what", what)

    def _fail(self, *_: Any, **__: Any) -> Any:
        raise RuntimeError(f"strata.{self._what}: call strata.init() first")

    def __getattr__(self, name: str) -> Any:
        self._fail()

    __setattr__ = __getitem__ = __setitem__ = _fail

    def __repr__(self) -> str:
        return f"<strata.{self._what} before strata.init()>"


def module_attribute(name: str) -> Any:
    """strata.run / strata.config / strata.summary: looked up on every access (never cached)."""
    run = current()
    if name == "run":
        return run
    if run is None:
        return _PreInit(name)
    return getattr(run, name)


def say(message: str) -> None:
    print(f"strata: {message}", file=sys.stderr, flush=True)
