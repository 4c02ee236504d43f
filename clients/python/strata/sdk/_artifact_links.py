"""Linking a logged version into a registry collection (`artifact.link`, `run.link_artifact`).

A registry is a project used as a link target, e.g. "ml-research/model-registry". The link is a new
version of the registry's collection that serves the source's files, has its own aliases (protected
ones such as "production" need an admin of the registry) and names its source (`linked_from`):

    art = run.log_artifact(model)                                   # in ml-research/text-classifier
    run.link_artifact(art, "ml-research/model-registry/bert", aliases=["staging"])
    prod = run.use_artifact("ml-research/model-registry/bert:production")
    prod.linked_from   # "entities/ml-research/projects/text-classifier/artifacts/bert-classifier/versions/v3"
"""

from __future__ import annotations

from typing import Any

from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb


def collection_name(target: str, entity: str | None) -> str:
    """The registry collection's resource name from "entity/registry/collection",
    "registry/collection" (in `entity`) or a resource name."""
    if target.startswith("entities/"):
        return target
    parts = target.split(":", 1)[0].split("/")
    if len(parts) == 2 and entity:
        parts = [entity, *parts]
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"link target {target!r} must look like [entity/]registry/collection")
    return f"entities/{parts[0]}/projects/{parts[1]}/artifacts/{parts[2]}"


def link_version(
    client: Any, source: str, target: str, aliases: list[str] | None, entity: str | None
) -> artifact_pb2.ArtifactVersion:
    """LinkArtifactVersion: `source` is a version's resource name or reference."""
    wanted = [a for a in dict.fromkeys(aliases or []) if a != "latest"]
    request = pb.LinkArtifactVersionRequest(
        source=source, target=collection_name(target, entity), aliases=wanted
    )
    version: artifact_pb2.ArtifactVersion = client.registry.LinkArtifactVersion(request).version
    return version


def link_artifact(run: Any, artifact: Any, target: str, aliases: list[str] | None) -> Any:
    """run.link_artifact: an Artifact (logged by `run` first when it is not yet) or a reference
    (relative ones resolve in the run's project)."""
    from .artifact import Artifact

    if run._offline:
        raise RuntimeError("link_artifact needs the server: offline runs cannot link artifacts")
    if isinstance(artifact, Artifact):
        if artifact._version is None:
            artifact = run.log_artifact(artifact)
        return artifact.link(target, aliases)
    ref = str(artifact)
    if not ref.startswith("entities/"):
        prefix = [run.entity, run.project][: 3 - len(ref.split(":")[0].split("/"))]
        ref = "/".join([*prefix, ref])
    return Artifact._from_version(run.client, link_version(run.client, ref, target, aliases, run.entity))
