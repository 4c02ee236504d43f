"""Runs: create / resume / update / finish / heartbeat, and the crashed-run background pass.

No gRPC and no SQL here: handlers give plain values (NewRun, RunUpdate), runs/store.py does the SQL.
Every mutation writes its audit record in the same transaction (run.create, run.resume, run.update,
run.finish, run.crash).
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from ...common import audit, jsonvalue
from ...common import text as textcheck
from ...common.context import current_principal
from ...common.db import DEFAULT_TIMEOUT, Conn
from ...common.deps import Deps
from ...common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Reason
from ...common.names import RUN_ID_RE, ProjectName, RunName, check
from ...common.projects import ensure_project
from ..metrics.domain import set_summary_overrides
from ..metrics.limits import check_key
from . import store
from .limits import (
    MAX_CONFIG_BYTES,
    MAX_DISPLAY_NAME,
    MAX_GROUP,
    MAX_JOB_TYPE,
    MAX_NOTES_BYTES,
    MAX_SUMMARY_OVERRIDES,
    MAX_TAG,
    MAX_TAGS,
)
from .states import CRASHED, KILLED, RESUME_MUST, RESUME_NEVER, RESUME_UNSPECIFIED, RUNNING, TERMINAL

UPDATABLE = frozenset({"display_name", "tags", "notes", "config_json", "summary"})

_ADJECTIVES = "amber brisk calm daring eager fancy gentle hardy jolly keen lively mellow noble proud quiet rapid sunny tidy vivid witty".split()
_NOUNS = "badger cedar comet delta ember falcon glacier harbor island juniper lagoon meadow nebula orchid pine quartz river summit tundra willow".split()


@dataclass(frozen=True)
class NewRun:
    project: ProjectName
    run_id: str = ""
    display_name: str = ""
    job_type: str = ""
    group: str = ""
    tags: tuple[str, ...] = ()
    notes: str = ""
    config_json: str = ""
    resume: int = RESUME_UNSPECIFIED
    allow_out_of_order: bool = False
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunUpdate:
    run: RunName
    paths: frozenset[str]
    display_name: str = ""
    tags: tuple[str, ...] = ()
    notes: str = ""
    config_json: str = ""
    overrides: tuple[tuple[str, str], ...] = ()  # (key, override JSON; "null" clears)


LoadedRun = tuple[asyncpg.Record, list[Any]]  # the run row and its metric summaries


# --- validation ---


def _limit(value: str, limit: int, name: str) -> str:
    if len(value) > limit:
        raise InvalidArgument(name, Reason.OUT_OF_RANGE, f"{name} is longer than {limit} characters")
    return textcheck.check(value, name, limit)


def check_tags(tags: tuple[str, ...], name: str = "tags") -> tuple[str, ...]:
    if len(tags) > MAX_TAGS:
        raise InvalidArgument(name, Reason.OUT_OF_RANGE, f"at most {MAX_TAGS} tags")
    for tag in tags:
        if not tag or len(tag) > MAX_TAG or not tag.isprintable():
            raise InvalidArgument(name, Reason.INVALID_NAME, f"a tag is 1..{MAX_TAG} printable characters")
    return tuple(dict.fromkeys(tags))  # de-duplicated, order kept


def parse_config(text: str, name: str = "config_json") -> dict[str, Any]:
    """A config JSON object (empty means {}), checked by common/jsonvalue.py."""
    if not text:
        return {}
    return jsonvalue.parse_object(text, name, max_bytes=MAX_CONFIG_BYTES)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def validate_new_run(spec: NewRun) -> dict[str, Any]:
    if spec.run_id:
        check(spec.run_id, RUN_ID_RE, "run_id", "run id")
    elif spec.resume == RESUME_MUST:
        raise InvalidArgument("run_id", Reason.FIELD_REQUIRED, 'resume="must" needs a run id')
    textcheck.check_bytes(spec.notes, "notes", MAX_NOTES_BYTES)
    principal = current_principal()
    return {
        "run_id": spec.run_id or generate_run_id(),
        "display_name": _limit(spec.display_name, MAX_DISPLAY_NAME, "display_name")
        or generate_display_name(),
        "job_type": _limit(spec.job_type, MAX_JOB_TYPE, "job_type"),
        "group": _limit(spec.group, MAX_GROUP, "group"),
        "tags": list(check_tags(spec.tags)),
        "notes": spec.notes,
        "config": json.dumps(parse_config(spec.config_json)),
        "author_name": principal.name,
        "author_kind": principal.kind,
        "provenance": spec.provenance,
        "allow_out_of_order": spec.allow_out_of_order,
    }


def generate_run_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))


def generate_display_name() -> str:
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"


# --- operations ---


async def create_run(
    deps: Deps, spec: NewRun, timeout: float = DEFAULT_TIMEOUT
) -> tuple[asyncpg.Record, list[Any], bool]:
    """Create or resume a run. Returns (run row, summaries, resumed). In open-local mode the
    project's entity is created on first use."""
    values = validate_new_run(spec)
    create_entity = deps.authorizer.mode == "open-local"
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        project = await ensure_project(conn, spec.project, create_entity=create_entity)
        for _ in range(2):  # a concurrent create of the same id turns the second attempt into a resume
            existing = await store.lock_run(conn, project.id, values["run_id"])
            if existing is not None:
                await _resume(conn, spec, existing, project.id)
                return await _load(conn, existing["id"]) + (True,)
            if spec.resume == RESUME_MUST:
                name = f"{spec.project}/runs/{values['run_id']}"
                raise NotFound("run", name, reason=Reason.RUN_NOT_FOUND_FOR_RESUME)
            run_pk = await store.insert_run(conn, project.id, values)
            if run_pk is not None:
                after = {k: values[k] for k in ("run_id", "display_name", "job_type", "group", "tags")}
                await audit.record(
                    conn,
                    "run.create",
                    target=f"{spec.project}/runs/{values['run_id']}",
                    project_id=project.id,
                    after=after,
                )
                return await _load(conn, run_pk) + (False,)
        raise AlreadyExists(Reason.RUN_ALREADY_EXISTS, "run id was taken concurrently; retry")


async def _resume(conn: Conn, spec: NewRun, existing: asyncpg.Record, project_id: int) -> None:
    name = f"{spec.project}/runs/{spec.run_id}"
    if spec.resume in (RESUME_UNSPECIFIED, RESUME_NEVER):
        raise AlreadyExists(Reason.RUN_ALREADY_EXISTS, f"run {name!r} already exists (resume='never')")
    config = None
    if spec.config_json:
        config = json.dumps(merge_patch(json.loads(existing["config"]), parse_config(spec.config_json)))
    await store.resume_run(conn, existing["id"], config)
    await audit.record(
        conn,
        "run.resume",
        target=name,
        project_id=project_id,
        before={"state": existing["state"]},
        after={"state": RUNNING},
    )


async def _load(conn: Conn, run_pk: int) -> LoadedRun:
    return await store.fetch_run_by_id(conn, run_pk), await store.summaries(conn, run_pk)


async def get_run(deps: Deps, name: RunName, timeout: float = DEFAULT_TIMEOUT) -> LoadedRun:
    async with deps.pool.acquire(timeout=timeout) as conn:
        row = await store.fetch_run(conn, name.project.entity, name.project.project, name.run_id)
        if row is None:
            raise NotFound("run", str(name))
        return row, await store.summaries(conn, row["id"])


async def _locked(conn: Conn, name: RunName, *, editable: bool = False) -> asyncpg.Record:
    row = await store.lock_run_by_name(
        conn, name.project.entity, name.project.project, name.run_id, editable=editable
    )
    if row is None:
        raise NotFound("run", str(name))
    return row


async def update_run(deps: Deps, upd: RunUpdate, timeout: float = DEFAULT_TIMEOUT) -> LoadedRun:
    if not upd.paths:
        raise InvalidArgument("update_mask", Reason.FIELD_REQUIRED, "update_mask is required")
    unknown = sorted(upd.paths - UPDATABLE)
    if unknown:
        raise InvalidArgument("update_mask", Reason.INVALID_UPDATE_MASK, f"cannot update {unknown}")
    fields: dict[str, Any] = {}
    if "display_name" in upd.paths:
        fields["display_name"] = _limit(upd.display_name, MAX_DISPLAY_NAME, "run.display_name")
    if "tags" in upd.paths:
        fields["tags"] = list(check_tags(upd.tags, "run.tags"))
    if "notes" in upd.paths:
        fields["notes"] = textcheck.check_bytes(upd.notes, "run.notes", MAX_NOTES_BYTES)
    patch = parse_config(upd.config_json, "run.config_json") if "config_json" in upd.paths else None
    overrides = _check_overrides(upd.overrides) if "summary" in upd.paths else []
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        row = await _locked(conn, upd.run, editable=True)
        before: dict[str, Any] = {
            k: (list(row[k]) if k == "tags" else row[k])
            for k in ("display_name", "tags", "notes")
            if k in fields
        }
        if patch is not None:
            before["config"] = json.loads(row["config"])
            fields["config"] = json.dumps(merge_patch(before["config"], patch))
        await store.update_fields(conn, row["id"], fields)
        await set_summary_overrides(conn, row["id"], overrides)
        after = {k: (json.loads(v) if k == "config" else v) for k, v in fields.items()}
        if overrides:
            after["summary_overrides"] = {k: json.loads(v) if v else None for k, v in overrides}
        await audit.record(
            conn, "run.update", target=str(upd.run), project_id=row["project_id"], before=before, after=after
        )
        return await _load(conn, row["id"])


def _check_overrides(overrides: tuple[tuple[str, str], ...]) -> list[tuple[str, str | None]]:
    if len(overrides) > MAX_SUMMARY_OVERRIDES:
        raise InvalidArgument(
            "run.summary", Reason.TOO_LARGE, f"at most {MAX_SUMMARY_OVERRIDES} summary overrides per update"
        )
    out: list[tuple[str, str | None]] = []
    for i, (key, text) in enumerate(overrides):
        check_key(key, f"run.summary[{i}].key")
        field = f"run.summary[{i}].override_json"
        value = jsonvalue.parse(text, field, max_bytes=MAX_CONFIG_BYTES) if text else None
        out.append((key, None if value is None else json.dumps(value)))
    return out


async def finish_run(
    deps: Deps, name: RunName, state: int, exit_code: int, timeout: float = DEFAULT_TIMEOUT
) -> LoadedRun:
    if state not in TERMINAL:
        raise InvalidArgument("state", Reason.OUT_OF_RANGE, "state must be FINISHED, FAILED or KILLED")
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        row = await _locked(conn, name)
        if row["state"] == state and row["exit_code"] == exit_code:
            return await _load(conn, row["id"])  # idempotent: a retried FinishRun changes nothing
        if row["state"] in TERMINAL:
            raise FailedPrecondition(
                Reason.RUN_FINISHED, f"run {name} is already in terminal state {row['state']}"
            )
        await store.finish_run(conn, row["id"], state, exit_code)
        await audit.record(
            conn,
            "run.finish",
            target=str(name),
            project_id=row["project_id"],
            before={"state": row["state"]},
            after={"state": state, "exit_code": exit_code},
        )
        return await _load(conn, row["id"])


async def heartbeat(deps: Deps, name: RunName, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Record a sign of life; True means the client should stop (the run was killed)."""
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        row = await _locked(conn, name)
        if row["state"] == KILLED:
            return True
        if row["state"] in TERMINAL:
            raise FailedPrecondition(Reason.RUN_FINISHED, f"run {name} is finished")
        await store.heartbeat(conn, row["id"], revive=row["state"] == CRASHED)
        if row["state"] == CRASHED:
            await audit.record(
                conn,
                "run.resume",
                target=str(name),
                project_id=row["project_id"],
                before={"state": CRASHED},
                after={"state": RUNNING},
            )
        return False


async def detect_crashed(deps: Deps) -> int:
    """Mark running runs without a heartbeat for STRATA_RUN_CRASH_TIMEOUT as CRASHED (one transaction)."""
    async with deps.pool.acquire() as conn, conn.transaction():
        rows = await store.mark_crashed(conn, deps.settings.run_crash_timeout)
        events = [
            audit.Event(
                target=f"entities/{r['entity']}/projects/{r['project']}/runs/{r['run_id']}",
                project_id=r["project_id"],
                before={"state": RUNNING},
                after={"state": CRASHED, "last_heartbeat": r["heartbeat_time"].isoformat()},
            )
            for r in rows
        ]
        await audit.record_many(conn, "run.crash", events)
        return len(rows)
