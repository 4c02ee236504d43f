"""The console's Starlette application: routes, the caller middleware, error answers, static files."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import (
    api_artifacts,
    api_lineage,
    api_media,
    api_projects,
    api_reports,
    api_runs,
    api_session,
    compare,
    openapi,
    pages,
)
from .api_common import Json
from .api_spec import OBJECT, STRING, array, declare, obj
from .bridge import ApiError, Bridge
from .config import WebSettings
from .security import SecurityHeaders, bearer_key, check_write, resolve_caller
from .sessions import COOKIE, make_store

STATIC = Path(__file__).parent / "static"


class CallerMiddleware(BaseHTTPMiddleware):
    """Sets request.state.caller (None: sign-in needed) and refuses cross-site writing requests."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        state = request.app.state
        if bearer_key(request) is None:  # a session cookie: checked (or taken from the cache) once here
            try:
                await state.sessions.load(request.cookies.get(COOKIE))
            except (OSError, asyncpg.PostgresError) as e:
                error = ApiError(503, "UNAVAILABLE", f"sessions cannot be checked now: {type(e).__name__}")
                return Json(error.body(), status_code=error.status)
        caller = resolve_caller(request, state.sessions, state.settings.open_local)
        request.state.caller = caller
        try:
            check_write(request, caller, state.sessions)
        except ApiError as e:
            return Json(e.body(), status_code=e.status)
        return await call_next(request)


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if request.url.path.startswith("/api/"):
        return Json(exc.body(), status_code=exc.status)
    return pages.error_page(request, exc)


async def not_found(request: Request, exc: Exception) -> Response:
    return await api_error(request, ApiError(404, "NOT_FOUND", "no such page"))


API_ROUTES = [
    *api_session.ROUTES,
    *api_projects.ROUTES,
    *api_runs.ROUTES,
    *api_media.ROUTES,
    *compare.ROUTES,
    *api_artifacts.ROUTES,
    *api_lineage.ROUTES,
    *api_reports.ROUTES,
]


@declare(response=obj(endpoints=array(obj(path=STRING, methods=array(STRING), doc=STRING))))
async def api_index(request: Request) -> Response:
    """GET /api/v1: every endpoint with its methods and what it does (the first docstring paragraph)."""
    out = []
    for route in API_ROUTES:
        doc = (route.endpoint.__doc__ or "").strip().split("\n\n")[0]
        out.append({"path": route.path, "methods": sorted(route.methods or []), "doc": " ".join(doc.split())})
    return Json({"endpoints": out})


@declare(response={**OBJECT, "description": "an OpenAPI 3.1 document"})
async def api_document(request: Request) -> Response:
    """GET /api/v1/openapi.json: the OpenAPI 3 document of this API, built from the route table."""
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = openapi.document(request.app.routes)
    return Json(state.openapi)


def create_app(settings: WebSettings, bridge: Bridge | None = None) -> Starlette:
    routes = [
        Route("/api/v1", api_index),
        Route("/api/v1/openapi.json", api_document),
        *API_ROUTES,
        *pages.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(CallerMiddleware)],
        exception_handlers={ApiError: api_error, 404: not_found},
    )
    app.state.settings = settings
    app.state.bridge = bridge or Bridge(settings.grpc_addr, settings.grpc_timeout)
    app.state.sessions = make_store(settings.pg_dsn, settings.session_seconds, settings.session_cache_seconds)
    return app
