"""Runs, W&B-shaped: `strata.init(...)`, `run.log({...})`, `run.config`, `run.summary`, `run.finish()`.

    import strata
    with strata.init(project="text-classifier", config={"lr": 3e-4}) as run:
        for step in range(1000):
            run.log({"train/loss": loss, "lr": lr})        # never blocks on the network

`run.log` appends (step, time, values) to an in-process buffer (~2 µs of the caller's CPU). A producer thread turns the
buffer into columnar batches every 20 ms, writes them to the run's spool file (append-only,
checksummed) and hands them to a streamer thread that sends them over StreamMetrics and drops them
when the server acknowledges that they are committed. A server or network outage only delays the
acks; a crashed process leaves a spool that `strata sync` (or the next `strata.init(id=..., resume=...)`
of the same run) delivers. The server ignores batches it already committed, so nothing is stored twice.

Numbers (int, float, bool, numpy scalars, 1-element arrays/tensors) are metrics; nested dicts are
flattened with "/". Rich values (strata.Image, Plotly, Html, Table, Histogram, plain strings as text,
and lists of them) go to the media pipeline instead (strata.sdk.media, strata.sdk._media_log): checked
here, encoded and uploaded on background threads. A key holds numbers or rich values, never both.
Every ~10 s a sampler logs `system/*` metrics (strata.sdk._system). Everything is checked in the caller's
thread (strata.sdk._run_values), so the background threads never meet a point they cannot encode;
should the producer fail anyway (a full disk), the next `run.log` and `finish` raise its error instead
of dropping points. How a run ends (drain, finish, spool) is strata.sdk._run_finish.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from strata import _settings
from strata.client import Client
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2
from strata.sdk import _metric_defs, _provenance, _system, _wandb
from strata.sdk._config import Config, Summary, to_json
from strata.sdk._context import default_entity, default_project, project_parent
from strata.sdk._media_log import MediaLogger
from strata.sdk._run_finish import RunFinishing
from strata.sdk._run_finish import say as _say
from strata.sdk._run_values import MAX_STEP, LogKeys, checked_step
from strata.sdk._sender import Heartbeat, Producer
from strata.sdk._spool import CREATE, FINISH, UPDATE, SpoolLock, SpoolWriter
from strata.sdk._stream import BatchStreamer, Window
from strata.sdk._sync import deliver_leftovers, new_run_id, new_stream_id
from strata.sdk._urls import run_url
from strata.sdk.media import Media
from strata.wire.metric_keys import split_config

__all__ = ["MAX_STEP", "Config", "Run", "Summary", "finish", "init"]

_RESUME: dict[object, run_pb2.ResumeMode] = {
    **dict.fromkeys((None, False, "never"), run_pb2.RESUME_MODE_NEVER),
    **dict.fromkeys((True, "allow", "auto"), run_pb2.RESUME_MODE_ALLOW),
    "must": run_pb2.RESUME_MODE_MUST,
}
HEARTBEAT_INTERVAL = 10.0
MAX_BUFFERED = 200_000  # log entries waiting for the producer; beyond, log() yields the CPU to it
_current: Run | None = None
_failed_by_exception = False


class Run(RunFinishing):
    """One run. Create it with `strata.init(...)`; see the module docstring. What run.log accepts is
    checked by strata.sdk._run_values; the end of the run is in strata.sdk._run_finish."""

    def __init__(
        self, client: Client, create: pb.CreateRunRequest, run: run_pb2.Run | None, offline: bool
    ) -> None:
        self.client = client
        self._offline = offline
        parent = create.parent.split("/")
        self.entity, self.project = parent[1], parent[3]
        self.id = run.run_id if run is not None else create.run_id
        self._display_name = run.display_name if run is not None else create.display_name
        self.parent = project_parent(self.entity, self.project)
        self.resource_name = f"{self.parent}/runs/{self.id}"
        self.path = f"{self.entity}/{self.project}/{self.id}"
        self.start_time = time.time()
        self.allow_out_of_order = create.allow_out_of_order_steps
        self.step = run.next_step if run is not None else 0
        self.resumed = False
        self.committed_points = 0
        config, self._metric_defs = split_config(
            json.loads((run.config_json if run is not None else create.config_json) or "{}")
        )
        self.config = Config(self, config)
        self.summary = Summary(self)
        self._tags = tuple(run.tags if run is not None else create.tags)
        self._job_type, self.group = create.job_type, create.group
        self._notes = run.notes if run is not None else create.notes
        self._buffer: deque[tuple[int, float, dict[str, Any]]] = deque()
        self._keys = LogKeys()
        self._known = self._keys.known  # keys holding numbers
        self._media: MediaLogger | None = None
        self._sampler: _system.Sampler | None = None
        self._finished = False
        self._spool_closed = False
        self._warned_step = False
        self._producer_error_raised = False
        self._log_lock = threading.Lock()  # run.log from several threads: one step counter, one buffer
        self._start(create)

    def _start(self, create: pb.CreateRunRequest) -> None:
        """Open this process's spool (recording how to recreate the run) and start the threads."""
        self.stream_id = new_stream_id()
        self.spool_path = _settings.spool_dir() / self.project / self.id / self.stream_id
        self._spool_lock = SpoolLock(self.spool_path)
        self._spool_lock.acquire()
        self._spool = SpoolWriter(self.spool_path, fsync=_settings.spool_fsync())
        replay = pb.CreateRunRequest.FromString(create.SerializeToString())
        replay.run_id, replay.resume = self.id, run_pb2.RESUME_MODE_ALLOW  # a replay (sync) resumes
        self._spool.control(CREATE, replay.SerializeToString())
        self._window = None if self._offline else Window()
        self._producer = Producer(
            self._buffer, self._keys.order, self._keys.names, self._spool, self._window, warn=_say
        )
        self._streamer: BatchStreamer | None = None
        self._heartbeat: Heartbeat | None = None
        self._producer.start()
        if self._window is not None:
            self._window.on_ack = self._spool.acked
            self._streamer = BatchStreamer(
                self.client,
                self.resource_name,
                self.stream_id,
                self._window,
                on_rejected=self._spool.batch,
                warn=_say,
            )
            self._heartbeat = Heartbeat(self._send_heartbeat, HEARTBEAT_INTERVAL)
            self._streamer.start()
            self._heartbeat.start()
        interval = _system.interval()
        if interval > 0:
            self._sampler = _system.Sampler(self, interval)
            self._sampler.start()

    # --- logging ---

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool = True) -> None:
        """Log metrics at `step` (default: the run's current step, which then advances when
        commit=True). Never waits for the network. Safe to call from several threads (a data-loader
        thread and the training loop): each call takes the step atomically. A step that is not an int
        in 0..MAX_STEP (bool is not an int here), a value that is not a number or an int too large for
        a float64 raise TypeError/ValueError naming it, and nothing of that call is logged."""
        with self._log_lock:
            if self._finished:
                raise RuntimeError(f"run {self.path} is finished; start a new one with strata.init()")
            if self._producer.error is not None:
                self._raise_producer_error()
            s = self.step if step is None else checked_step(step)
            if s > MAX_STEP:
                raise ValueError(f"step {s} is past the highest step {MAX_STEP}")
            data, rich = self._keys.values(data)
            if step is not None and s != self.step:
                if s < self.step and not self.allow_out_of_order:
                    if not self._warned_step:
                        self._warned_step = True
                        _say(
                            f"step {s} < current step {self.step}: ignored (steps must increase; see allow_out_of_order)"
                        )
                    return
                if s > self.step:
                    self.step = s
            if data or not rich:
                self._buffer.append((s, time.time(), data))
            if rich:
                self._log_rich(s, rich)
            if commit:
                self.step = s + 1
            if len(self._buffer) > MAX_BUFFERED:
                self._yield_to_producer()

    def _log_rich(self, step: int, rich: dict[str, list[Media]]) -> None:
        """Queue checked rich values for the media threads (started with the first one)."""
        if self._media is None:
            self._media = MediaLogger(
                None if self._offline else self.client,
                self.resource_name,
                self.parent,
                self.spool_path,
                fsync=_settings.spool_fsync(),
                warn=_say,
            )
        for key, values in rich.items():
            self._media.put(key, step, values)

    def _raise_producer_error(self) -> None:
        """The producer thread died (e.g. the spool's disk is full): nothing logged from now on could
        be kept, so every later log() raises, and finish() marks the run failed."""
        self._producer_error_raised = True
        raise RuntimeError(
            f"run {self.path} cannot record metrics any more: the background producer failed "
            f"({self._producer.error!r}); points logged before are in {self.spool_path}"
        ) from self._producer.error

    def _yield_to_producer(self) -> None:
        self._producer.kick()
        while len(self._buffer) > MAX_BUFFERED // 2 and self._producer.is_alive():
            time.sleep(0.001)

    # --- run record updates ---

    @property
    def name(self) -> str:
        """The display name (W&B's `run.name`); assigning renames the run on the server. The
        resource name ("entities/e/projects/p/runs/id") is `run.resource_name`."""
        return self._display_name

    @name.setter
    def name(self, name: str) -> None:
        self._display_name = name
        self._push(run_pb2.Run(display_name=name), "display_name")

    display_name = name

    @property
    def url(self) -> str:
        """The run's page in the web console ($STRATA_WEB_URL, default http://127.0.0.1:8080)."""
        return run_url(self.entity, self.project, self.id)

    @property
    def job_type(self) -> str:
        return self._job_type

    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        summary: str | None = None,
        goal: str | None = None,
        hidden: bool | None = None,
        **ignored: Any,  # step_sync, overwrite: W&B options with nothing to do here
    ) -> dict[str, Any]:
        """How `name` (or a glob, "val/*") is summarised (summary="min|max|mean|last|best|none",
        comma-separated for several; best follows goal="minimize|maximize") and its default x axis
        (step_metric). Stored with the run on the server; see strata.sdk._metric_defs."""
        d = _metric_defs.definition(name, step_metric, summary, goal, hidden)
        self._metric_defs[name] = d
        patch = {k: d.get(k) for k in ("step_metric", "summary", "goal", "hidden")}  # null clears
        self._push(run_pb2.Run(config_json=json.dumps({_metric_defs.RESERVED: {name: patch}})), "config_json")
        return d

    @property
    def tags(self) -> tuple[str, ...]:
        return self._tags

    @tags.setter
    def tags(self, tags: list[str] | tuple[str, ...]) -> None:
        """`run.tags = [...]` replaces the run's tags on the server (W&B style)."""
        self._tags = tuple(tags)
        self._push(run_pb2.Run(tags=list(tags)), "tags")

    @property
    def notes(self) -> str:
        return self._notes

    @notes.setter
    def notes(self, notes: str) -> None:
        self._notes = notes
        self._push(run_pb2.Run(notes=notes), "notes")

    def _push(self, run: run_pb2.Run, path: str) -> None:
        run.name = self.resource_name
        request = pb.UpdateRunRequest(run=run)
        request.update_mask.paths.append(path)
        if not self._spool_closed:  # after finish, updates go straight to the server
            self._spool.control(UPDATE, request.SerializeToString())
        elif self._offline:
            raise RuntimeError(f"offline run {self.path} is finished; sync it, then update it on the server")
        if self._offline:
            return
        try:
            self.client.ingest.UpdateRun(request, timeout=30)
        except StrataError as e:
            if e.code.name != "UNAVAILABLE":
                raise
            _say(f"server unavailable; the {path} update stays in the spool for `strata sync`")

    def _send_heartbeat(self) -> None:
        response = self.client.ingest.SendHeartbeat(
            pb.SendHeartbeatRequest(name=self.resource_name), timeout=10
        )
        if response.should_stop:
            _say(f"run {self.path} was stopped on the server")

    def wait_spooled(self, timeout: float = 60.0) -> bool:
        """Block until everything logged so far is written to the spool file (it then survives a
        crash of this process). Returns False on timeout."""
        media = self._media.wait_spooled(timeout) if self._media is not None else True
        return self._producer.sync(timeout) and media

    # --- finishing ---

    def finish(
        self, exit_code: int = 0, *, state: run_pb2.RunState | None = None, timeout: float | None = None
    ) -> None:
        """Flush, wait until the server committed every point (a progress line appears when that takes
        more than two seconds), and mark the run finished (exit_code 0) or failed. If the background
        producer failed, the run is marked failed and its error is raised here (unless log() raised
        it already); what was spooled before is still delivered."""
        global _current
        if self._finished:
            return
        self._finished = True
        if self._sampler is not None:
            self._sampler.stop()
        media_ok = self._close_media(timeout)
        self._producer.close()
        failure = self._producer.error
        if state is None:
            ok = exit_code == 0 and failure is None
            state = run_pb2.RUN_STATE_FINISHED if ok else run_pb2.RUN_STATE_FAILED
        request = pb.FinishRunRequest(name=self.resource_name, state=state, exit_code=exit_code)
        self._spool.control(FINISH, request.SerializeToString())
        if _current is self:
            _current = None
        if self._offline:
            self._close_spool(delete=False)
            _say(f"offline run saved in {self.spool_path}; upload it with `strata sync {self.spool_path}`")
        else:
            self._finish_online(request, timeout, keep_spool=failure is not None or not media_ok)
        if failure is not None and not self._producer_error_raised:
            self._raise_producer_error()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish(0)
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish(130, state=run_pb2.RUN_STATE_KILLED)
        else:
            self.finish(1)

    # --- artifacts: the registry owner's module does the work ---

    def log_artifact(
        self, artifact_or_path: Any, name: str | None = None, type: str | None = None, aliases: Any = None
    ) -> Any:
        """Log an Artifact, or a file/folder path as one (name defaults to the file name, type to
        "unspecified"). Offline, the artifact waits in the run's spool for `strata sync`."""
        from strata.sdk import artifact as _artifact

        return _artifact.log_artifact(self, artifact_or_path, aliases, name=name, type=type)

    def log_code(
        self,
        root: str | None = ".",
        name: str | None = None,
        include_fn: Any = None,
        exclude_fn: Any = None,
    ) -> Any:
        """W&B's run.log_code: the source files under root (.py, requirements*.txt, Dockerfile*, or
        include_fn(path, root)) as a `code` artifact named source-<run id>; None when none matched."""
        from strata.sdk._wandb_extras import log_code

        return log_code(self, root, name, include_fn, exclude_fn)

    def use_artifact(self, ref: Any, type: str | None = None) -> Any:  # W&B's name
        from strata.sdk import artifact as _artifact

        return _artifact.use_artifact(self, ref, type)

    def link_artifact(self, artifact: Any, target_path: str, aliases: list[str] | None = None) -> Any:
        """Link a version (an Artifact, logged first if it is not yet, or a reference) into the registry
        collection "[entity/]registry/collection"; returns the link (see Artifact.link)."""
        from strata.sdk._artifact_links import link_artifact

        return link_artifact(self, artifact, target_path, aliases)

    def __repr__(self) -> str:
        return f"<strata.Run {self.path} ({'offline' if self._offline else 'online'})>"


def init(
    project: str | None = None,
    entity: str | None = None,
    *,
    job_type: str = "",
    group: str = "",
    tags: list[str] | tuple[str, ...] | None = None,
    notes: str = "",
    config: Any = None,
    id: str | None = None,  # W&B's name
    resume: bool | str | None = None,
    name: str | None = None,
    allow_out_of_order: bool = False,
    mode: str | None = None,
    addr: str | None = None,
    api_key: str | None = None,
    **wandb_only: Any,
) -> Run:
    """Create (or resume) a run and start its background sender. See docs/guides/runs-and-metrics.md.

    mode: "online" (default) or "offline" (only the spool; upload later with `strata sync`; W&B's
    "disabled" maps to offline); $STRATA_MODE sets the default. resume: "never" (default),
    "allow"/True, or "must" (needs id). project may be "entity/project"; config may be a dict, an
    argparse.Namespace, a dataclass or a YAML file path. W&B-only arguments (dir, reinit, save_code,
    settings, ...) are accepted with one warning each.
    """
    global _current
    _wandb.ignored_kwargs(wandb_only)
    project, entity = _wandb.split_project(project, entity)
    config = _wandb.config_dict(config)
    mode = (_wandb.map_mode(mode) or os.environ.get("STRATA_MODE") or "online").lower()
    if mode not in ("online", "offline"):
        raise ValueError(f"mode must be 'online' or 'offline', not {mode!r}")
    if resume not in _RESUME:
        raise ValueError(f"resume must be one of 'never', 'allow', 'must' (got {resume!r})")
    client = Client(addr, api_key=api_key)
    offline = mode == "offline"
    # offline: the entity may stay empty; `strata sync` fills in the caller's default entity
    entity_name = (
        (entity or os.environ.get("STRATA_ENTITY", "")) if offline else default_entity(client, entity)
    )
    request = pb.CreateRunRequest(
        parent=project_parent(entity_name or "", default_project(project)),
        run_id=id or (new_run_id() if offline else ""),
        display_name=name or "",
        job_type=job_type,
        group=group,
        tags=list(tags or ()),
        notes=notes,
        config_json=to_json(dict(config or {})),
        resume=_RESUME[resume],
        allow_out_of_order_steps=allow_out_of_order,
        provenance=_provenance.capture(),
    )
    created = None
    if not offline:
        created = client.ingest.CreateRun(request, timeout=30)
        if created.resumed:  # a crashed process of this run may have left batches: they come first
            run_dir = _settings.spool_dir() / default_project(project) / created.run.run_id
            if deliver_leftovers(client, run_dir, warn=_say):
                created.run.CopyFrom(
                    client.ingest.GetRun(pb.GetRunRequest(name=created.run.name), timeout=30).run
                )
    run = Run(client, request, created.run if created is not None else None, offline)
    run.resumed = bool(created and created.resumed)
    _current = run
    _register_atexit()
    return run


def finish(exit_code: int = 0) -> None:
    """Finish the current run (the last one `strata.init` returned), like `wandb.finish()`."""
    if _current is not None:
        _current.finish(exit_code)


_atexit_registered = False


def _register_atexit() -> None:
    global _atexit_registered
    if _atexit_registered:
        return
    _atexit_registered = True
    previous = sys.excepthook

    def excepthook(*args: Any) -> None:
        global _failed_by_exception
        _failed_by_exception = True
        previous(*args)

    sys.excepthook = excepthook
    atexit.register(_finish_at_exit)


def _finish_at_exit() -> None:
    if _current is not None:
        _current.finish(1 if _failed_by_exception else 0)
