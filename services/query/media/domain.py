"""Reading rich values (no gRPC, no SQL): a run's media keys, a key's values by step range (latest
first, paged), a table as columns, and a value's bytes (only blobs the run logged, read through it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from strata.ingest.v1 import media_pb2

from ...common import paging
from ...common.blobstore.streaming import check_range, serve_range, transfer_stats
from ...common.db import Conn
from ...common.deps import Deps
from ...common.errors import FailedPrecondition, InvalidArgument, NotFound, Reason
from ...common.names import parse_run
from ..history import store as history_store
from . import store

DEFAULT_PAGE, MAX_PAGE = 100, 1000
MAX_STEP = 2**63 - 1
_SHA_CHARS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class KeyInfo:
    key: str
    type: int
    count: int
    first_step: int
    last_step: int


@dataclass(frozen=True)
class Entry:
    key: str
    step: int
    index: int
    type: int
    sha256: str
    size: int
    metadata_json: str
    create_time: datetime | None


@dataclass(frozen=True)
class Table:
    entry: Entry
    columns: list[str]
    values: list[list[Any]]  # one list per column
    rows: int


async def _run_pk(conn: Conn, name: str, timeout: float) -> int:
    run = parse_run(name, "run")
    pk = await history_store.run_pk(conn, run.project.entity, run.project.project, run.run_id, timeout)
    if pk is None:
        raise NotFound("run", name)
    return pk


def _required_key(key: str) -> str:
    if not key:
        raise InvalidArgument("key", Reason.FIELD_REQUIRED, "key is required")
    return key


def _entry(r: asyncpg.Record) -> Entry:
    return Entry(
        r["key"],
        r["step"],
        r["idx"],
        r["media_type"],
        r["sha256"],
        r["size"],
        r["metadata"],
        r["create_time"],
    )


async def list_keys(deps: Deps, run: str, timeout: float) -> list[KeyInfo]:
    async with deps.pool.acquire(timeout=timeout) as conn:
        pk = await _run_pk(conn, run, timeout)
        rows = await store.list_keys(conn, pk)
    return [KeyInfo(r["key"], r["media_type"], r["count"], r["first_step"], r["last_step"]) for r in rows]


async def list_entries(
    deps: Deps,
    run: str,
    key: str,
    min_step: int | None,
    max_step: int | None,
    page_size: int,
    page_token: str,
    timeout: float,
) -> tuple[list[Entry], str]:
    """One page of a key's values, latest step first; the token holds the last (step, index)."""
    _required_key(key)
    size = paging.page_size(page_size, DEFAULT_PAGE, MAX_PAGE)
    lo, hi = min_step if min_step is not None else 0, max_step if max_step is not None else MAX_STEP
    if lo < 0 or hi < lo:
        raise InvalidArgument("min_step", Reason.OUT_OF_RANGE, "need 0 <= min_step <= max_step")
    query = {"rpc": "ListMedia", "run": run, "key": key, "lo": lo, "hi": hi}
    position = paging.decode_as(page_token, query, list)
    after = None
    if position is not None:
        if len(position) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in position):
            raise paging.invalid_token("malformed")
        after = (position[0], position[1])
    async with deps.pool.acquire(timeout=timeout) as conn:
        pk = await _run_pk(conn, run, timeout)
        rows = await store.list_entries(conn, pk, key, lo, hi, after, size + 1)
    kept, token = paging.page(rows, size, lambda r: [r["step"], r["idx"]], query)
    return [_entry(r) for r in kept], token


async def get_table(deps: Deps, run: str, key: str, step: int | None, index: int, timeout: float) -> Table:
    _required_key(key)
    async with deps.pool.acquire(timeout=timeout) as conn:
        pk = await _run_pk(conn, run, timeout)
        row = await store.find_entry(conn, pk, key, step, index)
        if row is None:
            raise NotFound("media value", f"{run}/media/{key}" + (f"@{step}" if step is not None else ""))
        if row["media_type"] != media_pb2.MEDIA_TYPE_TABLE:
            raise FailedPrecondition(Reason.CONFLICT, f"key {key!r} does not hold tables")
        blob = await store.storage_key(conn, pk, row["sha256"])
    assert blob is not None  # the entry references the blob (FOREIGN KEY)
    document = json.loads(await deps.blobs.read_all(blob["storage_key"]))
    columns = [str(c) for c in document.get("columns", [])]
    data = document.get("data", [])
    values = [[r[i] for r in data] for i in range(len(columns))]
    return Table(_entry(row), columns, values, len(data))


async def read(
    deps: Deps, run: str, sha256: str, offset: int, length: int, timeout: float
) -> AsyncIterator[tuple[int, memoryview]]:
    if len(sha256) != 64 or not _SHA_CHARS.issuperset(sha256):
        raise InvalidArgument("sha256", Reason.INVALID_DIGEST, "sha256 must be 64 lowercase hex characters")
    async with deps.pool.acquire(timeout=timeout) as conn:
        pk = await _run_pk(conn, run, timeout)
        blob = await store.storage_key(conn, pk, sha256)
    if blob is None:
        raise NotFound("media value", f"{run}/media/{sha256}")
    count = check_range(blob["size"], offset, length)
    async for piece in serve_range(
        deps.blobs, blob["storage_key"], offset, count, transfer_stats(deps.extras)
    ):
        yield piece
