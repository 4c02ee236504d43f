"""A run's rich values (images, Plotly figures, HTML, tables, histograms, text, audio, video) for the
media panel.

Four endpoints, each one query RPC: the run's media keys, a key's values by step (latest first, paged),
a table as columns, and a value's bytes. The bytes come from the console's own origin, so every media
answer is made inert: `Content-Security-Policy: sandbox` (no scripts, an opaque origin), nosniff, and
HTML or SVG fetched directly (not by the panel's sandboxed iframe or <img>) is a download.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from strata.errors import StrataError
from strata.ingest.v1 import media_pb2
from strata.query.v1 import query_service_pb2 as query
from strata.wire import media_formats

from . import convert
from .api_common import Json, bridge, call, call_page, caller, run_name
from .api_spec import (
    INTEGER,
    OBJECT,
    STEP_LIMIT,
    STRING,
    Param,
    array,
    declare,
    integer,
    listing,
    obj,
    optional_integer,
    page,
    paged,
    string,
)
from .bridge import ApiError

# What a media answer may do in the browser: nothing but show itself (no script, no same-origin rights,
# no fetches beyond inline images and styles), framed only by the console's own pages.
MEDIA_CSP = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "font-src 'none'; frame-ancestors 'self'"
)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("image", "plotly", "html", "table", "histogram", "text", "audio", "video")
BY_KIND = {
    "plotly": "application/json",
    "table": "application/json",
    "histogram": "application/json",
    "html": "text/html; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}
ACTIVE = ("text/html", "image/svg+xml")  # types that can carry script: downloads unless framed/embedded
EMBEDDING_DESTS = {"iframe", "frame", "image"}
KEY = Param("key", "string", "the media key", required=True)


def kind(value: int) -> str:
    return convert.enum_name(media_pb2.MediaType, value, "MEDIA_TYPE_").lower()


def entry(e: media_pb2.MediaEntry) -> dict[str, Any]:
    return {
        **convert.picked(e, "key", "step", "index"),
        "type": kind(e.type),
        "sha256": e.blob.sha256,
        "size": e.blob.size,
        "metadata": convert.loads(e.metadata_json) if e.metadata_json else {},
    }


@declare(response=obj(keys=array(OBJECT)))
async def media_keys(request: Request) -> Response:
    """GET .../runs/{run}/media: the run's media keys with type, count and step range (ListMediaKeys)."""
    resp = await call(request, "query", "ListMediaKeys", query.ListMediaKeysRequest(run=run_name(request)))
    keys = [
        {"key": k.key, "type": kind(k.type), **convert.picked(k, "count", "first_step", "last_step")}
        for k in resp.keys
    ]
    return Json({"keys": keys})


@declare(
    KEY,
    Param("min_step", "integer", "only steps from this one", minimum=0, maximum=STEP_LIMIT),
    Param("max_step", "integer", "only steps up to this one", minimum=0, maximum=STEP_LIMIT),
    *paged(100, 1000),
    response=listing("values"),
)
async def media_values(request: Request) -> Response:
    """GET .../runs/{run}/media/values?key=&min_step=&max_step=&page_size=&page_token=: a key's values,
    latest step first, then by list position (ListMedia)."""
    req = query.ListMediaRequest(
        run=run_name(request),
        key=string(request, "key"),
        **page(request),
    )
    for bound in ("min_step", "max_step"):
        value = optional_integer(request, bound)
        if value is not None:
            setattr(req, bound, value)
    return await call_page(request, "query", "ListMedia", req, "entries", entry, key="values")


@declare(
    KEY,
    Param("step", "integer", "the table's step (default: the latest)", minimum=0, maximum=STEP_LIMIT),
    Param("index", "integer", "the table's position in its step", default=0, minimum=0, maximum=2**31 - 1),
    response=obj(entry=OBJECT, columns=array(obj(name=STRING, values=array({}))), rows=INTEGER),
)
async def media_table(request: Request) -> Response:
    """GET .../runs/{run}/media/table?key=&step=&index=: a table as columns, each a JSON array
    (GetMediaTable; the latest table without step=)."""
    req = query.GetMediaTableRequest(
        run=run_name(request),
        key=string(request, "key"),
        index=integer(request, "index"),
    )
    step = optional_integer(request, "step")
    if step is not None:
        req.step = step
    resp = await call(request, "query", "GetMediaTable", req)
    columns = [{"name": c.name, "values": convert.loads(c.values_json)} for c in resp.columns]
    return Json({"entry": entry(resp.entry), "columns": columns, "rows": resp.rows})


def content_type(kind_param: str, head: bytes) -> str:
    """The value's type: images, audio and video by their first bytes (SVG by its root element), the
    rest by kind."""
    if kind_param in ("image", "audio", "video"):
        return media_formats.content_type(kind_param, head)
    return BY_KIND.get(kind_param, "application/octet-stream")


def media_headers(request: Request, mime: str, sha256: str) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": MEDIA_CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
    }
    embedded = request.headers.get("sec-fetch-dest", "") in EMBEDDING_DESTS
    if mime.startswith(ACTIVE) and not embedded:
        ext = "svg" if "svg" in mime else "html"
        headers["Content-Disposition"] = f'attachment; filename="{sha256[:16]}.{ext}"'
    return headers


@declare(
    Param("type", "string", "the value's kind", required=True, enum=KINDS),
    produces=(
        "image/*",
        "audio/*",
        "video/*",
        "application/json",
        "text/html",
        "text/plain",
        "application/octet-stream",
    ),
)
async def media_blob(request: Request) -> Response:
    """GET .../runs/{run}/media/blob/{sha256}?type=: a value's bytes (ReadMedia, streamed), sandboxed
    and typed: type= is the value's kind (image, plotly, html, table, histogram, text, audio, video)."""
    sha256 = request.path_params["sha256"]
    if not SHA256.match(sha256):
        raise ApiError(400, "INVALID_DIGEST", "sha256 must be 64 lowercase hex characters", "sha256")
    kind_param = string(request, "type")
    req = query.ReadMediaRequest(run=run_name(request), sha256=sha256)
    iterator = iter(bridge(request).stream(caller(request), "query", "ReadMedia", req))
    try:
        first = await run_in_threadpool(next, iterator, None)
    except StrataError as e:
        raise ApiError.from_strata(e, reading=True) from None
    head = first.data if first is not None else b""
    mime = content_type(kind_param, head)

    def body() -> Any:
        yield head
        for chunk in iterator:
            yield chunk.data

    return StreamingResponse(body(), media_type=mime, headers=media_headers(request, mime, sha256))


PREFIX = "/api/v1/projects/{entity}/{project}/runs/{run}/media"
ROUTES = [
    Route(PREFIX, media_keys),
    Route(f"{PREFIX}/values", media_values),
    Route(f"{PREFIX}/table", media_table),
    Route(f"{PREFIX}/blob/{{sha256}}", media_blob),
]
