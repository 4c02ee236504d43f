"""Wiring of the query service: the gRPC handlers and the history rollup job."""

from __future__ import annotations

import grpc
from strata.query.v1 import query_service_pb2_grpc

from ..common.background import every
from ..common.deps import Deps
from ..common.server import ServiceSpec
from .handlers import QueryServiceHandlers
from .history.rollup import rollup_pass


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = QueryServiceHandlers(deps)
    query_service_pb2_grpc.add_QueryServiceServicer_to_server(servicer, server)
    return servicer


SPEC = ServiceSpec(
    name="query",
    full_name="strata.query.v1.QueryService",
    register=register,
    background=(every(lambda deps: deps.settings.rollup_interval, "query_rollup", rollup_pass),),
)
