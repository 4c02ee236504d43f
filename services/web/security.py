"""Who is calling, whether a writing request may proceed, and the headers every answer carries.

Callers: a session cookie (browsers), `Authorization: Bearer <key>` (scripts, curl), or nobody in
open-local mode. Writing requests (anything but GET/HEAD/OPTIONS) from a session need the session's
CSRF token in `X-CSRF-Token` and an Origin (or Referer) of this console; bearer callers carry no ambient
credentials, so they need neither. Signing in is a writing request without a session yet: the
same-origin check guards it.
"""

from __future__ import annotations

import hmac
import time
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from .bridge import ApiError, Caller
from .sessions import COOKIE, SessionStore

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class SecurityHeaders(BaseHTTPMiddleware):
    """CSP without inline script, nosniff, no framing, no referrer leaks, no caching of API answers."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        h = response.headers
        # Server time up to the response head (what the benchmark reports as server time).
        h["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        # An answer with its own policy (a sandboxed media value) keeps it; every other one gets the page's.
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h.setdefault("X-Frame-Options", "DENY")
        h["Referrer-Policy"] = "same-origin"
        if request.url.path.startswith("/api/"):
            h.setdefault("Cache-Control", "no-store")
        return response


def bearer_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, key = auth.partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def resolve_caller(request: Request, sessions: SessionStore, open_local: bool) -> Caller | None:
    """The caller, or None when sign-in is needed (no, expired or revoked session)."""
    key = bearer_key(request)
    if key is not None:
        return Caller(api_key=key)
    session = sessions.get(request.cookies.get(COOKIE))
    if session is not None:
        return Caller(api_key=session.api_key, session_id=session.id)
    if open_local:
        return Caller(api_key=None)
    return None


def same_origin(request: Request) -> bool:
    """True when the request's Origin (or, lacking one, Referer) is this console."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return False
    parts = urlsplit(source)
    return parts.scheme == request.url.scheme and parts.netloc == request.url.netloc


def check_write(request: Request, caller: Caller | None, sessions: SessionStore) -> None:
    """Refuse a cross-site or token-less writing request (403 CSRF_FAILED)."""
    if request.method in SAFE_METHODS or bearer_key(request) is not None:
        return
    if not same_origin(request):
        raise ApiError(403, "CSRF_FAILED", "cross-origin writing request refused")
    if caller is None or caller.session_id is None:
        return  # signing in (no session yet) or open-local mode: the same-origin check is the guard
    session = sessions.get(caller.session_id)
    token = request.headers.get("x-csrf-token", "")
    if session is None or not hmac.compare_digest(token, session.csrf):
        raise ApiError(403, "CSRF_FAILED", "missing or wrong X-CSRF-Token")
