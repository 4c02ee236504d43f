"""The media index (no gRPC, no SQL): rich values logged with run.log.

Each value's bytes are a blob the run's project holds (uploaded through the ordinary upload engine);
an index row says under which key, step and list position it was logged, its type, and small
metadata (image size, table shape, histogram bins). Adding locks the blob rows FOR SHARE in the same
transaction (the GC contract), and an entry already stored is left as it is, so a replayed spool
changes nothing. A key holds scalars or rich values, never both. Every check runs before anything is
written: a rejected call writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strata.ingest.v1 import media_pb2
from strata.wire.metric_keys import key_problem

from ...common import audit, jsonvalue
from ...common.db import DEFAULT_TIMEOUT, Conn
from ...common.deps import Deps
from ...common.errors import InvalidArgument, NotFound, Reason
from ...common.names import RunName
from ..runs import store as runs_store
from ..uploads.domain import Digest, check_digest, require_held
from . import store

MAX_ENTRIES = 10_000
MAX_METADATA_BYTES = 64 * 1024
MAX_IMAGE_BYTES = 50 * 1000 * 1000  # 50 MB
MAX_TABLE_CELLS = 1_000_000
MAX_STEP = 2**63 - 2
KNOWN_TYPES = frozenset(v for v in media_pb2.MediaType.values() if v != media_pb2.MEDIA_TYPE_UNSPECIFIED)


@dataclass(frozen=True)
class MediaEntry:
    key: str
    step: int
    index: int
    type: int
    blob: Digest
    metadata: dict[str, Any] = field(default_factory=dict)
    create_time: datetime | None = None


@dataclass(frozen=True)
class RawEntry:
    """An entry as the request holds it (metadata still JSON text)."""

    key: str
    step: int
    index: int
    type: int
    blob: Digest
    metadata_json: str


async def add_entries(
    deps: Deps, name: RunName, raw: Sequence[RawEntry], timeout: float = DEFAULT_TIMEOUT
) -> int:
    """Check and store the entries; returns how many were new."""
    entries = check_entries(raw)
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        run = await runs_store.find_run(conn, name.project.entity, name.project.project, name.run_id)
        if run is None:
            raise NotFound("run", str(name))
        await _check_keys_hold_no_scalars(conn, run["id"], entries)
        await require_held(conn, run["project_id"], [e.blob for e in entries], "entries")
        rows = [(e.key, e.step, e.index, e.type, e.blob.sha256, e.blob.size, e.metadata) for e in entries]
        added = await store.insert_entries(conn, run["id"], rows)
        await audit.record(
            conn,
            "media.add",
            target=str(name),
            project_id=run["project_id"],
            after={"count": added, "keys": sorted({e.key for e in entries})[:100]},
        )
    return added


async def _check_keys_hold_no_scalars(conn: Conn, run_id: int, entries: list[MediaEntry]) -> None:
    clash = set(await store.scalar_keys_among(conn, run_id, sorted({e.key for e in entries})))
    for i, e in enumerate(entries):
        if e.key in clash:
            raise InvalidArgument(
                f"entries[{i}].key",
                Reason.CONFLICT,
                f"key {e.key!r} holds scalar metrics in this run; rich values need a key of their own",
            )


def check_entries(raw: Sequence[RawEntry]) -> list[MediaEntry]:
    if not raw:
        raise InvalidArgument("entries", Reason.FIELD_REQUIRED, "at least one entry is required")
    if len(raw) > MAX_ENTRIES:
        raise InvalidArgument("entries", Reason.OUT_OF_RANGE, f"at most {MAX_ENTRIES} entries per call")
    return [_check_entry(e, f"entries[{i}]") for i, e in enumerate(raw)]


def _check_entry(e: RawEntry, where: str) -> MediaEntry:
    problem = key_problem(e.key)
    if problem:
        raise InvalidArgument(f"{where}.key", Reason.INVALID_NAME, problem)
    if not 0 <= e.step <= MAX_STEP:
        raise InvalidArgument(f"{where}.step", Reason.OUT_OF_RANGE, f"step must be in 0..{MAX_STEP}")
    if not 0 <= e.index < 2**31 - 1:
        raise InvalidArgument(f"{where}.index", Reason.OUT_OF_RANGE, "index must be >= 0")
    if e.type not in KNOWN_TYPES:
        raise InvalidArgument(f"{where}.type", Reason.OUT_OF_RANGE, f"unknown media type {e.type}")
    blob = check_digest(e.blob.sha256, e.blob.size, f"{where}.blob")
    metadata = (
        jsonvalue.parse_object(e.metadata_json, f"{where}.metadata_json", max_bytes=MAX_METADATA_BYTES)
        if e.metadata_json
        else {}
    )
    _check_limits(e.type, blob, metadata, where)
    return MediaEntry(e.key, e.step, e.index, e.type, blob, metadata)


def _check_limits(kind: int, blob: Digest, metadata: dict[str, Any], where: str) -> None:
    if kind == media_pb2.MEDIA_TYPE_IMAGE and blob.size > MAX_IMAGE_BYTES:
        raise InvalidArgument(
            f"{where}.blob.size", Reason.TOO_LARGE, f"an image may hold at most {MAX_IMAGE_BYTES} bytes"
        )
    if kind == media_pb2.MEDIA_TYPE_TABLE:
        rows, columns = metadata.get("rows"), metadata.get("columns")
        if not isinstance(rows, int) or not isinstance(columns, list) or rows < 0:
            raise InvalidArgument(
                f"{where}.metadata_json", Reason.FIELD_REQUIRED, "a table's metadata needs rows and columns"
            )
        if rows * max(1, len(columns)) > MAX_TABLE_CELLS:
            raise InvalidArgument(
                f"{where}.metadata_json",
                Reason.TOO_LARGE,
                f"a table may hold at most {MAX_TABLE_CELLS} cells",
            )
