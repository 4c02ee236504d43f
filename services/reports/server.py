"""Wiring of the reports service: the gRPC handlers."""

from __future__ import annotations

import grpc
from strata.reports.v1 import reports_service_pb2_grpc

from ..common.deps import Deps
from ..common.server import ServiceSpec
from .handlers import ReportsServiceHandlers

FULL_NAME = "strata.reports.v1.ReportsService"


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = ReportsServiceHandlers(deps)
    reports_service_pb2_grpc.add_ReportsServiceServicer_to_server(servicer, server)
    return servicer


SPEC = ServiceSpec(name="reports", full_name=FULL_NAME, register=register)
