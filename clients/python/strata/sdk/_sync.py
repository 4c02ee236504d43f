"""Uploading spools: `strata sync PATH`, and the leftovers of a crashed process of the same run.

Syncing is idempotent: the run is created with resume="allow", the stream is reopened with the
spool's own stream id so the server says which batches it already committed and only the rest is
sent, config/summary updates are JSON merge patches (applying one twice changes nothing), and
FinishRun is idempotent for the same state.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2
from strata.sdk._artifact_offline import sync_artifacts
from strata.sdk._context import default_entity
from strata.sdk._media_log import deliver_spool
from strata.sdk._spool import SpoolContents, SpoolLock, find_spools, read_spool
from strata.sdk._stream import METHOD, BatchStreamer, Window

if TYPE_CHECKING:
    from strata.client import Client, IngestService

PROGRESS_EVERY = 5.0


def _say(message: str) -> None:
    print(f"strata: {message}", file=sys.stderr, flush=True)


def new_run_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))


def new_stream_id() -> str:
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:64] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class SyncResult:
    directory: Path
    run: str = ""
    sent_batches: int = 0
    media: int = 0  # rich values newly added to the run's media index
    run_points: int = 0
    finished: bool = False
    complete: bool = False  # every batch is committed (and the run finished, when the spool says so)
    skipped: str = ""
    artifacts: list[str] = field(default_factory=list)  # versions logged from the spool's queue


def committed_sequence(client: Client, run_name: str, stream_id: str) -> int:
    """Open the stream only to learn its committed sequence."""
    call = client.channel_for(METHOD).stream_stream(
        METHOD, request_serializer=lambda b: b, response_deserializer=pb.StreamMetricsResponse.FromString
    )
    opening = pb.StreamMetricsRequest(
        open=pb.StreamOpen(run=run_name, stream_id=stream_id)
    ).SerializeToString()
    responses = call(iter([opening]), metadata=client.call_metadata(), timeout=60)
    try:
        return next(responses).opened.committed_sequence
    except grpc.RpcError as e:
        raise StrataError.from_rpc_error(e) from None
    finally:
        responses.cancel()  # the answer to `open` is all it needed: end the call now, not when collected


def _fix_names(contents: SpoolContents, client: Client) -> tuple[pb.CreateRunRequest, str]:
    assert contents.create is not None
    create = pb.CreateRunRequest.FromString(contents.create)
    parts = create.parent.split("/")
    if not parts[1]:  # an offline run without entity: the caller's default entity
        parts[1] = default_entity(client)
        create.parent = "/".join(parts)
    create.resume = run_pb2.RESUME_MODE_ALLOW
    return create, f"{create.parent}/runs/{create.run_id}"


def sync_spool(
    client: Client,
    directory: Path,
    *,
    finish: bool = True,
    timeout: float = 600.0,
    warn: Callable[[str], None] = print,
    progress: Callable[[str], None] | None = None,
) -> SyncResult:
    """Deliver one spool directory (see module docstring). Skips spools a live process holds."""
    progress = progress or _say
    result = SyncResult(directory)
    lock = SpoolLock(directory)
    if not lock.acquire():
        result.skipped = "in use by a running process"
        return result
    try:
        contents = read_spool(directory)
        if contents.create is None:
            result.skipped = "no run record (not a spool)"
            return result
        create, name = _fix_names(contents, client)
        result.run = name
        ingest = client.ingest
        try:
            run = ingest.GetRun(pb.GetRunRequest(name=name), timeout=30).run
        except StrataError as e:
            if e.code != grpc.StatusCode.NOT_FOUND:
                raise
            run = ingest.CreateRun(create, timeout=30).run
        committed = committed_sequence(client, name, directory.name)
        todo = sorted(s for s in contents.batches if s > committed)
        if todo and run.state != run_pb2.RUN_STATE_RUNNING:
            ingest.CreateRun(create, timeout=30)  # resume: a finished or crashed run takes the rest
        delivered = _stream(client, name, directory.name, contents, committed, todo, timeout, warn, progress)
        result.sent_batches = len(todo) if delivered else 0
        result.media = deliver_spool(client, name, create.parent, directory, warn)
        for payload in contents.updates:
            update = pb.UpdateRunRequest.FromString(payload)
            update.run.name = name
            ingest.UpdateRun(update, timeout=30)
        result.artifacts = sync_artifacts(client, directory, name)
        if finish and contents.finish is not None and delivered:
            result.finished = _finish(ingest, name, contents.finish, warn)
        result.run_points = ingest.GetRun(pb.GetRunRequest(name=name), timeout=30).run.point_count
        result.complete = delivered and (contents.finish is None or result.finished or not finish)
        return result
    finally:
        lock.release()


def _stream(
    client: Client,
    name: str,
    stream_id: str,
    contents: SpoolContents,
    committed: int,
    todo: list[int],
    timeout: float,
    warn: Callable[[str], None],
    progress: Callable[[str], None],
) -> bool:
    """Send the `todo` batches; a progress line every PROGRESS_EVERY seconds after the first two."""
    if not todo:
        return True
    window = Window(acked=committed)
    for seq in todo:
        window.add(seq, None, contents.batches[seq], 0)
    window.close()
    streamer = BatchStreamer(client, name, stream_id, window, warn=warn)
    streamer.start()
    start = time.monotonic()
    shown = 0.0
    while streamer.is_alive() and time.monotonic() - start < timeout:
        streamer.join(timeout=0.5)
        elapsed = time.monotonic() - start
        if streamer.is_alive() and elapsed >= 2 and elapsed - shown >= PROGRESS_EVERY:
            shown = elapsed
            done = min(len(todo), max(0, window.acked - committed))
            progress(f"syncing {name}: {done} of {len(todo)} batches committed, {elapsed:.0f}s")
    if streamer.is_alive():
        streamer.stop()
        streamer.join(timeout=10)
    return window.acked >= todo[-1]


def _finish(ingest: IngestService, name: str, payload: bytes, warn: Callable[[str], None]) -> bool:
    request = pb.FinishRunRequest.FromString(payload)
    request.name = name
    try:
        ingest.FinishRun(request, timeout=30)
        return True
    except StrataError as e:
        if e.code == grpc.StatusCode.FAILED_PRECONDITION:
            warn(f"{name} already ended in another state; left as it is")
            return True
        raise


def sync_paths(
    client: Client,
    paths: list[Path],
    *,
    finish: bool = True,
    clean: bool = False,
    warn: Callable[[str], None] = print,
) -> list[SyncResult]:
    results = []
    for root in paths:
        for directory in find_spools(root):
            result = sync_spool(client, directory, finish=finish, warn=warn)
            if clean and result.complete:
                shutil.rmtree(directory, ignore_errors=True)
            results.append(result)
    return results


def deliver_leftovers(client: Client, run_dir: Path, warn: Callable[[str], None]) -> int:
    """Spools that earlier (crashed) processes of this run left in `run_dir`: deliver them before this
    process logs anything (their steps come first), without finishing the run; delete each once
    delivered. Returns how many were delivered."""
    if not run_dir.is_dir():
        return 0
    delivered = 0
    for directory in sorted(p for p in run_dir.iterdir() if (p / "control.log").exists()):
        try:
            result = sync_spool(client, directory, finish=False, warn=warn)
        except StrataError as e:
            warn(f"could not deliver the earlier spool {directory}: {e}; try `strata sync {directory}`")
            continue
        if result.complete:
            shutil.rmtree(directory, ignore_errors=True)
            delivered += 1
            if result.sent_batches:  # nothing was left to send: nothing to say
                warn(f"delivered {result.sent_batches} batches an earlier process of this run had not sent")
    return delivered
