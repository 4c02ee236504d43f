"""The answers the OpenAPI document declares are the answers the console gives: real calls against the
seeded project, each answer validated against the schema the document states for its operation."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.web.seed import ENTITY, PROJECT

pytestmark = pytest.mark.timeout(120)

P = f"/api/v1/projects/{ENTITY}/{PROJECT}"
PP = "/api/v1/projects/{entity}/{project}"
MODEL = f"entities/{ENTITY}/projects/{PROJECT}/artifacts/bert-classifier/versions/v1"


def answer_schema(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    return schema["schema"]


def test_json_answers_match_their_declared_schemas(console) -> None:  # type: ignore[no-untyped-def]
    run = console.data.train_runs[0]
    calls = [
        ("/api/v1", "/api/v1", {}),
        ("/api/v1/me", "/api/v1/me", {}),
        ("/api/v1/projects", "/api/v1/projects", {}),
        (P, PP, {}),
        (f"{P}/runs", f"{PP}/runs", {"tag": "bert", "page_size": 2}),
        (f"{P}/runs-count", f"{PP}/runs-count", {"estimate": "true"}),
        (f"{P}/runs/{run}", f"{PP}/runs/{{run}}", {}),
        (f"{P}/runs/{run}/keys", f"{PP}/runs/{{run}}/keys", {}),
        (f"{P}/runs/{run}/history", f"{PP}/runs/{{run}}/history", {"key": "train/loss", "samples": 10}),
        (f"{P}/runs/{run}/files", f"{PP}/runs/{{run}}/files", {}),
        (f"{P}/runs/{run}/artifacts", f"{PP}/runs/{{run}}/artifacts", {}),
        (f"{P}/runs/{run}/media", f"{PP}/runs/{{run}}/media", {}),
        (f"{P}/artifacts", f"{PP}/artifacts", {"type": "model"}),
        (f"{P}/artifacts/bert-classifier", f"{PP}/artifacts/{{artifact}}", {}),
        (f"{P}/artifacts/bert-classifier/alias-history", f"{PP}/artifacts/{{artifact}}/alias-history", {}),
        (
            f"{P}/artifacts/bert-classifier/diff",
            f"{PP}/artifacts/{{artifact}}/diff",
            {"old": "v0", "new": "v2"},
        ),
        (
            f"{P}/artifacts/bert-classifier/versions/v0",
            f"{PP}/artifacts/{{artifact}}/versions/{{version}}",
            {},
        ),
        (f"{P}/reports", f"{PP}/reports", {}),
        ("/api/v1/lineage", "/api/v1/lineage", {"node": MODEL, "direction": "upstream"}),
        ("/api/v1/impact", "/api/v1/impact", {"node": MODEL, "page_size": 1}),
    ]
    with console.http(console.data.alice) as http:
        doc = http.get("/api/v1/openapi.json").json()
        for url, path, params in calls:
            r = http.get(url, params=params)
            assert r.status_code == 200, (url, r.text)
            errors = [e.message for e in Draft202012Validator(answer_schema(doc, path)).iter_errors(r.json())]
            assert errors == [], url
        compared = http.post(f"{P}/compare", json={"runs": console.data.train_runs, "key": "train/loss"})
        assert compared.status_code == 200
        Draft202012Validator(answer_schema(doc, f"{PP}/compare", "post")).validate(compared.json())
        refused = http.get(f"{P}/runs/{run}/history", params={"key": "train/loss", "samples": 1})
        error_schema = doc["components"]["schemas"]["Error"]
        assert refused.status_code == 400 and refused.json()["error"]["reason"] == "OUT_OF_RANGE"
        Draft202012Validator(error_schema).validate(refused.json())


def test_a_schema_mismatch_would_be_seen(console) -> None:  # type: ignore[no-untyped-def]
    """The check above is not vacuous: a declared property the answer lacks is an error."""
    with console.http(console.data.alice) as http:
        doc = http.get("/api/v1/openapi.json").json()
        count = http.get(f"{P}/runs-count").json()
    schema = answer_schema(doc, f"{PP}/runs-count")
    assert Draft202012Validator(schema).is_valid(count)
    del count["estimated"]
    assert not Draft202012Validator(schema).is_valid(count)
