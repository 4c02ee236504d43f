"""gRPC handlers of the query service: proto <-> domain, nothing else."""

from __future__ import annotations

from strata.query.v1 import query_service_pb2, query_service_pb2_grpc

from ..common.pending import fill_pending
from ..common.server import Deps


@fill_pending(query_service_pb2.DESCRIPTOR.services_by_name["QueryService"], "issue 7 (query)")
class QueryServiceHandlers(query_service_pb2_grpc.QueryServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
