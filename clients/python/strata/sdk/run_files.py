"""Files attached to runs (checkpoints, logs, output.log), stored by digest like artifact files.

    from strata.sdk import run_files
    run_files.upload_run_files(client, run.name, [("checkpoints/e5.pt", Path("e5.pt"))])
    run_files.list_run_files(client, run.name)              # [RunFile(path, blob, create_time)]
    run_files.download_run_files(client, run.name, Path("out"), path_prefix="checkpoints/")

Uploads go through strata.sdk.transfer (dedupe, resumable sessions), then AddRunFiles attaches them;
downloads read through the run (ReadRunFile), resumable and verified, through the client cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from strata.client import Client
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2

from . import transfer

ADD_BATCH = 10_000


def run_parent(run_name: str) -> str:
    """entities/e/projects/p/runs/r -> entities/e/projects/p."""
    parts = run_name.split("/")
    if len(parts) != 6 or parts[0] != "entities" or parts[2] != "projects" or parts[4] != "runs":
        raise ValueError(f"not a run resource name (entities/e/projects/p/runs/r): {run_name!r}")
    return "/".join(parts[:4])


def upload_run_files(
    client: Client,
    run_name: str,
    files: Sequence[tuple[str, Path]],
    *,
    progress: bool | None = None,
    max_concurrency: int = 8,
) -> list[upload_pb2.RunFile]:
    """Upload (logical path, local file) pairs and attach them to the run; a path attached again is replaced."""
    digests = transfer.upload_files(
        client, run_parent(run_name), files, progress=progress, max_concurrency=max_concurrency
    )
    attached: list[upload_pb2.RunFile] = []
    items = [upload_pb2.RunFile(path=path, blob=digest) for path, digest in digests.items()]
    for i in range(0, len(items), ADD_BATCH):
        resp = client.ingest.AddRunFiles(pb.AddRunFilesRequest(run=run_name, files=items[i : i + ADD_BATCH]))
        attached += list(resp.files)
    return attached


def list_run_files(client: Client, run_name: str) -> list[upload_pb2.RunFile]:
    out: list[upload_pb2.RunFile] = []
    token = ""
    while True:
        resp = client.ingest.ListRunFiles(
            pb.ListRunFilesRequest(run=run_name, page_size=1000, page_token=token)
        )
        out += list(resp.files)
        token = resp.next_page_token
        if not token:
            return out


def download_run_files(
    client: Client,
    run_name: str,
    root: Path,
    *,
    path_prefix: str | None = None,
    progress: bool | None = None,
    max_concurrency: int = 8,
) -> Path:
    """Download the run's files (those under path_prefix, when given) into root. A file that fails (a
    stored path outside the rule, a name the file system refuses) never stops the others: every other
    file is downloaded, then transfer.DownloadIncomplete names the failures."""
    entries = [(f.path, f.blob.sha256, f.blob.size) for f in list_run_files(client, run_name)]
    entries = transfer.filter_prefix(entries, path_prefix)
    return transfer.download_run_file_entries(
        client, run_name, entries, Path(root), progress=progress, max_concurrency=max_concurrency
    )
