"""WatchAlias: the current holder at once, then every move; across replicas, a lost listening connection
and a registry restart, with no move missed or repeated."""

from __future__ import annotations

import queue
import socket
import threading
import time

import grpc
import pytest
from strata.client import Client
from strata.errors import Reason, StrataError
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb
from strata.sdk.watch import watch_alias

from tests.fixtures.servers import ServerThread, make_settings
from tests.registry.helpers import log_version, models_client, sql

E, P = "erin", "watch"
ART = f"entities/{E}/projects/{P}/artifacts/model"


def v(n: int) -> str:
    return f"{ART}/versions/v{n}"


client = models_client(E, P, "model", lambda i: {"w": f"{i}".encode()})


def move(client, n: int, alias: str = "production") -> int:  # type: ignore[no-untyped-def]
    return client.registry.SetAlias(pb.SetAliasRequest(version=v(n), alias=alias)).event.revision


class Watcher:
    """Runs watch_alias in a thread and collects (revision, version name) pairs."""

    def __init__(self, addr: str, alias: str = "production", after: int = 0) -> None:
        self.items: queue.Queue[tuple[int, str]] = queue.Queue()
        self.stop = threading.Event()
        self.client = Client(addr)
        self.thread = threading.Thread(target=self._run, args=(alias, after), daemon=True)
        self.thread.start()

    def _run(self, alias: str, after: int) -> None:
        for msg in watch_alias(
            self.client, ART, alias, after_revision=after, stream_timeout=20, max_backoff=0.5, stop=self.stop
        ):
            self.items.put((msg.event.revision, msg.version.name if msg.HasField("version") else ""))

    def take(self, n: int, timeout: float = 60.0) -> list[tuple[int, str]]:
        deadline = time.monotonic() + timeout
        return [self.items.get(timeout=max(0.1, deadline - time.monotonic())) for _ in range(n)]

    def close(self) -> None:
        self.stop.set()
        self.client.close()
        self.thread.join(timeout=10)


def test_watch_sends_the_current_holder_then_every_move(server, client) -> None:  # type: ignore[no-untyped-def]
    first = move(client, 0)
    w = Watcher(server.addr)
    try:
        assert w.take(1) == [(first, v(0))]
        revs = [move(client, 1), move(client, 2), move(client, 0)]
        assert w.take(3) == list(zip(revs, [v(1), v(2), v(0)], strict=True))
    finally:
        w.close()


def test_after_revision_replays_missed_moves_in_order(server, client) -> None:  # type: ignore[no-untyped-def]
    seen = move(client, 1, "staging")
    missed = [move(client, 2, "staging"), move(client, 3, "staging")]
    stream = client.registry.WatchAlias(
        pb.WatchAliasRequest(artifact=ART, alias="staging", after_revision=seen), timeout=10
    )
    got = [next(stream), next(stream)]
    assert [(m.event.revision, m.event.to_version) for m in got] == list(
        zip(missed, [v(2), v(3)], strict=True)
    )
    assert got[0].event.kind == artifact_pb2.ALIAS_EVENT_KIND_SET and got[1].version.name == v(3)


def test_watching_an_unknown_artifact_is_not_found(client) -> None:  # type: ignore[no-untyped-def]
    stream = client.registry.WatchAlias(
        pb.WatchAliasRequest(artifact=f"entities/{E}/projects/{P}/artifacts/nope", alias="production"),
        timeout=10,
    )
    with pytest.raises(StrataError) as e:
        next(stream)
    assert e.value.code == grpc.StatusCode.NOT_FOUND and e.value.reason == Reason.NOT_FOUND


def test_a_watcher_on_one_replica_sees_moves_made_on_another(server, client, pg_dsn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    replica = ServerThread(make_settings(tmp_path, pg_dsn)).start()
    first = move(client, 0, "replicated")
    w = Watcher(replica.addr, alias="replicated")
    try:
        assert w.take(1) == [(first, v(0))]
        revs = [move(client, 3, "replicated"), move(client, 1, "replicated")]
        assert w.take(2) == list(zip(revs, [v(3), v(1)], strict=True))
    finally:
        w.close()
        replica.stop()


def test_losing_the_listening_connection_loses_no_move(server, client) -> None:  # type: ignore[no-untyped-def]
    first = move(client, 0, "listener")
    w = Watcher(server.addr, alias="listener")
    try:
        assert w.take(1) == [(first, v(0))]
        hub = server.deps.extras["registry.alias_hub"]
        sql(server, "SELECT pg_terminate_backend($1)", hub.backend_pid)
        revs = [move(client, 1, "listener"), move(client, 2, "listener")]
        assert w.take(2, timeout=60) == list(zip(revs, [v(1), v(2)], strict=True))
    finally:
        w.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_watcher_across_a_registry_restart_misses_no_move(server, client, pg_dsn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The watcher's registry stops; moves happen on another replica meanwhile; the registry comes back on
    the same address; the watcher reconnects with its last revision and gets every move, in order."""
    settings = make_settings(tmp_path, pg_dsn, addr=f"127.0.0.1:{_free_port()}")
    watched = ServerThread(settings).start()
    w = Watcher(watched.addr, alias="restart")
    try:
        expected = [(move(client, 0, "restart"), v(0))]
        assert w.take(1) == expected
        expected.append((move(client, 1, "restart"), v(1)))
        assert w.take(1) == expected[1:]
        watched.stop()
        expected += [(move(client, n, "restart"), v(n)) for n in (2, 3, 0)]
        watched = ServerThread(settings).start()
        expected.append((move(client, 2, "restart"), v(2)))
        assert w.take(4, timeout=90) == expected[2:]
        history = client.registry.ListAliasHistory(
            pb.ListAliasHistoryRequest(artifact=ART, alias="restart")
        ).events
        assert [e.revision for e in reversed(history)] == [rev for rev, _ in expected]
        assert w.items.empty()
    finally:
        w.close()
        watched.stop()


def test_stopping_a_registry_ends_its_watch_streams_at_once_with_unavailable(
    client, pg_dsn, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A stopping server does not hold open watch streams (sidecars) for its whole grace period: they
    end with UNAVAILABLE at once, and the client reconnects elsewhere with its last revision."""
    revision = move(client, 1, "drain")
    watched = ServerThread(make_settings(tmp_path, pg_dsn)).start()
    with watched.client() as c:
        stream = iter(c.registry.WatchAlias(pb.WatchAliasRequest(artifact=ART, alias="drain")))
        assert next(stream).event.revision == revision
        took: list[float] = []

        def stop() -> None:
            t0 = time.monotonic()
            watched.stop(grace=30.0)
            took.append(time.monotonic() - t0)

        stopper = threading.Thread(target=stop)
        stopper.start()
        with pytest.raises(StrataError) as e:
            next(stream)
        stopper.join(60)
    assert e.value.code == grpc.StatusCode.UNAVAILABLE and "stopping" in str(e.value)
    assert took and took[0] < 15.0  # not the 30 s grace: nothing was left to wait for


def test_watching_latest_follows_new_commits(server, client) -> None:  # type: ignore[no-untyped-def]
    w = Watcher(server.addr, alias="latest")
    try:
        current = w.take(1)[0]
        assert current[1] == v(3)
        logged = log_version(server, client, E, P, "model", {"w": b"4"}, type="model").version
        assert w.take(1)[0][1] == logged.name == v(4)
    finally:
        w.close()
