"""Defaults every SDK entry point shares: which entity and project a call means when none is given.

entity:  the `entity=` argument, else $STRATA_ENTITY, else the caller's own name (GetPrincipal), as W&B
         falls back to the user's default entity.
project: the `project=` argument, else $STRATA_PROJECT, else "uncategorized".
"""

from __future__ import annotations

import os
from functools import lru_cache

from strata.client import Client
from strata.iam.v1 import iam_service_pb2

DEFAULT_PROJECT = "uncategorized"


@lru_cache(maxsize=16)
def _principal_name(addr: str, api_key: str | None) -> str:
    with Client(addr, api_key=api_key or "") as client:
        return client.iam.GetPrincipal(iam_service_pb2.GetPrincipalRequest(), timeout=10).actor.name


def default_entity(client: Client, entity: str | None = None) -> str:
    if entity:
        return entity
    if os.environ.get("STRATA_ENTITY"):
        return os.environ["STRATA_ENTITY"]
    name = _principal_name(client.addr, client.api_key)
    return name.split("/", 1)[0]  # a service account "team/sa" logs to its team


def default_project(project: str | None = None) -> str:
    return project or os.environ.get("STRATA_PROJECT") or DEFAULT_PROJECT


def project_parent(entity: str, project: str) -> str:
    return f"entities/{entity}/projects/{project}"


def short_run_name(name: str) -> str:
    """entities/e/projects/p/runs/r -> e/p/r (anything else unchanged)."""
    parts = name.split("/")
    return f"{parts[1]}/{parts[3]}/{parts[5]}" if len(parts) == 6 else name
