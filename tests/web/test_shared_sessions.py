"""Console sessions kept in PostgreSQL: shared by every console replica, surviving restarts, ended
everywhere by signing out, by expiry and by revoking the API key they were made from; the database
holds neither the session id nor the key."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from strata.iam.v1 import iam_service_pb2 as iam
from strata_server.web.config import WebSettings

from tests.fixtures.iam import KeysServer
from tests.fixtures.wait import poll_until
from tests.fixtures.web import WebThread

pytestmark = pytest.mark.timeout(120)
COOKIE = "strata_session"


def console(ks: KeysServer, **overrides: Any) -> WebThread:
    overrides.setdefault("session_cache_seconds", 60.0)  # long on purpose: ending must not wait for it
    settings = WebSettings(
        web_addr="127.0.0.1:0",
        grpc_addr=ks.addr,
        auth_mode="keys",
        pg_dsn=ks.thread.settings.pg_dsn,
        **overrides,
    )
    return WebThread(settings).start()


@pytest.fixture(scope="module")
def replicas(keys_server: KeysServer) -> Iterator[tuple[WebThread, WebThread]]:
    one, two = console(keys_server), console(keys_server)
    for web in (one, two):  # open each one's pool and wait for its listener (which empties its cache)
        assert me(web, "none") == 401
        poll_until(web.app.state.sessions.listener.listening.is_set, timeout=10, what="the listener")
    yield one, two
    one.stop()
    two.stop()


def sign_in(web: WebThread, key: str) -> tuple[str, str]:
    """(session id, CSRF token) of a new session on `web`."""
    r = httpx.post(f"{web.url}/api/v1/session", json={"api_key": key}, headers={"Origin": web.url})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    return r.cookies[COOKIE], r.json()["csrf"]


def me(web: WebThread, session_id: str) -> int:
    """The status of GET /api/v1/me with this session cookie."""
    return httpx.get(f"{web.url}/api/v1/me", cookies={COOKIE: session_id}).status_code


def sign_out(web: WebThread, session_id: str, csrf: str) -> None:
    headers = {"X-CSRF-Token": csrf, "Origin": web.url}
    r = httpx.delete(f"{web.url}/api/v1/session", cookies={COOKIE: session_id}, headers=headers)
    assert r.status_code == 200, r.text


def rows(ks: KeysServer) -> list[Any]:
    async def go() -> list[Any]:
        async with ks.deps.pool.acquire() as conn:
            return await conn.fetch("SELECT * FROM console_sessions")

    return ks.run(go())


def session(web: WebThread, session_id: str) -> Any:
    """What `web`'s session store makes of this id (None: no valid session)."""
    return asyncio.run_coroutine_threadsafe(web.app.state.sessions.load(session_id), web.loop).result(10)


def refused(web: WebThread, session_id: str) -> bool:
    return me(web, session_id) == 401


def test_a_session_made_on_one_replica_works_on_another_and_after_a_restart(
    keys_server: KeysServer, replicas: tuple[WebThread, WebThread]
) -> None:
    one, two = replicas
    sid, csrf = sign_in(one, keys_server.user("shared"))
    assert me(one, sid) == 200 and me(two, sid) == 200
    restarted = console(keys_server)
    try:
        assert me(restarted, sid) == 200
    finally:
        restarted.stop()
    # the CSRF token is the same on every replica: signing out through the other one is accepted
    sign_out(two, sid, csrf)
    assert refused(two, sid)


def test_signing_out_on_one_replica_is_refused_on_the_other_at_once(
    keys_server: KeysServer, replicas: tuple[WebThread, WebThread]
) -> None:
    one, two = replicas
    sid, csrf = sign_in(one, keys_server.user("leaver"))
    assert me(two, sid) == 200  # now cached by `two` (for up to a minute)
    sign_out(one, sid, csrf)
    assert refused(one, sid)
    # `two` hears the sign-out through NOTIFY, long before its cache entry would age out
    poll_until(lambda: refused(two, sid), timeout=10, what="the other replica to refuse the session")


def test_revoking_the_api_key_ends_its_sessions(
    keys_server: KeysServer, replicas: tuple[WebThread, WebThread]
) -> None:
    one, two = replicas
    key = keys_server.user("revoked")
    sid, _ = sign_in(one, key)
    assert me(one, sid) == 200 and me(two, sid) == 200
    with keys_server.client() as admin:
        admin.iam.RevokeApiKey(iam.RevokeApiKeyRequest(name=f"apiKeys/{key.split('_')[1]}"))
    for web in (one, two):  # the session itself ends, not only the calls its key can no longer make
        poll_until(lambda w=web: session(w, sid) is None, timeout=10, what="the revoked key's session to end")
        assert refused(web, sid)


def test_an_expired_session_is_refused_everywhere(keys_server: KeysServer) -> None:
    short = [console(keys_server, session_seconds=2.0) for _ in range(2)]
    try:
        sid, _ = sign_in(short[0], keys_server.user("brief"))
        assert me(short[1], sid) == 200
        poll_until(lambda: all(refused(w, sid) for w in short), timeout=15, what="the session to expire")
        (row,) = [r for r in rows(keys_server) if r["id_hash"] == hashlib.sha256(sid.encode()).digest()]
        assert row["expire_time"] <= row["create_time"] + timedelta(seconds=3)
    finally:
        for web in short:
            web.stop()


def test_the_database_holds_neither_the_session_id_nor_the_key(
    keys_server: KeysServer, replicas: tuple[WebThread, WebThread]
) -> None:
    key = keys_server.user("sealed")
    sid, csrf = sign_in(replicas[0], key)
    (row,) = [r for r in rows(keys_server) if r["id_hash"] == hashlib.sha256(sid.encode()).digest()]
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
    for secret in (sid, key, key.split("_", 2)[2], csrf):
        assert secret.encode() not in stored
    assert row["api_key_id"] == key.split("_")[1] and row["principal"] == "sealed"


def test_a_forged_cookie_is_no_session(replicas: tuple[WebThread, WebThread]) -> None:
    for web in replicas:
        assert refused(web, "forged-" + "x" * 40)


def test_without_notifications_a_replica_trusts_a_session_for_at_most_its_cache_time(
    keys_server: KeysServer, replicas: tuple[WebThread, WebThread]
) -> None:
    deaf = console(keys_server, session_cache_seconds=0.5)
    try:
        sid, csrf = sign_in(replicas[0], keys_server.user("deaf"))
        assert me(deaf, sid) == 200  # opens its pool and listener
        store = deaf.app.state.sessions
        poll_until(store.listener.listening.is_set, timeout=10, what="the listener")  # it empties the cache
        assert me(deaf, sid) == 200  # now cached
        asyncio.run_coroutine_threadsafe(store.listener.stop(), deaf.loop).result(10)
        sign_out(replicas[0], sid, csrf)
        poll_until(lambda: refused(deaf, sid), timeout=10, what="the cache entry to age out")
    finally:
        deaf.stop()
