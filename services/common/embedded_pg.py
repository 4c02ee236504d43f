"""The embedded default PostgreSQL: a real server started by `pgserver` in a data folder, supervised.

pgserver shares one postmaster among the processes that use a data folder: each adds its pid to
`.handle_pids.json`, and the last one to leave stops the postmaster. A server that crashed (SIGKILL,
OOM) never removes its pid, so the next server on the folder would adopt the running postmaster but
never stop it; `start()` therefore forgets the pids of processes that are gone first, and the
postmaster a crashed server left behind is adopted and stopped with this server.

`supervise()` (a background task of the server) checks the postmaster every few seconds and starts
it again when it died; the pool's connections to the dead one fail and are replaced on next use.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import psutil

from .logging import get_logger

if TYPE_CHECKING:
    from pgserver import PostgresServer

log = get_logger(__name__)

HANDLES = ".handle_pids.json"
PIDFILE = "postmaster.pid"


def process_alive(pid: int) -> bool:
    """True when `pid` is a live process (a zombie, dead but not yet reaped, is not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def postmaster_pid(datadir: Path) -> int | None:
    """The postmaster pid recorded in `datadir`, when that process is alive."""
    try:
        pid = int((datadir / PIDFILE).read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if process_alive(pid) else None


def forget_dead_handles(datadir: Path) -> list[int]:
    """Drop the pids of processes that are gone from pgserver's handle list; returns them."""
    path = datadir / HANDLES
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []
    dead = [p for p in pids if not process_alive(p)]
    if dead:
        path.write_text(json.dumps([p for p in pids if p not in dead]))
        log.info("embedded_postgres_stale_handles_dropped", pids=dead)
    return dead


def backends_left(datadir: Path) -> list[int]:
    """Live PostgreSQL processes working in `datadir` (a dead postmaster's backends exit shortly
    after it; a new postmaster must not start before)."""
    found = []
    for proc in psutil.process_iter(["name", "cwd", "status"]):
        info = proc.info
        if info["name"] == "postgres" and info["status"] != psutil.STATUS_ZOMBIE:
            with contextlib.suppress(TypeError, ValueError):
                if info["cwd"] and Path(info["cwd"]).resolve() == datadir:
                    found.append(proc.pid)
    return found


def _pgserver() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pgserver warns about XDG_RUNTIME_DIR; harmless
        import pgserver

        return pgserver


def embedded_available() -> bool:
    """True when `pgserver` (the `[embedded]` extra) is installed."""
    return importlib.util.find_spec("pgserver") is not None


class EmbeddedPostgresMissing(RuntimeError):
    """STRATA_PG_DSN is unset and the optional `pgserver` package (the `[embedded]` extra) is absent."""

    def __init__(self) -> None:
        super().__init__(
            "no PostgreSQL: set STRATA_PG_DSN (or STRATA_PG_DSN_FILE) to your database, or install the "
            "embedded one for a single machine: pip install 'strata-ml-server[embedded]'"
        )


class EmbeddedPostgres:
    """Starts (or adopts) a PostgreSQL in `datadir`; `stop()` stops it unless another live process
    still uses it; `supervise()` restarts it when it dies."""

    def __init__(self, datadir: Path) -> None:
        self.datadir = Path(datadir).resolve()
        self._server: PostgresServer | None = None
        self.restarts = 0

    def start(self) -> str:
        self.datadir.mkdir(parents=True, exist_ok=True)
        try:
            pgserver = _pgserver()
        except ImportError as e:
            raise EmbeddedPostgresMissing() from e
        with pgserver.postgres_server.PostgresServer._lock:
            forget_dead_handles(self.datadir)
            if not self.running() and not backends_left(self.datadir):
                self._forget_pidfile()  # a postmaster that died while no server ran
        self._server = server = pgserver.get_server(self.datadir, cleanup_mode="stop")
        dsn: str = server.get_uri()
        log.info("embedded_postgres_started", datadir=str(self.datadir), pid=server.get_pid())
        return dsn

    def running(self) -> bool:
        return postmaster_pid(self.datadir) is not None

    def restart(self) -> None:
        """Start the postmaster again after it died (blocking: run it in a thread)."""
        server = self._server
        if server is None or self.running():
            return
        left = backends_left(self.datadir)
        if left:
            raise RuntimeError(f"backends of the dead postmaster still run: {left}")
        with server._lock:
            self._forget_pidfile()
            server.ensure_postgres_running()
        self.restarts += 1
        log.warning("embedded_postgres_restarted", datadir=str(self.datadir), pid=server.get_pid())

    def _forget_pidfile(self) -> None:
        """Remove the pid file of a dead postmaster (only when no process works in the folder): an
        unreaped one (a zombie) keeps its pid taken, so pgserver and PostgreSQL would both believe it
        still runs."""
        with contextlib.suppress(FileNotFoundError):
            (self.datadir / PIDFILE).unlink()

    async def supervise(self, interval: float = 2.0) -> None:
        """Background task: restart the postmaster whenever it is found dead."""
        while True:
            await asyncio.sleep(interval)
            if self._server is None or await asyncio.to_thread(self.running):
                continue
            log.warning("embedded_postgres_died", datadir=str(self.datadir))
            try:
                await asyncio.to_thread(self.restart)
            except Exception as exc:  # e.g. the old backends still hold its shared memory: next pass
                log.warning("embedded_postgres_restart_failed", error=type(exc).__name__)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded_postgres_stopped", datadir=str(self.datadir))
