"""gRPC handlers of the registry service: proto <-> domain, nothing else."""

from __future__ import annotations

from strata.registry.v1 import registry_service_pb2, registry_service_pb2_grpc

from ..common.pending import fill_pending
from ..common.server import Deps
from .handlers_blob import BlobReadHandlers


@fill_pending(
    registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"],
    "issue 5 (registry) / issue 4 (downloads)",
)
class RegistryServiceHandlers(BlobReadHandlers, registry_service_pb2_grpc.RegistryServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
