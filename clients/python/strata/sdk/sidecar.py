"""The model sidecar: keep a folder in sync with whatever version an alias points at.

    strata sidecar --artifact ml-research/text-classifier/bert:production --dir /models

Layout of --dir:
    v3/            the files of version v3 (downloaded into .v3.partial/, then renamed: never half there)
    v4/
    current -> v4  a symlink switched atomically (rename over the old link) after v4 is complete
The serving process loads `/models/current/...`; it sees either the old or the new version, never a
mix. The sidecar downloads the current holder at start, then follows every move of the alias
(WatchAlias, reconnecting without missing a move), keeps the `keep` newest version folders, and can run
a command after each switch (e.g. to signal the server to reload). A pinned reference (model:v3)
is downloaded once.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

from strata.client import Client
from strata.errors import Reason, StrataError
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb

from ._artifact_refs import Ref, parse_ref
from .artifact import Artifact
from .watch import pause, watch_alias

log = logging.getLogger("strata.sidecar")
CURRENT = "current"


class Sidecar:
    def __init__(
        self,
        client: Client,
        ref: str,
        directory: str | os.PathLike[str],
        *,
        keep: int = 2,
        on_change: str | None = None,
        progress: bool | None = False,
    ) -> None:
        self.client = client
        self.ref: Ref = parse_ref(client, ref)
        self.dir = Path(directory)
        self.keep = max(1, keep)
        self.on_change = on_change
        self.progress = progress
        self.switches = 0
        self.attempts = 5

    def run(self, stop: threading.Event | None = None, once: bool = False) -> None:
        """Sync now; then, for an alias (unless once), follow its moves until `stop` is set."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.ref.version is not None or once:
            got = self.client.registry.ResolveArtifactVersion(
                pb.ResolveArtifactVersionRequest(ref=str(self.ref))
            )
            self.switch(got.version)
            return
        while stop is None or not stop.is_set():
            try:
                for msg in watch_alias(self.client, self.ref.artifact, self.ref.selector, stop=stop):
                    if (
                        msg.HasField("version")
                        and msg.version.state == artifact_pb2.ARTIFACT_VERSION_STATE_COMMITTED
                    ):
                        self._switch_with_retries(msg.version, stop)
                    else:
                        log.warning("alias %s removed; keeping %s", self.ref, self.current())
                return
            except StrataError as e:
                if e.reason != Reason.NOT_FOUND:
                    raise
                log.info("%s does not exist yet; waiting", self.ref.artifact)
                if pause(stop, 2.0):
                    return

    def _switch_with_retries(
        self, version: artifact_pb2.ArtifactVersion, stop: threading.Event | None
    ) -> None:
        """A failed download (network, blob store) is retried with backoff; a version that still cannot
        be fetched is skipped with an error and `current` stays where it is."""
        for attempt in range(self.attempts):
            try:
                self.switch(version)
                return
            except (StrataError, OSError) as e:
                delay = min(2.0**attempt, 30.0)
                log.warning("download of %s failed (%s); retrying in %.0fs", version.name, e, delay)
                if pause(stop, delay):
                    return
        log.error("giving up on %s; %s stays current", version.name, self.current())

    def current(self) -> str | None:
        link = self.dir / CURRENT
        return os.readlink(link) if link.is_symlink() else None

    def switch(self, version: artifact_pb2.ArtifactVersion) -> Path:
        """Make `current` point at a complete copy of `version`."""
        folder_name = f"v{version.version}"
        folder = self.dir / folder_name
        if not folder.is_dir():
            partial = self.dir / f".{folder_name}.partial"
            Artifact._from_version(self.client, version).download(partial, progress=self.progress)
            os.replace(partial, folder)
        if self.current() != folder_name:
            tmp = self.dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
            os.symlink(folder_name, tmp)
            os.replace(tmp, self.dir / CURRENT)
            self.switches += 1
            log.info("switched %s to %s", self.dir / CURRENT, version.name)
            self._notify(version, folder)
        self._prune(folder_name)
        return folder

    def _notify(self, version: artifact_pb2.ArtifactVersion, folder: Path) -> None:
        if not self.on_change:
            return
        env = {**os.environ, "STRATA_VERSION": version.name, "STRATA_VERSION_DIR": str(folder)}
        result = subprocess.run(self.on_change, shell=True, env=env, check=False)
        if result.returncode:
            log.warning("--on-change exited with %s", result.returncode)

    def _prune(self, current: str) -> None:
        versions = sorted(
            (p for p in self.dir.iterdir() if p.is_dir() and p.name.startswith("v") and p.name[1:].isdigit()),
            key=lambda p: int(p.name[1:]),
        )
        old = [p for p in versions if p.name != current]
        for path in old[: max(0, len(old) - (self.keep - 1))]:
            shutil.rmtree(path, ignore_errors=True)
