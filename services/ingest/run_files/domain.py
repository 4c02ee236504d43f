"""Run files (no gRPC, no SQL): blobs attached to a run by path (checkpoints, logs, output.log).

Attaching locks the blob rows FOR SHARE in the same transaction (the GC contract: a blob cannot be
collected between the check and the reference), and requires the run's project to hold each blob
(uploaded or proven), so a digest alone never grants access. Reading goes through the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ...common import audit, paging
from ...common.blobstore.streaming import check_range, serve_range, transfer_stats
from ...common.db import DEFAULT_TIMEOUT, Conn
from ...common.deps import Deps
from ...common.errors import InvalidArgument, NotFound, Reason
from ...common.names import RunName
from ...common.paths import check_path
from ..runs import store as runs_store
from ..uploads.domain import Digest, check_digest, require_held
from . import store

MAX_FILES = 10_000
DEFAULT_PAGE, MAX_PAGE = 100, 1000


@dataclass(frozen=True)
class RunFileView:
    path: str
    blob: Digest
    create_time: datetime | None = None


class RunFiles:
    def __init__(self, deps: Deps, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.deps = deps
        self.timeout = timeout  # the caller's remaining deadline (db.timeout_from)
        self.pool: asyncpg.Pool = deps.pool

    async def _run(self, conn: Conn, name: RunName) -> asyncpg.Record:
        row = await runs_store.find_run(conn, name.project.entity, name.project.project, name.run_id)
        if row is None:
            raise NotFound("run", str(name))
        return row

    async def add(self, name: RunName, files: Sequence[RunFileView]) -> list[RunFileView]:
        checked = _check_files(files)
        async with self.pool.acquire(timeout=self.timeout) as conn, conn.transaction():
            run = await self._run(conn, name)
            await require_held(conn, run["project_id"], [f.blob for f in checked], "files")
            rows = await store.upsert_files(
                conn, run["id"], [(f.path, f.blob.sha256, f.blob.size) for f in checked]
            )
            await audit.record(
                conn,
                "run_files.add",
                target=str(name),
                project_id=run["project_id"],
                after={"count": len(rows), "paths": [f.path for f in checked[:100]]},
            )
        return [_view(r) for r in rows]

    async def list(self, name: RunName, page_size: int, page_token: str) -> tuple[list[RunFileView], str]:
        """One page of the run's files, ordered by path; the token holds the last path of the page."""
        query = {"rpc": "ListRunFiles", "run": str(name)}
        req = paging.page_request(query, page_size, page_token, str, DEFAULT_PAGE, MAX_PAGE)
        async with self.pool.acquire(timeout=self.timeout) as conn:
            run = await self._run(conn, name)
            rows = await store.list_files(conn, run["id"], req.position or "", req.limit + 1)
        kept, token = req.page(rows, lambda r: r["path"])
        return [_view(r) for r in kept], token

    async def read(
        self, name: RunName, path: str, offset: int, length: int
    ) -> AsyncIterator[tuple[int, memoryview]]:
        check_path(path, "path")
        async with self.pool.acquire(timeout=self.timeout) as conn:
            run = await self._run(conn, name)
            row = await store.get_file(conn, run["id"], path)
        if row is None:
            raise NotFound("run file", f"{name}/files/{path}")
        count = check_range(row["size"], offset, length)
        stats = transfer_stats(self.deps.extras)
        async for piece in serve_range(self.deps.blobs, row["storage_key"], offset, count, stats):
            yield piece


def _view(row: asyncpg.Record) -> RunFileView:
    return RunFileView(row["path"], Digest(row["sha256"], row["size"]), row["create_time"])


def _check_files(files: Sequence[RunFileView]) -> list[RunFileView]:
    if not files:
        raise InvalidArgument("files", Reason.FIELD_REQUIRED, "at least one file is required")
    if len(files) > MAX_FILES:
        raise InvalidArgument("files", Reason.OUT_OF_RANGE, f"at most {MAX_FILES} files per call")
    seen: set[str] = set()
    for i, f in enumerate(files):
        check_path(f.path, f"files[{i}].path")
        check_digest(f.blob.sha256, f.blob.size, f"files[{i}].blob")
        if f.path in seen:
            raise InvalidArgument(f"files[{i}].path", Reason.DUPLICATE_PATH, f"path {f.path!r} appears twice")
        seen.add(f.path)
    return list(files)
