"""What every API endpoint shares: the caller, resource names from the path, JSON answers, parameters."""

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


def page_params(request: Request, default: int, hi: int) -> dict[str, Any]:
    """`page_size` (1..hi, `default` when absent) and `page_token` from the query, as request fields."""
    return {
        "page_size": int_param(request, "page_size", default, 1, hi),
        "page_token": request.query_params.get("page_token", ""),
    }


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "INVALID_ARGUMENT", f"{name} must be an integer", name) from None
    if not lo <= value <= hi:
        raise ApiError(400, "OUT_OF_RANGE", f"{name} must be in [{lo}, {hi}]", name)
    return value


def bool_param(request: Request, name: str) -> bool:
    """?name=true|1 (false|0|absent: False); anything else is INVALID_ARGUMENT."""
    raw = request.query_params.get(name, "").lower()
    if raw not in ("", "0", "1", "true", "false"):
        raise ApiError(400, "INVALID_ARGUMENT", f"{name} must be true or false", name)
    return raw in ("1", "true")


def list_param(request: Request, name: str) -> list[str]:
    """Repeated (?k=a&k=b) or comma-free single values; empty strings dropped."""
    return [v for v in request.query_params.getlist(name) if v]


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
