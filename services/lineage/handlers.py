"""gRPC handlers of the lineage service: proto <-> domain, nothing else."""

from __future__ import annotations

from strata.lineage.v1 import lineage_service_pb2, lineage_service_pb2_grpc

from ..common.pending import fill_pending
from ..common.server import Deps


@fill_pending(lineage_service_pb2.DESCRIPTOR.services_by_name["LineageService"], "issue 6 (lineage)")
class LineageServiceHandlers(lineage_service_pb2_grpc.LineageServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
