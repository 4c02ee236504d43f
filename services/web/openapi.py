"""The console's JSON API as an OpenAPI 3 document, built from the route table (GET /api/v1/openapi.json).

Every route under /api/v1 becomes a path with one operation per HTTP method, so no endpoint can be
missing: the path and its path parameters come from the route, the summary and description from the
endpoint's docstring (its first line reads "METHOD path?query=..: what it does"), the query parameters
from the `name=` pairs of that first line and from the parameters the handler reads (`_read_params`). Every operation shares the error model (`Error`) and the two
ways to call: a session cookie (browsers; writing requests also need `X-CSRF-Token` and a same-origin
`Origin`) or `Authorization: Bearer <API key>` (scripts).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any

from starlette.routing import BaseRoute, Route

from .sessions import COOKIE

PREFIX = "/api/v1"
_QUERY = re.compile(r"[?&]([a-z_][a-z0-9_]*)=")
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_BINARY = ("bytes", "streamed")
_READS = re.compile(r'(?:_param\(\s*request,\s*|query_params\.get(?:list)?\(\s*)"([a-z_][a-z0-9_]*)"')
_LOOPED = re.compile(r"for \w+ in ([A-Z_]+):")
_HANDS_ON = re.compile(r"\b([a-z_][a-z0-9_]*)\(request\b")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "reason", "message"],
            "properties": {
                "status": {"type": "integer", "description": "the HTTP status (from the gRPC code)"},
                "reason": {"type": "string", "description": "stable reason, e.g. INVALID_FILTER"},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "the offending field, when there is one"},
            },
        }
    },
}


def api_routes(routes: Iterable[BaseRoute]) -> list[Route]:
    """The routes of the JSON API, in table order."""
    return [r for r in routes if isinstance(r, Route) and r.path.startswith(PREFIX)]


def _doc(route: Route) -> tuple[str, str]:
    """(first line, whole docstring) of the endpoint."""
    text = " ".join((route.endpoint.__doc__ or "").split())
    first = (route.endpoint.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(first.split()), text


def _read_params(function: Callable[..., Any], depth: int = 2) -> list[str]:
    """Query parameters a handler reads: string literals given to the `*_param(request, "x")` helpers
    or to `query_params.get("x")`, the names of a module tuple it loops over into them, and the same in
    the helpers it hands the request to (`depth` levels)."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return []
    names = _READS.findall(source)
    scope = getattr(function, "__globals__", {})
    for loop in _LOOPED.findall(source):
        values = scope.get(loop)
        if isinstance(values, (tuple, list, frozenset)) and all(isinstance(v, str) for v in values):
            names += list(values)
    if depth > 0:
        for helper in _HANDS_ON.findall(source):
            if callable(scope.get(helper)) and helper != function.__name__:
                names += _read_params(scope[helper], depth - 1)
    return names


def _parameters(route: Route, summary: str) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(route.path)
    ]
    path_names = {p["name"] for p in params}
    query = summary.split(":", 1)[0]  # "GET .../runs?filter=..: what": the part before the colon
    for name in dict.fromkeys(_QUERY.findall(query) + _read_params(route.endpoint)):
        if name not in path_names:
            params.append({"name": name, "in": "query", "required": False, "schema": {"type": "string"}})
    return params


def _operation(route: Route, method: str) -> dict[str, Any]:
    summary, description = _doc(route)
    binary = method == "GET" and any(word in summary for word in _BINARY)
    content = (
        {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        if binary
        else {"application/json": {"schema": {"type": "object"}}}
    )
    error = {"description": "the error model", "content": {"application/json": {"schema": _ref("Error")}}}
    op: dict[str, Any] = {
        "operationId": method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", route.path[len(PREFIX) :]).rstrip("_"),
        "summary": summary or f"{method} {route.path}",
        "description": description,
        "parameters": _parameters(route, summary),
        "responses": {"200": {"description": "OK", "content": content}, "4XX": error, "5XX": error},
    }
    if method in ("POST", "PUT", "PATCH"):
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return op


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def document(routes: Iterable[BaseRoute], version: str = "1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every /api/v1 route in `routes`."""
    paths: dict[str, dict[str, Any]] = {}
    for route in api_routes(routes):
        methods = sorted((route.methods or set()) - {"HEAD"})
        item = paths.setdefault(_PATH_PARAM.sub(r"{\1}", route.path), {})
        for method in methods:
            item[method.lower()] = _operation(route, method)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Strata console API",
            "version": version,
            "description": "The JSON API behind the web console. Errors: HTTP status + stable reason.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": COOKIE},
                "bearer": {"type": "http", "scheme": "bearer", "description": "a Strata API key"},
            },
        },
        "security": [{"session": []}, {"bearer": []}, {}],
    }
