"""What every API endpoint shares: the caller, resource names from the path, JSON answers and bodies.

Query parameters are declared and read through `api_spec`."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .bridge import ApiError, Bridge, Caller


class Json(JSONResponse):
    """Strict JSON (no NaN tokens: converters already turned them into null)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def json_with_series(fields: dict[str, Any], series: list[str]) -> Response:
    """A JSON object of small `fields` plus a "series" array of pre-encoded JSON texts."""
    head = json.dumps(fields, ensure_ascii=False, allow_nan=False, separators=(",", ":"))[:-1]
    sep = "," if fields else ""
    body = f'{head}{sep}"series":[{",".join(series)}]}}'
    return Response(body.encode(), media_type="application/json")


def bridge(request: Request) -> Bridge:
    found: Bridge = request.app.state.bridge
    return found


def caller(request: Request) -> Caller:
    found: Caller | None = getattr(request.state, "caller", None)
    if found is None:
        raise ApiError(401, "UNAUTHENTICATED", "sign in first (session missing or expired)")
    return found


async def call(request: Request, service: str, rpc: str, req: Any, *, reading: bool = True) -> Any:
    return await bridge(request).call(caller(request), service, rpc, req, reading=reading)


async def call_page(
    request: Request,
    service: str,
    rpc: str,
    req: Any,
    field: str,
    to_json: Callable[[Any], Any],
    key: str = "",
) -> Json:
    """One page of a List call as JSON: `{key: [to_json(item) ...], "next_page_token": ...}`, the items
    being the response's repeated `field` (`key` defaults to `field`)."""
    resp = await call(request, service, rpc, req)
    items = [to_json(item) for item in getattr(resp, field)]
    return Json({key or field: items, "next_page_token": resp.next_page_token})


def project_name(request: Request) -> str:
    p = request.path_params
    return f"entities/{p['entity']}/projects/{p['project']}"


def run_name(request: Request) -> str:
    return f"{project_name(request)}/runs/{request.path_params['run']}"


def artifact_name(request: Request) -> str:
    return f"{project_name(request)}/artifacts/{request.path_params['artifact']}"


def version_name(request: Request) -> str:
    v = request.path_params["version"]
    return f"{artifact_name(request)}/versions/{v if v.startswith('v') else 'v' + v}"


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "INVALID_ARGUMENT", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_ARGUMENT", "the body must be a JSON object")
    return body


def finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
