"""Wiring of the query service."""

from __future__ import annotations

import grpc
from strata.query.v1 import query_service_pb2_grpc

from ..common.server import Deps, ServiceSpec
from .handlers import QueryServiceHandlers


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = QueryServiceHandlers(deps)
    query_service_pb2_grpc.add_QueryServiceServicer_to_server(servicer, server)
    return servicer


SPEC = ServiceSpec(name="query", full_name="strata.query.v1.QueryService", register=register)
