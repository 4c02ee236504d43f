"""Wiring of the registry service."""

from __future__ import annotations

import grpc
from strata.registry.v1 import registry_service_pb2_grpc

from ..common.server import Deps, ServiceSpec
from .handlers import RegistryServiceHandlers
from .handlers_blob import register_blob_codecs


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = RegistryServiceHandlers(deps)
    registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(servicer, server)
    register_blob_codecs(server, servicer)
    return servicer


SPEC = ServiceSpec(name="registry", full_name="strata.registry.v1.RegistryService", register=register)
