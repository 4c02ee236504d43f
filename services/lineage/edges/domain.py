"""Retroactive lineage links (CreateLineageEdge): record that a run produced or used a version after
the fact, e.g. linking an artifact to a run that already finished (in W&B such links did not show in
the graph; here they are ordinary edges).

The registry records the usual edges itself, in the same transaction as CommitArtifactVersion (with a
producer run: PRODUCED) and UseArtifactVersion (USED). This path writes the same table the same way:
once per (run, version, kind), so repeating a call changes nothing and reports `existed`.
A version has at most one producer: linking a second one is FAILED_PRECONDITION (PRODUCER_CONFLICT).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...common import audit
from ...common.auth.policy import Access
from ...common.errors import FailedPrecondition, InvalidArgument, Reason
from ...common.names import parse_run
from ..model import Edge, EdgeKind, NodeKind, VersionState
from ..nodes.domain import Caller, Reader, Resolved, resolve, resolve_version, snapshot
from . import store


@dataclass(frozen=True)
class Link:
    edge: Edge
    existed: bool
    run: str  # resource names
    version: str


def edge_kind(value: int) -> EdgeKind:
    if value == 0:
        raise InvalidArgument("kind", Reason.FIELD_REQUIRED, "kind is required (PRODUCED or USED)")
    if value not in (EdgeKind.PRODUCED, EdgeKind.USED):
        raise InvalidArgument("kind", Reason.OUT_OF_RANGE, f"unknown edge kind {value}")
    return EdgeKind(value)


async def link(caller: Caller, run_value: str, version_value: str, kind_value: int) -> Link:
    """Record (run, version, kind) once, in one read-write transaction."""
    kind = edge_kind(kind_value)
    async with snapshot(caller, write=True) as reader:
        return await _link(reader, caller, run_value, version_value, kind)


async def _link(reader: Reader, caller: Caller, run_value: str, version_value: str, kind: EdgeKind) -> Link:
    run = await resolve(reader, str(parse_run(run_value, "run")), "run")
    version = await resolve_version(reader, version_value, "version")
    assert run.key[0] is NodeKind.RUN and version.key[0] is NodeKind.VERSION
    run_id, version_id = run.key[1], version.key[1]
    locked = await store.lock_version(reader.conn, version_id, reader.timeout)
    if locked["state"] != VersionState.COMMITTED:
        raise FailedPrecondition(Reason.VERSION_DELETED, f"{version.name} is deleted; it cannot gain edges")
    if kind is EdgeKind.PRODUCED:
        project = "/".join(version.name.split("/")[:4])
        await caller.authorizer.require(caller.principal, Access.PROJECT_WRITE, project)
        await _check_single_producer(reader, version, run_id, locked["producer_run_id"])
    create_time, existed = await store.insert_edge(reader.conn, run_id, version_id, kind, reader.timeout)
    if kind is EdgeKind.PRODUCED:
        await store.set_producer_if_unset(reader.conn, version_id, run_id, reader.timeout)
    if not existed:
        await audit.record(
            reader.conn,
            "lineage.link",
            target=version.name,
            project_id=run.project_id,
            after={"run": run.name, "version": version.name, "kind": kind.name.lower()},
        )
    return Link(Edge(run_id, version_id, kind, create_time), existed, run.name, version.name)


async def _check_single_producer(
    reader: Reader, version: Resolved, run_id: int, producer_run_id: int | None
) -> None:
    producers = set(await store.producer_runs(reader.conn, version.key[1], reader.timeout))
    if producer_run_id is not None:
        producers.add(producer_run_id)
    if producers - {run_id}:
        raise FailedPrecondition(
            Reason.PRODUCER_CONFLICT, f"{version.name} was already produced by another run"
        )
