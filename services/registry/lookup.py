"""What every registry feature looks up first: the artifact and the version a request names (or NOT_FOUND
naming which is missing), and the principal acting. No SQL here: the queries are in versions/store.py."""

from __future__ import annotations

from ..common.context import current_principal
from ..common.db import Conn
from ..common.errors import NotFound
from ..common.names import ArtifactName, VersionName
from .model import DELETED, Version
from .versions import store


def actor() -> tuple[str, int]:
    """(name, kind) of the principal of the current request, as recorded in history and audit rows."""
    p = current_principal()
    return p.name, p.kind


async def artifact_id_or_404(conn: Conn, name: ArtifactName, *, lock: bool = False) -> int:
    """The artifact's row id; with lock, its row is locked FOR UPDATE (see versions/store.py)."""
    art_id = await store.artifact_id(conn, name, lock=lock)
    if art_id is None:
        raise NotFound("artifact", str(name))
    return art_id


async def version_or_404(conn: Conn, name: VersionName, *, live: bool = True) -> Version:
    """The version or draft; with live, a soft-deleted one is NOT_FOUND too."""
    v = await store.find_version(conn, name)
    if v is None or (live and v.state == DELETED):
        kind = "artifact draft" if name.version is None else "artifact version"
        raise NotFound(kind, str(name))
    return v
