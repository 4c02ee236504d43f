"""Wiring of the lineage service."""

from __future__ import annotations

import grpc
from strata.lineage.v1 import lineage_service_pb2_grpc

from ..common.deps import Deps
from ..common.server import ServiceSpec
from .handlers import LineageServiceHandlers


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = LineageServiceHandlers(deps)
    lineage_service_pb2_grpc.add_LineageServiceServicer_to_server(servicer, server)
    return servicer


SPEC = ServiceSpec(name="lineage", full_name="strata.lineage.v1.LineageService", register=register)
