"""The principal the admission layer authenticated, handed on to the authorizing interceptor.

A call's credentials are checked once, when its headers arrive (admission.py): the key is parsed,
looked up (cached) and its secret verified, and revoked or expired keys are refused there. The
interceptor that authorizes the call (interceptors.py) runs later in the same asyncio task, so the
admission result travels in a context variable; `take` hands it over only for the same RPC and the
same `authorization` header, and only once, so a value can never serve another call or other
credentials. When admission did not authenticate (PUBLIC RPCs, a database error) the interceptor
finds nothing and authenticates as before. Long-lived streams re-authenticate from scratch when
access may have narrowed (streams.py); that path never reads this variable.
"""

from __future__ import annotations

from contextvars import ContextVar

from ..context import Principal

_admitted: ContextVar[tuple[str, str, Principal] | None] = ContextVar("strata_admitted", default=None)


def remember(method: str, authorization: str, principal: Principal) -> None:
    """Admission authenticated `authorization` as `principal` for `method` in this task."""
    _admitted.set((method, authorization, principal))


def take(method: str, authorization: str | None) -> Principal | None:
    """The principal admission found for this call's credentials, at most once; None otherwise."""
    found = _admitted.get()
    if found is None:
        return None
    _admitted.set(None)
    if found[0] != method or found[1] != authorization:
        return None
    return found[2]
