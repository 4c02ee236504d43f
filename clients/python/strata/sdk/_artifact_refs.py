"""Client-side parsing for the artifact SDK and CLI: references ("entity/project/name:alias"), TTLs ("7d").

The server is the authority on the grammar (it validates again); parsing here only splits a reference
into its parts so the SDK can name the artifact collection (aliases, WatchAlias) and fill in defaults.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import timedelta

import grpc

from strata.client import Client
from strata.errors import Reason, StrataError

from ._context import default_entity, default_project, project_parent, ref_project

_VERSION = re.compile(r"^v(\d+)$")
_TTL = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class ArtifactTTL(enum.Enum):
    """TTL markers: INHERIT means the project's default TTL applies (W&B's ArtifactTTL.INHERIT)."""

    INHERIT = "inherit"


TTL = timedelta | None | ArtifactTTL


@dataclass(frozen=True)
class Ref:
    entity: str
    project: str
    name: str
    selector: str  # "latest", "v3", or an alias

    @property
    def parent(self) -> str:
        return project_parent(self.entity, self.project)

    @property
    def artifact(self) -> str:
        """The collection's resource name."""
        return f"{self.parent}/artifacts/{self.name}"

    @property
    def version(self) -> int | None:
        m = _VERSION.match(self.selector)
        return int(m.group(1)) if m else None

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}:{self.selector}"


def bad_ref(ref: str, why: str) -> StrataError:
    return StrataError(
        grpc.StatusCode.INVALID_ARGUMENT, Reason.INVALID_ARTIFACT_REF, f"{ref!r}: {why}", field="ref"
    )


def parse_ref(client: Client | None, ref: str, entity: str | None = None, project: str | None = None) -> Ref:
    """Split "[[entity/]project/]name[:selector]" (or a resource name), filling defaults."""
    if ref.startswith("entities/"):
        parts = ref.split("/")
        if len(parts) == 6 and parts[2] == "projects" and parts[4] == "artifacts":
            return Ref(parts[1], parts[3], parts[5], "latest")
        if len(parts) == 8 and parts[2] == "projects" and parts[4] == "artifacts" and parts[6] == "versions":
            return Ref(parts[1], parts[3], parts[5], parts[7])
        raise bad_ref(ref, "not an artifact or version resource name")
    path, _, selector = ref.partition(":")
    parts = path.split("/")
    if not all(parts) or len(parts) > 3:
        raise bad_ref(ref, "expected [[entity/]project/]name[:alias]")
    if len(parts) == 3:
        entity, project = parts[0], parts[1]
    elif len(parts) == 2:
        project = parts[0]
    if entity is None:
        if client is None:
            raise bad_ref(ref, "needs an entity")
        entity = default_entity(client)
    if len(parts) == 1 and client is not None:
        project = ref_project(client, entity, project, parts[0])
    return Ref(entity, default_project(project), parts[-1], selector or "latest")


def parse_ttl(text: str) -> TTL:
    """ "7d", "12h", "30m", "90s", "2w" -> timedelta; "none"/"never" -> None; "inherit" -> INHERIT."""
    value = text.strip().lower()
    if value in {"none", "never", "off"}:
        return None
    if value == "inherit":
        return ArtifactTTL.INHERIT
    m = _TTL.match(value)
    if not m:
        raise ValueError(f"bad TTL {text!r}: use e.g. 7d, 12h, 30m, 90s, none or inherit")
    return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


def format_ttl(ttl: TTL) -> str:
    if ttl is None:
        return "none"
    if isinstance(ttl, ArtifactTTL):
        return "inherit"
    seconds = int(ttl.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
