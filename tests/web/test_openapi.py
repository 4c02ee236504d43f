"""GET /api/v1/openapi.json: an OpenAPI 3.1 document built from the route table and the endpoints'
declarations (api_spec), so every /api/v1 route appears with each of its methods, path parameters and
declared query parameters, and the document is valid OpenAPI 3.1."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from strata_server.web import openapi
from strata_server.web.api_spec import Param, declare, spec_of
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


@pytest.fixture(scope="module")
def doc(web: WebThread) -> Any:
    r = httpx.get(f"{web.url}/api/v1/openapi.json", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def api_routes(app: Any) -> list[Route]:
    return [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/api/v1")]


def path_of(route: Route) -> str:
    return re.sub(r"{([^}:]+):[^}]*}", r"{\1}", route.path)


def test_the_document_is_valid_openapi_3_1(doc: Any) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    broken = copy.deepcopy(doc)
    del broken["paths"]["/api/v1/projects/{entity}/{project}/runs"]["get"]["parameters"][0]["in"]
    with pytest.raises(Exception, match="in"):  # the validator does look at the parameters
        validate(broken)


def test_every_api_route_and_method_is_in_the_document(doc: Any, app: Any) -> None:
    routes = api_routes(app)
    assert len(routes) > 20
    for route in routes:
        assert path_of(route) in doc["paths"], route.path
        for method in route.methods - {"HEAD"}:
            op = doc["paths"][path_of(route)][method.lower()]
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}:]+)", route.path)), route.path
            assert op["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    panel = doc["paths"]["/api/v1/projects/{entity}/{project}/reports/{report}/panels/{block}/{panel}"]
    assert {p["name"]: p["schema"]["type"] for p in panel["get"]["parameters"]}["block"] == "integer"


def test_every_api_route_is_declared_and_its_query_is_exactly_the_declaration(doc: Any, app: Any) -> None:
    for route in api_routes(app):
        spec = spec_of(route.endpoint)
        assert spec is not None, f"{route.path} has no @declare"
        for method in route.methods - {"HEAD"}:
            op = doc["paths"][path_of(route)][method.lower()]
            query = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
            assert list(query) == [p.name for p in spec.params], route.path
            for p in spec.params:
                assert query[p.name]["schema"] == p.schema() and query[p.name]["required"] == p.required
                assert query[p.name]["description"]
            answer = op["responses"]["200"]["content"]
            if spec.produces:
                assert list(answer) == list(spec.produces), route.path
            else:
                assert answer["application/json"]["schema"] == (spec.response or {"type": "object"})
            if spec.body is not None:
                assert op["requestBody"]["content"]["application/json"]["schema"] == spec.body


def test_declared_types_limits_and_enums_are_in_the_document(doc: Any) -> None:
    def query(path: str) -> dict[str, Any]:
        op = doc["paths"]["/api/v1/projects/{entity}/{project}" + path]["get"]
        return {p["name"]: p for p in op["parameters"] if p["in"] == "query"}

    runs = query("/runs")
    assert {"filter", "order", "state", "job_type", "group", "user", "tag", "page_size", "page_token"} <= set(
        runs
    )
    assert runs["tag"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert runs["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}
    assert query("/runs-count")["estimate"]["schema"]["type"] == "boolean"
    history = query("/runs/{run}/history")
    assert history["key"]["required"] and history["samples"]["schema"]["maximum"] == 100_000
    blob = query("/runs/{run}/media/blob/{sha256}")["type"]
    assert blob["required"] and blob["schema"]["enum"] == [
        "image",
        "plotly",
        "html",
        "table",
        "histogram",
        "text",
        "audio",
        "video",
    ]
    lineage = {p["name"]: p for p in doc["paths"]["/api/v1/lineage"]["get"]["parameters"]}
    assert (
        lineage["node"]["schema"]["pattern"] == "^entities/" and lineage["depth"]["schema"]["maximum"] == 50
    )


def test_bodies_and_answers_come_from_the_declarations(doc: Any) -> None:
    session = doc["paths"]["/api/v1/session"]
    body = session["post"]["requestBody"]
    assert body["required"] and "api_key" in body["content"]["application/json"]["schema"]["properties"]
    assert "delete" in session and "requestBody" not in session["delete"]
    count = doc["paths"]["/api/v1/projects/{entity}/{project}/runs-count"]["get"]["responses"]["200"]
    assert set(count["content"]["application/json"]["schema"]["properties"]) == {"count", "estimated"}
    file = doc["paths"]["/api/v1/projects/{entity}/{project}/runs/{run}/file"]["get"]["responses"]["200"]
    assert list(file["content"]) == ["application/octet-stream"]


def test_a_route_added_to_the_table_is_documented_from_its_declaration(app: Any) -> None:
    @declare(
        Param("loud", "boolean", "shout"),
        Param("times", "integer", "how often", default=1, minimum=1, maximum=9),
    )
    async def ping(request: object) -> PlainTextResponse:
        """GET /api/v1/ping: answers pong."""
        return PlainTextResponse("pong")

    async def bare(request: object) -> PlainTextResponse:
        """GET /api/v1/bare: no declaration, so no query parameters."""
        return PlainTextResponse("")

    extra = [Route("/api/v1/ping", ping), Route("/api/v1/bare/{x}", bare)]
    paths = openapi.document([*app.routes, *extra])["paths"]
    op = paths["/api/v1/ping"]["get"]
    assert op["summary"] == "GET /api/v1/ping: answers pong."
    assert [(p["name"], p["schema"]["type"]) for p in op["parameters"]] == [
        ("loud", "boolean"),
        ("times", "integer"),
    ]
    assert [p["name"] for p in paths["/api/v1/bare/{x}"]["get"]["parameters"]] == ["x"]
