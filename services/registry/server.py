"""Wiring of the registry service: the handlers, the alias listener (WatchAlias across replicas) and the
periodic TTL-expiry + garbage-collection pass (STRATA_GC_INTERVAL; one replica per pass)."""

from __future__ import annotations

import grpc
from strata.registry.v1 import registry_service_pb2_grpc

from ..common.background import every
from ..common.deps import Deps
from ..common.server import ServiceSpec
from . import domain_gc
from .domain_watch import AliasHub
from .handlers import RegistryServiceHandlers
from .handlers_blob import register_blob_codecs

HUB_KEY = "registry.alias_hub"


def hub_of(deps: Deps) -> AliasHub:
    hub = deps.extras.get(HUB_KEY)
    if hub is None:
        hub = deps.extras[HUB_KEY] = AliasHub()
    return hub  # type: ignore[return-value]


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = RegistryServiceHandlers(deps, hub_of(deps))
    registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(servicer, server)
    register_blob_codecs(server, servicer)
    return servicer


async def alias_listener(deps: Deps) -> None:
    await hub_of(deps).run(deps)


async def _gc_pass(deps: object) -> object:
    report = await domain_gc.run_pass(deps)  # type: ignore[arg-type]
    changed = report.expired_versions or report.expired_drafts or report.deleted_blobs
    return report.__dict__ if changed else None


gc_task = every(lambda deps: deps.settings.gc_interval, "registry_gc", _gc_pass)  # type: ignore[attr-defined]

SPEC = ServiceSpec(
    name="registry",
    full_name="strata.registry.v1.RegistryService",
    register=register,
    background=(alias_listener, gc_task),
)
