"""Handlers read their query only through their declaration (api_spec): an undeclared parameter cannot be
read, and a bad value is refused with the same 400 body (status, reason, message, field) as always."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strata_server.web import api_spec
from strata_server.web.api_spec import Param, UndeclaredParameter, declare
from strata_server.web.config import WebSettings

from tests.fixtures.web import WebThread

pytestmark = pytest.mark.timeout(60)

P = "/api/v1/projects/alice/demo"
BLOB = "/runs/r1/media/blob/" + "a" * 64
KINDS = "image, plotly, html, table, histogram, text, audio, video"
# (url, reason, field, message): every one is checked before any gRPC call, so the console alone answers.
REFUSED = [
    (f"{P}/runs?filter=nope", "INVALID_FILTER", "filter", None),
    (f"{P}/runs?page_size=0", "OUT_OF_RANGE", "page_size", "page_size must be in [1, 1000]"),
    (f"{P}/runs?page_size=ten", "INVALID_ARGUMENT", "page_size", "page_size must be an integer"),
    (f"{P}/runs-count?estimate=maybe", "INVALID_ARGUMENT", "estimate", "estimate must be true or false"),
    (f"{P}/runs/r1/history", "FIELD_REQUIRED", "key", "at least one key= is required"),
    (f"{P}/runs/r1/history?key=loss&samples=1", "OUT_OF_RANGE", "samples", "samples must be in [2, 100000]"),
    (
        f"{P}/runs/r1/history?key=loss&min_step=x",
        "INVALID_ARGUMENT",
        "min_step",
        "min_step must be an integer",
    ),
    (f"{P}/runs/r1/files?page_size=1001", "OUT_OF_RANGE", "page_size", "page_size must be in [1, 1000]"),
    (f"{P}/runs/r1/file", "FIELD_REQUIRED", "path", "path= is required"),
    (f"{P}/runs/r1/media/values", "FIELD_REQUIRED", "key", "key= is required"),
    (
        f"{P}/runs/r1/media/values?key=k&max_step=-1",
        "OUT_OF_RANGE",
        "max_step",
        f"max_step must be in [0, {2**62}]",
    ),
    (
        f"{P}/runs/r1/media/table?key=k&index=-1",
        "OUT_OF_RANGE",
        "index",
        f"index must be in [0, {2**31 - 1}]",
    ),
    (f"{P}{BLOB}", "INVALID_ARGUMENT", "type", f"type must be one of {KINDS}"),
    (f"{P}{BLOB}?type=exe", "INVALID_ARGUMENT", "type", f"type must be one of {KINDS}"),
    (f"{P}/artifacts?page_size=501", "OUT_OF_RANGE", "page_size", "page_size must be in [1, 500]"),
    (f"{P}/artifacts/m/diff?old=v1", "FIELD_REQUIRED", "new", "old= and new= are required"),
    (f"{P}/artifacts/m/diff?new=v1", "FIELD_REQUIRED", "old", "old= and new= are required"),
    (f"{P}/artifacts/m/versions/v1/file", "FIELD_REQUIRED", "path", "path= is required"),
    (f"{P}/reports?page_size=1001", "OUT_OF_RANGE", "page_size", "page_size must be in [1, 1000]"),
    ("/api/v1/lineage", "INVALID_NAME", "node", "node= must be a run or artifact version resource name"),
    (
        "/api/v1/lineage?node=runs/x",
        "INVALID_NAME",
        "node",
        "node= must be a run or artifact version resource name",
    ),
    ("/api/v1/lineage?node=entities/a&depth=51", "OUT_OF_RANGE", "depth", "depth must be in [1, 50]"),
    (
        "/api/v1/impact?node=entities/a&page_size=10001",
        "OUT_OF_RANGE",
        "page_size",
        "page_size must be in [1, 10000]",
    ),
]


@pytest.fixture(scope="module")
def web() -> Iterator[WebThread]:
    """The console alone: the refusals below happen before any call to the services."""
    thread = WebThread(WebSettings(web_addr="127.0.0.1:0", grpc_addr="127.0.0.1:1", auth_mode="keys")).start()
    yield thread
    thread.stop()


@pytest.mark.parametrize(("url", "reason", "field", "message"), REFUSED)
def test_a_bad_query_value_is_refused_with_the_consoles_error_body(
    web: WebThread, url: str, reason: str, field: str, message: str | None
) -> None:
    r = httpx.get(web.url + url, headers={"Authorization": "Bearer key"}, timeout=10)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert (error["status"], error["reason"], error["field"]) == (400, reason, field)
    if message is not None:
        assert error["message"] == message


async def probe(handler: Any, query: str = "") -> Any:
    """GET /api/v1/probe?query from an app whose one route is `handler` (its exceptions propagate)."""
    app = Starlette(routes=[Route("/api/v1/probe", handler)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return (await client.get(f"/api/v1/probe{query}")).json()


@declare(
    Param("seen", "string", "a declared text"),
    Param("n", "integer", "a declared number", default=3, minimum=1, maximum=5),
    Param("limit", "integer", "a declared number without default", minimum=0, maximum=9),
)
async def reads_declared(request: Request) -> JSONResponse:
    return JSONResponse({"seen": api_spec.string(request, "seen"), "n": api_spec.integer(request, "n")})


async def test_a_declared_parameter_is_read_with_its_declared_default_and_limits() -> None:
    assert await probe(reads_declared, "?seen=x") == {"seen": "x", "n": 3}
    assert await probe(reads_declared, "?n=5") == {"seen": "", "n": 5}


@pytest.mark.parametrize(
    "read",
    [
        lambda r: api_spec.string(r, "unseen"),  # not declared at all
        lambda r: api_spec.strings(r, "seen"),  # declared as one text, read as a list
        lambda r: api_spec.boolean(r, "n"),  # declared as an integer, read as a boolean
        lambda r: api_spec.integer(r, "limit"),  # read as always set, but it declares no default
    ],
)
async def test_a_handler_cannot_read_a_parameter_it_does_not_declare(read: Any) -> None:
    @declare(*api_spec.spec_of(reads_declared).params)  # type: ignore[union-attr]
    async def handler(request: Request) -> JSONResponse:
        return JSONResponse({"value": read(request)})

    with pytest.raises(UndeclaredParameter):
        await probe(handler)


async def test_a_handler_without_a_declaration_reads_no_parameter() -> None:
    async def undeclared(request: Request) -> JSONResponse:
        return JSONResponse({"page": api_spec.page(request)})

    with pytest.raises(UndeclaredParameter, match="page_size"):
        await probe(undeclared, "?page_size=3")


def test_a_parameter_cannot_be_declared_twice_nor_an_integer_without_limits() -> None:
    with pytest.raises(ValueError, match="twice"):
        declare(Param("a", "string", "one"), Param("a", "boolean", "two"))
    with pytest.raises(ValueError, match="limits"):
        Param("n", "integer", "a number", default=1, minimum=0)


def test_no_api_module_reads_the_query_around_its_declaration() -> None:
    """Every JSON API module reads the query through api_spec; only the HTML pages (pages.py, whose
    `?next=` and `?node=` only prefill a page) and api_spec itself touch `query_params`."""
    web = Path(api_spec.__file__).parent
    allowed = {"api_spec.py", "pages.py"}
    readers = [f.name for f in web.glob("*.py") if f.name not in allowed and "query_params" in f.read_text()]
    assert readers == []
