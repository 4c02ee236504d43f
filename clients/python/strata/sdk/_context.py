"""Defaults every SDK entry point shares: which entity and project a call means when none is given.

entity:  the `entity=` argument, else $STRATA_ENTITY, else the caller's own name (GetPrincipal), as W&B
         falls back to the user's default entity.
project: the `project=` argument, else $STRATA_PROJECT, else "uncategorized".

A short artifact reference ("name:alias") resolves in the current run's project (strata.run), else
the Api's default project, else $STRATA_PROJECT, else the one project of the entity holding an
artifact of that name (several: an error naming them), and only then "uncategorized".
"""

from __future__ import annotations

import os
from functools import lru_cache

import grpc

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


def current_run_project() -> str | None:
    from strata.sdk import run as _run

    current = _run._current
    return current.project if current is not None else None


def ref_project(client: Client, entity: str, project: str | None, artifact: str) -> str:
    """The project a short reference to `artifact` means (see the module docstring)."""
    chosen = project or current_run_project() or os.environ.get("STRATA_PROJECT")
    if chosen:
        return chosen
    holders = projects_holding(client, entity, artifact)
    if len(holders) > 1:
        from strata.errors import Reason, StrataError

        raise StrataError(
            grpc.StatusCode.INVALID_ARGUMENT,
            Reason.INVALID_ARTIFACT_REF,
            f"artifact {artifact!r} exists in several projects of {entity} ({', '.join(holders)}): "
            "write project/name:alias",
            field="ref",
        )
    return holders[0] if holders else DEFAULT_PROJECT


def projects_holding(client: Client, entity: str, artifact: str) -> list[str]:
    """Projects of `entity` (those the caller may read) holding an artifact collection named `artifact`."""
    from strata.errors import StrataError
    from strata.registry.v1 import registry_service_pb2 as rpb

    found, token = [], ""
    while True:
        page = client.iam.ListProjects(
            iam_service_pb2.ListProjectsRequest(parent=f"entities/{entity}", page_token=token), timeout=30
        )
        for p in page.projects:
            try:
                client.registry.GetArtifact(rpb.GetArtifactRequest(name=f"{p.name}/artifacts/{artifact}"))
            except StrataError as e:
                if e.code not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
                    raise
                continue
            found.append(p.name.rsplit("/", 1)[-1])
        token = page.next_page_token
        if not token:
            return found
