"""Server-side sessions: a random id in an HttpOnly, SameSite=Strict cookie (Secure under TLS) maps to
the caller's API key, a CSRF token and an expiry. The key never reaches the browser; signing out revokes
the session, so the cookie is worthless afterwards.

Two stores, one interface (`create`, `load`, `get`, `revoke`, `close`):

DbSessionStore   (a PostgreSQL DSN is configured: the all-in-one, or STRATA_PG_DSN) every console
                 replica shares the `console_sessions` table (iam migrations), so a session made on
                 one replica works on the others and survives restarts. The table holds the SHA-256
                 of the session id, never the id, and the API key sealed with AES-GCM under a key
                 derived from the session id: a database dump yields neither. A session is valid
                 while it is not revoked, not expired, and its API key is neither revoked nor expired
                 (one SQL join). The CSRF token is derived from the session id, so every replica can
                 check it without storing it.
                 Validated sessions are cached per process for at most `cache_seconds` (default 2 s,
                 STRATA_WEB_SESSION_CACHE_SECONDS); a sign-out, or a revoked or expired API key,
                 notifies every replica through LISTEN/NOTIFY at commit and they drop their caches at
                 once. If a replica's listening connection is down, the cache bound still holds.
MemorySessionStore (no database configured) this process's memory: a restart signs everyone out and
                 several replicas would need sticky sessions.

`load` (async) validates a cookie's session and caches it; `get` (sync) answers from what `load` put in
the cache, so request code that runs after the caller middleware needs no database round trip.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..common.auth import apikeys
from ..common.auth.cache import CHANNEL as AUTH_CHANNEL
from ..common.auth.cache import AuthListener
from ..common.db import create_pool

COOKIE = "strata_session"
SESSIONS_CHANNEL = "strata_console_sessions"
# the session `load` validated for the request being served (each request runs in a task of its own)
_this_request: ContextVar[Session | None] = ContextVar("strata_console_session", default=None)


@dataclass
class Session:
    id: str
    api_key: str
    csrf: str
    principal: str
    expires: float


class MemorySessionStore:
    """Sessions by id in this process, bounded in number; expired ones are dropped when touched or when
    the store fills."""

    def __init__(self, lifetime: float, max_sessions: int = 100_000) -> None:
        self.lifetime = lifetime
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    async def create(self, api_key: str, principal: str) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            api_key=api_key,
            csrf=secrets.token_urlsafe(32),
            principal=principal,
            expires=time.time() + self.lifetime,
        )
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                self._drop_expired()
            if len(self._sessions) >= self.max_sessions:  # still full: the oldest goes
                oldest = min(self._sessions.values(), key=lambda s: s.expires)
                del self._sessions[oldest.id]
            self._sessions[session.id] = session
        return session

    async def load(self, session_id: str | None) -> Session | None:
        return self.get(session_id)

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires <= time.time():
                del self._sessions[session_id]
                return None
            return session

    async def revoke(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def expire_now(self, session_id: str) -> None:
        """Make a session expire (tests and operators: the next request goes to the sign-in page)."""
        with self._lock:
            if session_id in self._sessions:
                self._sessions[session_id].expires = 0.0

    async def close(self) -> None:
        return None

    def _drop_expired(self) -> None:
        now = time.time()
        for sid in [sid for sid, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[sid]


def id_hash(session_id: str) -> bytes:
    """What the database keeps of a session id."""
    return hashlib.sha256(session_id.encode()).digest()


def _derived(session_id: str, purpose: bytes) -> bytes:
    return hmac.digest(session_id.encode(), b"strata console session: " + purpose, "sha256")


def csrf_token(session_id: str) -> str:
    """The session's CSRF token: derived from the (secret) session id, so no replica stores it."""
    return _derived(session_id, b"csrf").hex()


def seal(session_id: str, api_key: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_derived(session_id, b"key")).encrypt(nonce, api_key.encode(), id_hash(session_id))


def unseal(session_id: str, sealed: bytes) -> str:
    nonce, box = sealed[:12], sealed[12:]
    return AESGCM(_derived(session_id, b"key")).decrypt(nonce, box, id_hash(session_id)).decode()


_VALID = """
SELECT s.principal, s.sealed_key,
       extract(epoch FROM LEAST(s.expire_time, COALESCE(k.expire_time, s.expire_time)))::float8 AS expires
FROM console_sessions s JOIN api_keys k ON k.id = s.api_key_id
WHERE s.id_hash = $1 AND s.revoke_time IS NULL AND s.expire_time > now()
  AND k.revoke_time IS NULL AND (k.expire_time IS NULL OR k.expire_time > now())
"""


class DbSessionStore:
    """Sessions in PostgreSQL, shared by every console replica (see the module docstring)."""

    def __init__(
        self, dsn: str, lifetime: float, cache_seconds: float = 2.0, max_cached: int = 10_000
    ) -> None:
        self.dsn = dsn
        self.lifetime = lifetime
        self.cache_seconds = cache_seconds
        self.max_cached = max_cached
        self._cache: OrderedDict[str, tuple[float, Session]] = OrderedDict()  # id -> (checked at, session)
        self._generation = 0  # changes when the cache is emptied: a check that started before is void
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None
        self.listener: AuthListener | None = None

    async def _db(self) -> asyncpg.Pool:
        """The pool, opened on first use in the serving loop (with the change listener)."""
        if self._pool is None:
            self._opening = self._opening or asyncio.Lock()
            async with self._opening:
                if self._pool is None:
                    self._pool = await create_pool(self.dsn, min_size=1, max_size=4)
                    self.listener = AuthListener(
                        self.dsn, self.forget_all, channels=(SESSIONS_CHANNEL, AUTH_CHANNEL)
                    )
                    self.listener.start()
        return self._pool

    def forget_all(self) -> None:
        """Drop every cached session (a session ended or a key changed somewhere)."""
        self._generation += 1
        self._cache.clear()

    async def create(self, api_key: str, principal: str) -> Session:
        parsed = apikeys.parse(api_key)
        if parsed is None:
            raise ValueError("not a Strata API key")
        session_id = secrets.token_urlsafe(32)
        expires = time.time() + self.lifetime
        pool = await self._db()
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO console_sessions (id_hash, api_key_id, principal, sealed_key, expire_time)"
                " VALUES ($1, $2, $3, $4, to_timestamp($5))",
                id_hash(session_id),
                parsed[0],
                principal,
                seal(session_id, api_key),
                expires,
            )
            await conn.execute("DELETE FROM console_sessions WHERE expire_time < now() - interval '1 day'")
        session = Session(session_id, api_key, csrf_token(session_id), principal, expires)
        self._remember(session)
        return session

    async def load(self, session_id: str | None) -> Session | None:
        """The valid session of this id (from the cache when checked in the last `cache_seconds`)."""
        _this_request.set(None)
        if not session_id:
            return None
        entry = self._cache.get(session_id)
        if entry is not None and time.monotonic() - entry[0] < self.cache_seconds:
            _this_request.set(self.get(session_id))
            return _this_request.get()
        self._cache.pop(session_id, None)
        generation = self._generation
        pool = await self._db()
        async with pool.acquire() as conn:
            row = await conn.fetchrow(_VALID, id_hash(session_id))
        if row is None:
            return None
        try:
            api_key = unseal(session_id, bytes(row["sealed_key"]))
        except Exception:  # tampered with: no session
            return None
        session = Session(session_id, api_key, csrf_token(session_id), row["principal"], row["expires"])
        if generation == self._generation:  # no session ended while this one was being checked
            self._remember(session)
        _this_request.set(session)  # valid for this request in any case: it was checked just now
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The session `load` last validated (every request's middleware calls `load` first), unless
        it has expired since, or a change emptied the cache."""
        current = _this_request.get()
        entry = self._cache.get(session_id or "")
        if current is not None and current.id == session_id:
            session = current
        elif entry is not None:
            session = entry[1]
        else:
            return None
        if session.expires <= time.time():
            self._cache.pop(session.id, None)
            return None
        return session

    async def revoke(self, session_id: str) -> None:
        """Sign out: the session ends in every replica (this one at once, the others on NOTIFY)."""
        self._cache.pop(session_id, None)
        await self._end(session_id, "revoke_time = now()")

    async def expire_now(self, session_id: str) -> None:
        """Make a session expire (tests and operators: the next request goes to the sign-in page)."""
        self._cache.pop(session_id, None)
        await self._end(session_id, "expire_time = now()")

    async def _end(self, session_id: str, change: str) -> None:
        pool = await self._db()
        async with pool.acquire() as conn:
            await conn.execute(
                f"UPDATE console_sessions SET {change} WHERE id_hash = $1 AND revoke_time IS NULL",
                id_hash(session_id),
            )

    def _remember(self, session: Session) -> None:
        self._cache[session.id] = (time.monotonic(), session)
        self._cache.move_to_end(session.id)
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


SessionStore = MemorySessionStore | DbSessionStore


def make_store(dsn: str | None, lifetime: float, cache_seconds: float = 2.0) -> SessionStore:
    """The shared PostgreSQL store when a DSN is configured, else this process's memory."""
    if dsn:
        return DbSessionStore(dsn, lifetime, cache_seconds)
    return MemorySessionStore(lifetime)
