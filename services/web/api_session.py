"""Signing in and out: POST /api/v1/session {"api_key"} checks the key with GetPrincipal and starts a
server-side session; DELETE /api/v1/session revokes it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strata.iam.v1 import iam_service_pb2 as iam

from .api_common import Json, bridge, json_body
from .api_spec import BOOLEAN, STRING, declare, obj
from .bridge import ApiError, Caller
from .sessions import COOKIE, SessionStore


def store(request: Request) -> SessionStore:
    sessions: SessionStore = request.app.state.sessions
    return sessions


@declare(body=obj(api_key=STRING), response=obj(name=STRING, csrf=STRING))
async def sign_in(request: Request) -> Response:
    """POST /api/v1/session: {"api_key": "..."} -> a session cookie (the key stays on the server)."""
    body = await json_body(request)
    key = str(body.get("api_key") or "").strip()
    if not key:
        raise ApiError(400, "FIELD_REQUIRED", "paste an API key", "api_key")
    try:
        who = await bridge(request).call(
            Caller(api_key=key), "iam", "GetPrincipal", iam.GetPrincipalRequest()
        )
    except ApiError as e:
        if e.status in (401, 403):
            raise ApiError(
                401, "UNAUTHENTICATED", "this API key is not valid (unknown, revoked or expired)"
            ) from None
        raise
    session = await store(request).create(key, who.actor.name)
    response = Json({"name": who.actor.name, "csrf": session.csrf})
    response.set_cookie(
        COOKIE,
        session.id,
        max_age=int(store(request).lifetime),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@declare(response=obj(signed_out=BOOLEAN))
async def sign_out(request: Request) -> Response:
    """DELETE /api/v1/session: revoke the session; the cookie is cleared and worthless from now on."""
    session_id = request.cookies.get(COOKIE)
    if session_id:
        await store(request).revoke(session_id)
    response = Json({"signed_out": True})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


ROUTES = [
    Route("/api/v1/session", sign_in, methods=["POST"]),
    Route("/api/v1/session", sign_out, methods=["DELETE"]),
]
