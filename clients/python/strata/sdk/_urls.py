"""Console addresses: `run.url`, `artifact.url`. The web console serves /p/<entity>/<project>/...; its
base is $STRATA_WEB_URL (default http://127.0.0.1:8080, the console's default address)."""

from __future__ import annotations

import os

DEFAULT_WEB_URL = "http://127.0.0.1:8080"


def web_url() -> str:
    return (os.environ.get("STRATA_WEB_URL") or DEFAULT_WEB_URL).rstrip("/")


def run_url(entity: str, project: str, run_id: str) -> str:
    return f"{web_url()}/p/{entity}/{project}/runs/{run_id}"


def artifact_url(entity: str, project: str, name: str, version: str) -> str:
    return f"{web_url()}/p/{entity}/{project}/artifacts/{name}/versions/{version}"
