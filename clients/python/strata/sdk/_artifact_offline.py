"""Artifacts logged by offline runs: queued in the run's spool, uploaded by `strata sync`.

    <spool>/artifacts/0000-bert-classifier/artifact.json   name, type, description, metadata, aliases,
                                                           ttl, references
    <spool>/artifacts/0000-bert-classifier/files/...       the files: hard links when the file system
                                                           allows (no copy of a large checkpoint; a
                                                           file replaced or deleted afterwards stays
                                                           queued as logged, but one rewritten in
                                                           place changes with it), else copies
    <spool>/artifacts/0000-bert-classifier/logged.json     written once synced (the version's name)

`strata sync` logs each queued artifact after the run exists on the server, as the run's output (the
PRODUCED lineage edge), in the order they were logged; one already marked logged is skipped, so a sync
interrupted half-way can run again.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._artifact_log import jsonable, log_version, say
from ._artifact_refs import ArtifactTTL
from ._references import Reference

if TYPE_CHECKING:
    from strata.client import Client

    from .artifact import Artifact

MANIFEST, LOGGED = "artifact.json", "logged.json"


def _link_or_copy(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def queue_artifact(run: Any, art: Artifact, aliases: list[str]) -> Artifact:
    """Keep `art` in the offline run's spool (see the module docstring); returns it, still a draft."""
    if art._base is not None:
        raise ValueError("an offline run cannot log new_draft() versions: their base is on the server")
    root = Path(run.spool_path) / "artifacts"
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"{len(list(root.iterdir())):04d}-{art.collection}"
    for path, local in art._files.items():
        _link_or_copy(local, folder / "files" / path)
    ttl = art.ttl
    manifest = {
        "name": art.collection,
        "type": art.type,
        "description": art.description,
        "metadata": art.metadata,
        "aliases": aliases,
        "files": sorted(art._files),
        "ttl": "inherit" if isinstance(ttl, ArtifactTTL) else (None if ttl is None else ttl.total_seconds()),
        "references": [vars(r) for r in art._refs.values()],
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_text(json.dumps(manifest, default=jsonable))
    say(f"offline: {art.collection} queued in {folder}; `strata sync` logs it")
    return art


def _restore(folder: Path) -> tuple[Artifact, list[str]]:
    from .artifact import Artifact

    m = json.loads((folder / MANIFEST).read_text())
    art = Artifact(m["name"], m["type"], m["description"], m["metadata"])
    for path in m["files"]:
        art._files[path] = folder / "files" / path
    for r in m["references"]:
        art._refs[r["path"]] = Reference(**r)
    ttl = m["ttl"]
    art.ttl = ArtifactTTL.INHERIT if ttl == "inherit" else (None if ttl is None else timedelta(seconds=ttl))
    return art, list(m["aliases"])


def sync_artifacts(client: Client, spool: Path, run_name: str) -> list[str]:
    """Log the artifacts queued in `spool` as outputs of `run_name`; returns the versions' names."""
    root = spool / "artifacts"
    if not root.is_dir():
        return []
    parent = run_name.rsplit("/runs/", 1)[0]
    logged = []
    for folder in sorted(p for p in root.iterdir() if (p / MANIFEST).is_file()):
        done = folder / LOGGED
        if done.is_file():
            logged.append(json.loads(done.read_text())["version"])
            continue
        art, aliases = _restore(folder)
        log_version(client, parent, art, aliases, run_name)
        done.write_text(json.dumps({"version": art.resource_name}))
        logged.append(str(art.resource_name))
    return logged
