"""Wiring of the registry service: the handlers, the alias listener (WatchAlias across replicas) and the
periodic TTL-expiry + garbage-collection pass (STRATA_GC_INTERVAL; one replica per pass)."""

from __future__ import annotations

import grpc
from strata.registry.v1 import registry_service_pb2 as pb
from strata.registry.v1 import registry_service_pb2_grpc

from ..common.background import every
from ..common.deps import Deps
from ..common.encoded import serve_encoded_stream
from ..common.server import ServiceSpec
from .aliases.watch import hub_of
from .gc import domain as gc
from .handlers import RegistryServiceHandlers

FULL_NAME = "strata.registry.v1.RegistryService"


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = RegistryServiceHandlers(deps)
    registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(servicer, server)
    # ReadBlob's responses are encoded by the handler (strata.wire.transfer: one copy less per message)
    serve_encoded_stream(server, FULL_NAME, "ReadBlob", servicer.ReadBlob, pb.ReadBlobRequest)
    return servicer


async def alias_listener(deps: Deps) -> None:
    await hub_of(deps).run(deps)


async def _gc_pass(deps: Deps) -> object:
    report = await gc.run_pass(deps)
    changed = report.expired_versions or report.expired_drafts or report.deleted_blobs
    return report.__dict__ if changed else None


gc_task = every(lambda deps: deps.settings.gc_interval, "registry_gc", _gc_pass)

SPEC = ServiceSpec(
    name="registry",
    full_name=FULL_NAME,
    register=register,
    background=(alias_listener, gc_task),
)
