"""`run.config` and `run.summary`: dicts whose changes go to the server (and the run's spool)."""

from __future__ import annotations

import json
import time
from collections.abc import ItemsView, Iterator, MutableMapping, ValuesView
from typing import TYPE_CHECKING, Any

import numpy as np

from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2
from strata.wire.metric_keys import key_problem

if TYPE_CHECKING:
    from strata.sdk.run import Run


def jsonable(value: Any) -> Any:
    """JSON for numpy values (their Python value) and anything else (its str), as `json.dumps(default=)`."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def to_json(value: Any) -> str:
    return json.dumps(value, default=jsonable)


class Config(MutableMapping[str, Any]):
    """The run's config: a dict that pushes every change to the server (a JSON merge patch)."""

    def __init__(self, run: Run, data: dict[str, Any]) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_data", data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        if key not in self._data:
            raise KeyError(key)
        self.update({key: None})

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        patch = dict(other, **kwargs)
        if not patch:
            return
        data = json.loads(to_json(patch))
        for key, value in data.items():
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value
        self._run._push(run_pb2.Run(config_json=json.dumps(data)), "config_json")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self.update({name: value})

    def as_dict(self) -> dict[str, Any]:
        copied: dict[str, Any] = json.loads(json.dumps(self._data))
        return copied

    def __repr__(self) -> str:
        return f"Config({self._data!r})"


class Summary(MutableMapping[str, Any]):
    """The run's summary. Reading asks the server (override, else the last value); assigning
    `summary[key] = value` sets an explicit override (any JSON value); `del summary[key]` clears it."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._overrides: dict[str, Any] = {}

    def _server(self) -> dict[str, Any]:
        """The server's summary shaped by the run's metric definitions, with `_runtime`, `_timestamp`
        and `_step` (offline: those three, from this process)."""
        from strata.sdk._metric_defs import summary_of

        run = self._run
        if run._offline:
            now = time.time()
            local = {"_runtime": now - run.start_time, "_timestamp": now}
            return {**local, "_step": run.step - 1} if run.step else local
        got = run.client.ingest.GetRun(pb.GetRunRequest(name=run.resource_name), timeout=30).run
        return summary_of(got, run._metric_defs)

    def _snapshot(self) -> dict[str, Any]:
        return {**self._server(), **self._overrides}

    def __getitem__(self, key: str) -> Any:
        if key in self._overrides:
            return self._overrides[key]
        return self._server()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._snapshot())

    def __len__(self) -> int:
        return len(self._snapshot())

    # one GetRun for a whole read, not one per key (the Mapping defaults call __getitem__ per key)
    def items(self) -> ItemsView[str, Any]:
        return self._snapshot().items()

    def values(self) -> ValuesView[Any]:
        return self._snapshot().values()

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        self._overrides.pop(key, None)
        self._run._push(
            run_pb2.Run(summary=[run_pb2.MetricSummary(key=key, override_json="null")]), "summary"
        )

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        values = dict(other, **kwargs)
        entries = []
        for key, value in values.items():
            problem = key_problem(key)
            if problem:
                raise ValueError(problem)
            encoded = to_json(value)
            self._overrides[key] = json.loads(encoded)
            entries.append(run_pb2.MetricSummary(key=key, override_json=encoded))
        if entries:
            self._run._push(run_pb2.Run(summary=entries), "summary")
