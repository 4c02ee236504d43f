"""The end of a run's life in this process, for `Run.finish`: close the media pipeline, wait until the
server committed every batch (with a progress line when that takes a while), mark the run finished on
the server, and close the spool — deleting it only when everything in it was delivered.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from strata.client import Client
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2
from strata.sdk._media_log import MediaLogger
from strata.sdk._sender import Heartbeat
from strata.sdk._spool import SpoolLock, SpoolWriter
from strata.sdk._stream import BatchStreamer, Window, wait_drained

STATE_WORD = {
    run_pb2.RUN_STATE_FINISHED: "finished",
    run_pb2.RUN_STATE_FAILED: "failed",
    run_pb2.RUN_STATE_KILLED: "killed",
}


def say(message: str) -> None:
    print(f"strata: {message}", file=sys.stderr, flush=True)


def finish_timeout(timeout: float | None) -> float:
    """`timeout`, or $STRATA_FINISH_TIMEOUT seconds (default 600)."""
    return timeout if timeout is not None else float(os.environ.get("STRATA_FINISH_TIMEOUT", "600"))


class RunFinishing:
    """The finishing steps of strata.sdk.run.Run (a part of it: the attributes below are the run's)."""

    client: Client
    path: str
    spool_path: Path
    committed_points: int
    _offline: bool
    _media: MediaLogger | None
    _window: Window | None
    _streamer: BatchStreamer | None
    _heartbeat: Heartbeat | None
    _spool: SpoolWriter
    _spool_lock: SpoolLock
    _spool_closed: bool

    def _close_media(self, timeout: float | None) -> bool:
        """Encode, spool and (online) deliver every queued rich value; True when nothing is left."""
        if self._media is None:
            return True
        delivered = self._media.close(finish_timeout(timeout))
        if not delivered and not self._offline:
            say(f"some rich values were not delivered; `strata sync {self.spool_path}` will deliver them")
        return delivered

    def _finish_online(self, request: pb.FinishRunRequest, timeout: float | None, keep_spool: bool) -> None:
        drained = self._drain(finish_timeout(timeout))
        finished = False
        if drained:
            try:
                self.client.ingest.FinishRun(request, timeout=30)
                finished = True
            except StrataError as e:
                say(f"could not mark the run finished ({e}); `strata sync {self.spool_path}` will")
        self._close_spool(delete=drained and finished and not keep_spool)
        self.committed_points = self._window.committed_points if self._window is not None else 0
        if drained:
            word = STATE_WORD.get(request.state, "ended")
            say(f"run {self.path} {word}: {self.committed_points} points committed")
        else:
            say(f"the server did not acknowledge every batch; run `strata sync {self.spool_path}` later")

    def _drain(self, timeout: float) -> bool:
        window, streamer = self._window, self._streamer
        assert window is not None and streamer is not None
        tty = sys.stderr.isatty()
        last = [0.0]

        def progress(elapsed: float) -> None:
            # a progress line after two seconds: redrawn on a terminal, every 10 s in a log file
            if elapsed < 2 or (not tty and elapsed - last[0] < 10):
                return
            batches, points = window.pending
            line = f"strata: waiting for the server to commit {points} points ({batches} batches), {elapsed:.0f}s"
            print(f"\r{line}" if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
            last[0] = elapsed

        drained = wait_drained(window, timeout, progress, alive=streamer.is_alive)
        if tty and last[0]:
            print(file=sys.stderr)
        streamer.stop()
        streamer.join(timeout=10)
        if self._heartbeat is not None:
            self._heartbeat.stop()
        return drained

    def _close_spool(self, delete: bool) -> None:
        self._spool_closed = True
        self._spool.close()
        self._spool_lock.release()
        if delete:
            shutil.rmtree(self.spool_path, ignore_errors=True)
            for parent in (self.spool_path.parent, self.spool_path.parent.parent):
                try:
                    parent.rmdir()
                except OSError:
                    break
