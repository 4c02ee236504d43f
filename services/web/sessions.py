"""Server-side sessions: a random id in an HttpOnly, SameSite=Strict cookie (Secure under TLS) maps to
the caller's API key, a CSRF token and an expiry. The key never leaves the server; signing out deletes
the session, so the cookie is worthless afterwards. Sessions live in this process's memory: a restart
signs everyone out, and several console replicas need sticky sessions (see docs/guides/console.md).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "strata_session"


@dataclass
class Session:
    id: str
    api_key: str
    csrf: str
    principal: str
    expires: float


class SessionStore:
    """Sessions by id, bounded in number; expired ones are dropped when touched or when the store fills."""

    def __init__(self, lifetime: float, max_sessions: int = 100_000) -> None:
        self.lifetime = lifetime
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, api_key: str, principal: str) -> Session:
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

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires <= time.time():
                del self._sessions[session_id]
                return None
            return session

    def revoke(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def expire_now(self, session_id: str) -> None:
        """Make a session expire (tests and operators: the next request goes to the sign-in page)."""
        with self._lock:
            if session_id in self._sessions:
                self._sessions[session_id].expires = 0.0

    def _drop_expired(self) -> None:
        now = time.time()
        for sid in [sid for sid, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[sid]
