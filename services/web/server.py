"""Running the console under uvicorn: alone (`serve`), or as a task beside the gRPC server (`WebServer`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn
from starlette.applications import Starlette

from ..common.config import Settings
from .app import create_app
from .config import WebSettings


def uvicorn_config(app: Starlette, web_addr: str) -> uvicorn.Config:
    host, _, port = web_addr.rpartition(":")
    return uvicorn.Config(
        app,
        host=host or "127.0.0.1",
        port=int(port),
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        lifespan="off",
    )


def serve(settings: WebSettings) -> None:
    uvicorn.Server(uvicorn_config(create_app(settings), settings.web_addr)).run()


class _HostedServer(uvicorn.Server):
    """uvicorn inside another process's event loop: the host handles SIGTERM/SIGINT and stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(addr: str) -> socket.socket:
    """A listening socket on host:port (port 0: any free port), bound here so that a taken address is an
    OSError for the caller rather than uvicorn's exit of the whole process."""
    host, _, port = addr.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


class WebServer:
    """The console inside another event loop (the all-in-one server): start(), then stop()."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self._server = _HostedServer(uvicorn_config(self.app, settings.web_addr))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> str:
        """Bind (an OSError when the address is taken: the host decides what to do), then serve."""
        sock = bind(self.settings.web_addr)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="strata-web")
        while not self._server.started:
            if self._task.done():
                raise OSError(f"the console could not start on {self.settings.web_addr}")
            await asyncio.sleep(0.02)
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 10)
        self.app.state.bridge.close()
        await self.app.state.sessions.close()


async def start_beside(grpc_address: str, settings: Settings) -> tuple[WebServer, str]:
    """Start the console in the running loop, calling the all-in-one server at `grpc_address`."""
    host, _, port = grpc_address.rpartition(":")
    if host in ("0.0.0.0", "[::]", "::", ""):
        host = "127.0.0.1"
    web = WebServer(
        WebSettings.from_env(
            web_addr=settings.web_addr,
            grpc_addr=f"{host}:{port}",
            auth_mode=settings.auth_mode,
            pg_dsn=settings.pg_dsn,
        )
    )
    return web, await web.start()
