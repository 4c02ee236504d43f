"""GET /api/v1/openapi.json: an OpenAPI 3 document derived from the route table, so every /api/v1
route appears in it with each of its methods and path parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from strata_server.web import openapi
from strata_server.web.config import WebSettings

from tests.fixtures.web import WebThread

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def web() -> Iterator[WebThread]:
    """The console alone (this document needs no gRPC server behind it)."""
    thread = WebThread(WebSettings(web_addr="127.0.0.1:0", grpc_addr="127.0.0.1:1", auth_mode="keys")).start()
    yield thread
    thread.stop()


@pytest.fixture
def app(web: WebThread) -> Any:
    return web.app


def fetch(web: WebThread) -> Any:
    r = httpx.get(f"{web.url}/api/v1/openapi.json", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def test_every_api_route_and_method_is_in_the_document(web: WebThread, app: Any) -> None:
    doc = fetch(web)
    assert doc["openapi"].startswith("3.")
    routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/api/v1")]
    assert len(routes) > 20
    for route in routes:
        path = re.sub(r"{([^}:]+):[^}]*}", r"{\1}", route.path)
        assert path in doc["paths"], path
        for method in route.methods - {"HEAD"}:
            op = doc["paths"][path][method.lower()]
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}:]+)", route.path)), path
            assert op["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_query_parameters_and_bodies_come_from_the_endpoints(web: WebThread) -> None:
    paths = fetch(web)["paths"]
    count = paths["/api/v1/projects/{entity}/{project}/runs-count"]["get"]
    assert "estimate" in {p["name"] for p in count["parameters"] if p["in"] == "query"}
    table = {p["name"] for p in paths["/api/v1/projects/{entity}/{project}/runs"]["get"]["parameters"]}
    assert {"filter", "order", "job_type", "tag", "page_size", "page_token"} <= table  # read by helpers
    assert "requestBody" in paths["/api/v1/session"]["post"] and "delete" in paths["/api/v1/session"]
    blob = paths["/api/v1/projects/{entity}/{project}/runs/{run}/file"]["get"]
    assert "application/octet-stream" in blob["responses"]["200"]["content"]


def test_a_route_added_to_the_table_is_documented_without_more_work(app: Any) -> None:
    async def ping(request: object) -> PlainTextResponse:
        """GET /api/v1/ping?loud=..: answers pong."""
        return PlainTextResponse("pong")

    op = openapi.document([*app.routes, Route("/api/v1/ping", ping)])["paths"]["/api/v1/ping"]["get"]
    assert op["summary"].startswith("GET /api/v1/ping") and op["parameters"][0]["name"] == "loud"
