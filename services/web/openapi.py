"""The console's JSON API as an OpenAPI 3.1 document, built from the route table (GET /api/v1/openapi.json).

Every route under /api/v1 becomes a path with one operation per HTTP method, so no endpoint can be
missing: the path and its path parameters come from the route, the summary and description from the
endpoint's docstring, and the query parameters, request body and answer from the endpoint's declaration
(`api_spec.declare`), the same declaration its handler reads its query through. Nothing is guessed from
source code. Every operation shares the error model (`Error`) and the two ways to call: a session cookie
(browsers; writing requests also need `X-CSRF-Token` and a same-origin `Origin`) or
`Authorization: Bearer <API key>` (scripts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute, Route

from .api_spec import Spec, spec_of
from .sessions import COOKIE

PREFIX = "/api/v1"
_PATH_PARAM = re.compile(r"{([^}:]+)(?::([^}]*))?}")
_CONVERTOR_TYPES = {"int": "integer", "float": "number"}
_WRITES = ("POST", "PUT", "PATCH")

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
    """(first paragraph, whole docstring) of the endpoint, each on one line."""
    doc = (route.endpoint.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split()), " ".join(doc.split())


def _parameters(route: Route, spec: Spec) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": _CONVERTOR_TYPES.get(convertor, "string")},
        }
        for name, convertor in _PATH_PARAM.findall(route.path)
    ]
    for p in spec.params:
        param = {"name": p.name, "in": "query", "required": p.required, "description": p.description}
        params.append({**param, "schema": p.schema()})
    return params


def _answer(spec: Spec) -> dict[str, Any]:
    if spec.produces:  # bytes: OpenAPI 3.1 describes them by the media type alone
        return {"description": "the bytes", "content": {media: {} for media in spec.produces}}
    schema = spec.response or {"type": "object"}
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _operation(route: Route, method: str) -> dict[str, Any]:
    summary, description = _doc(route)
    spec = spec_of(route.endpoint) or Spec()
    error = {"description": "the error model", "content": {"application/json": {"schema": _ref("Error")}}}
    op: dict[str, Any] = {
        "operationId": method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", route.path[len(PREFIX) :]).rstrip("_"),
        "summary": summary or f"{method} {route.path}",
        "description": description,
        "parameters": _parameters(route, spec),
        "responses": {"200": _answer(spec), "4XX": error, "5XX": error},
    }
    if spec.body is not None or method in _WRITES:
        op["requestBody"] = {
            "required": spec.body is not None,
            "content": {"application/json": {"schema": spec.body or {"type": "object"}}},
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
