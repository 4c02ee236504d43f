"""Aliases: unique per artifact, atomic moves, complete ordered history, revert, protected flag."""

from __future__ import annotations

import random
import threading

import pytest
from strata.common.v1 import actor_pb2
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb

from tests.registry.helpers import audit_rows, models_client, protect, sql

E, P = "carol", "aliases"
ART = f"entities/{E}/projects/{P}/artifacts/bert"


def v(n: int) -> str:
    return f"{ART}/versions/v{n}"


client = models_client(E, P, "bert", lambda i: {"model.pth": f"w{i}".encode()})


def set_alias(client, n: int, alias: str, reason: str = ""):  # type: ignore[no-untyped-def]
    return client.registry.SetAlias(pb.SetAliasRequest(version=v(n), alias=alias, reason=reason)).event


def history(client, alias: str = "") -> list[artifact_pb2.AliasEvent]:  # type: ignore[no-untyped-def]
    out, token = [], ""
    while True:
        page = client.registry.ListAliasHistory(
            pb.ListAliasHistoryRequest(artifact=ART, alias=alias, page_size=7, page_token=token)
        )
        out += list(page.events)
        token = page.next_page_token
        if not token:
            return out


def holder(client, alias: str) -> str:  # type: ignore[no-untyped-def]
    ref = f"{E}/{P}/bert:{alias}"
    return client.registry.ResolveArtifactVersion(pb.ResolveArtifactVersionRequest(ref=ref)).version.name


def test_setting_an_alias_moves_it_and_records_who_and_why(server, client) -> None:  # type: ignore[no-untyped-def]
    first = set_alias(client, 1, "staging", "passed smoke tests")
    assert (first.kind, first.from_version, first.to_version) == (artifact_pb2.ALIAS_EVENT_KIND_SET, "", v(1))
    moved = set_alias(client, 2, "staging", "eval f1 0.91")
    assert (moved.from_version, moved.to_version, moved.reason) == (v(1), v(2), "eval f1 0.91")
    assert moved.revision > first.revision
    assert moved.actor.kind == actor_pb2.ACTOR_KIND_LOCAL and moved.actor.name
    assert holder(client, "staging") == v(2)
    v1 = client.registry.GetArtifactVersion(pb.GetArtifactVersionRequest(name=v(1))).version
    assert "staging" not in v1.aliases
    again = set_alias(client, 2, "staging")  # already there: no move, no new event
    assert again.revision == moved.revision
    records = [r for r in audit_rows(server, "alias.set") if r["target"].endswith(":staging")]
    assert len(records) == 2


def test_latest_is_automatic_and_listed_with_custom_aliases(server, client) -> None:  # type: ignore[no-untyped-def]
    protect(server, E, P, "production")
    set_alias(client, 3, "production")
    aliases = {a.alias: a for a in client.registry.ListAliases(pb.ListAliasesRequest(artifact=ART)).aliases}
    assert aliases["latest"].version == v(3)
    assert aliases["production"].protected and not aliases["latest"].protected
    latest_history = history(client, "latest")
    assert [e.to_version for e in latest_history] == [v(3), v(2), v(1), v(0)]
    assert all(e.actor.name for e in latest_history)


def test_revert_moves_back_to_the_previous_holder(server, client) -> None:  # type: ignore[no-untyped-def]
    set_alias(client, 0, "canary")
    set_alias(client, 1, "canary", "promote v1")
    reverted = client.registry.RevertAlias(
        pb.RevertAliasRequest(artifact=ART, alias="canary", reason="v1 broke staging")
    ).event
    assert reverted.kind == artifact_pb2.ALIAS_EVENT_KIND_REVERTED
    assert (reverted.from_version, reverted.to_version, reverted.reason) == (v(1), v(0), "v1 broke staging")
    assert holder(client, "canary") == v(0)
    assert client.registry.RevertAlias(
        pb.RevertAliasRequest(artifact=ART, alias="canary")
    ).event.to_version == v(1)
    assert len(audit_rows(server, "alias.revert")) == 2


def test_removed_alias_resolves_no_more_and_history_keeps_it(server, client) -> None:  # type: ignore[no-untyped-def]
    set_alias(client, 2, "tmp")
    removed = client.registry.RemoveAlias(
        pb.RemoveAliasRequest(artifact=ART, alias="tmp", reason="cleanup")
    ).event
    assert (removed.kind, removed.from_version, removed.to_version) == (
        artifact_pb2.ALIAS_EVENT_KIND_REMOVED,
        v(2),
        "",
    )
    assert [e.kind for e in history(client, "tmp")] == [
        artifact_pb2.ALIAS_EVENT_KIND_REMOVED,
        artifact_pb2.ALIAS_EVENT_KIND_SET,
    ]
    with pytest.raises(Exception):  # noqa: B017 - NOT_FOUND, asserted in test_bad_input.py
        holder(client, "tmp")


def test_history_is_newest_first_with_strictly_decreasing_revisions(client) -> None:  # type: ignore[no-untyped-def]
    events = history(client)
    revisions = [e.revision for e in events]
    assert revisions == sorted(revisions, reverse=True) and len(set(revisions)) == len(revisions)
    assert revisions[-1] == 1


def test_concurrent_moves_keep_exactly_one_holder_and_a_complete_ordered_history(server, client) -> None:  # type: ignore[no-untyped-def]
    """Writers move `prod` between versions from 6 threads while a reader checks there is always exactly
    one holder; afterwards the history chains every move (each from = the previous to), in order."""
    with server.client() as c:
        set_alias(c, 0, "prod")
    start = max(e.revision for e in history_of(server, "prod"))
    stop = threading.Event()
    problems: list[str] = []

    def reader() -> None:
        with server.client() as c:
            while not stop.is_set():
                rows = sql(
                    server,
                    "SELECT count(*) AS n FROM aliases al JOIN artifacts a ON a.id = al.artifact_id"
                    " WHERE a.name = 'bert' AND al.alias = 'prod'",
                )
                if rows[0]["n"] != 1:
                    problems.append(f"{rows[0]['n']} holders")
                holder(c, "prod")  # must always resolve

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        with server.client() as c:
            for _ in range(25):
                set_alias(c, rng.randrange(4), "prod", f"writer {seed}")

    t = threading.Thread(target=reader)
    t.start()
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    t.join()
    assert problems == []
    events = [e for e in reversed(history_of(server, "prod")) if e.revision > start]
    with server.client() as c:
        final = holder(c, "prod")
    previous = v(0)
    for e in events:
        assert e.from_version == previous and e.to_version != previous
        previous = e.to_version
    assert previous == final
    assert [e.revision for e in events] == sorted(e.revision for e in events)
    moves = [r for r in audit_rows(server, "alias.set") if r["target"].endswith(":prod")]
    assert len(moves) == len(events) + 1


def history_of(server, alias: str) -> list[artifact_pb2.AliasEvent]:  # type: ignore[no-untyped-def]
    with server.client() as c:
        return history(c, alias)
