"""WatchAlias: the current holder of an alias, then every move, across processes and reconnects.

Every alias move commits an alias_events row with a per-artifact revision and a NOTIFY (aliases/store.py),
so any registry replica hears it. Each process keeps ONE listening connection (`AliasHub.run`, a
background task) and wakes the watchers of the artifact that moved; a watcher then reads the events after
the last revision it sent (the catch-up query) and streams them. Notifications only wake watchers: the
events always come from the table, so a lost notification (a reconnect of the listening connection, a
replica restart) loses nothing: the hub wakes every watcher after reconnecting, and each watcher also
re-reads every POLL_SECONDS. A client that reconnects passes the last revision it saw as
after_revision and gets every move it missed, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

from ...common.deps import Deps
from ...common.errors import InvalidArgument, Reason, Unavailable
from ...common.logging import get_logger
from ...common.metrics import ALIAS_WATCHERS
from ...common.names import ALIAS_RE, ArtifactName, check, parse_artifact
from ..lookup import artifact_id_or_404
from ..model import SET, AliasEvent, Version
from ..versions import store as versions_store
from . import store

log = get_logger(__name__)

POLL_SECONDS = 15.0  # safety net: re-read even without a notification
HEALTH_SECONDS = 5.0  # how often the listening connection is checked
BATCH = 500


HUB_KEY = "registry.alias_hub"


class AliasHub:
    """One LISTEN connection per process, fanning notifications out to the watchers of each artifact."""

    def __init__(self) -> None:
        self._watchers: dict[int, set[asyncio.Event]] = {}
        self.listening = asyncio.Event()
        self.backend_pid: int | None = None  # PostgreSQL pid of the listening connection (diagnostics)

    def subscribe(self, artifact_id: int) -> asyncio.Event:
        wake = asyncio.Event()
        self._watchers.setdefault(artifact_id, set()).add(wake)
        ALIAS_WATCHERS.inc()
        return wake

    def unsubscribe(self, artifact_id: int, wake: asyncio.Event) -> None:
        watchers = self._watchers.get(artifact_id)
        if watchers is not None and wake in watchers:
            watchers.discard(wake)
            ALIAS_WATCHERS.dec()
            if not watchers:
                del self._watchers[artifact_id]

    def _on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        try:
            artifact_id = int(payload.split(":", 1)[0])
        except ValueError:
            return
        for wake in self._watchers.get(artifact_id, ()):
            wake.set()

    def wake_all(self) -> None:
        for watchers in self._watchers.values():
            for wake in watchers:
                wake.set()

    async def run(self, deps: Deps) -> None:
        """Background task: keep a listening connection, reconnecting with backoff; never returns."""
        backoff = 0.5
        while True:
            try:
                await self._listen(deps)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("alias_listener_lost", error=type(e).__name__, retry_in=backoff)
            self.listening.clear()
            self.wake_all()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _listen(self, deps: Deps) -> None:
        async with deps.pool.acquire() as conn:  # held for the hub's lifetime: a dedicated connection
            lost = asyncio.Event()

            def on_termination(_conn: object) -> None:
                lost.set()

            conn.add_termination_listener(on_termination)
            await store.listen(conn, self._on_notify)
            self.backend_pid = conn.get_server_pid()
            try:
                self.listening.set()
                self.wake_all()  # catch up on anything missed while not listening
                while not lost.is_set():
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(lost.wait(), HEALTH_SECONDS)
                    if not lost.is_set():
                        await store.ping(conn, HEALTH_SECONDS)
                raise ConnectionError("listening connection closed")
            finally:
                self.listening.clear()
                conn.remove_termination_listener(on_termination)
                if not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await store.unlisten(conn, self._on_notify)


def hub_of(deps: Deps) -> AliasHub:
    """The process's hub, kept in deps.extras (created on first use)."""
    hub = deps.extras.get(HUB_KEY)
    if not isinstance(hub, AliasHub):
        hub = deps.extras[HUB_KEY] = AliasHub()
    return hub


async def watch(
    deps: Deps, artifact: str, alias: str, after_revision: int, timeout: float
) -> AsyncIterator[tuple[AliasEvent, Version | None]]:
    """Yield (event, version after it): the current holder first (after_revision 0), then every move."""
    hub = hub_of(deps)
    name = parse_artifact(artifact, "artifact")
    check(alias, ALIAS_RE, "alias", "alias")
    if after_revision < 0:
        raise InvalidArgument("after_revision", Reason.OUT_OF_RANGE, "after_revision must be >= 0")
    async with deps.pool.acquire(timeout=timeout) as conn:
        art_id = await artifact_id_or_404(conn, name)
    wake = hub.subscribe(art_id)  # before the first read: no move can slip between read and wait
    try:
        last = after_revision
        if after_revision == 0:
            current = await _current(deps, name, art_id, alias, timeout)
            if current is not None:
                yield current
                last = current[0].revision
        while True:
            wake.clear()
            events = await _events_after(deps, name, art_id, alias, last, timeout)
            for item in events:
                yield item
                last = item[0].revision
            if len(events) < BATCH:
                await _wait(wake, deps.stopping)
    finally:
        hub.unsubscribe(art_id, wake)


async def _wait(wake: asyncio.Event, stopping: asyncio.Event) -> None:
    """Until a notification, the poll interval, or the server stopping (then UNAVAILABLE: the client
    reconnects, to another replica, with the last revision it saw and misses nothing)."""
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stopping.wait())]
    try:
        await asyncio.wait(waiters, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
    if stopping.is_set():
        raise Unavailable("the server is stopping: reconnect with after_revision", retry_after=0.5)


async def _current(
    deps: Deps, name: ArtifactName, art_id: int, alias: str, timeout: float
) -> tuple[AliasEvent, Version | None] | None:
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction(isolation="repeatable_read"):
        held = await store.holder(conn, art_id, alias)
        if held is None:
            return None
        last = await store.last_event(conn, name, art_id, alias)
        version = await versions_store.version_by_id(conn, held)
    assert last is not None
    return dataclasses.replace(last, kind=SET, to_version=version.name, to_version_id=held), version


async def _events_after(
    deps: Deps, name: ArtifactName, art_id: int, alias: str, after: int, timeout: float
) -> list[tuple[AliasEvent, Version | None]]:
    async with deps.pool.acquire(timeout=timeout) as conn:
        events = await store.events_after(conn, name, art_id, alias, after, BATCH)
        ids = [e.to_version_id for e in events if e.to_version_id]
        versions = await versions_store.versions_by_id(conn, ids)
    return [(ev, None if ev.to_version_id is None else versions[ev.to_version_id]) for ev in events]
