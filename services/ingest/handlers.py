"""gRPC handlers of the ingest service: proto <-> domain, nothing else."""

from __future__ import annotations

from strata.ingest.v1 import ingest_service_pb2, ingest_service_pb2_grpc

from ..common.pending import fill_pending
from ..common.server import Deps
from .handlers_upload import UploadHandlers


@fill_pending(
    ingest_service_pb2.DESCRIPTOR.services_by_name["IngestService"],
    "issue 3 (runs and metrics) / issue 4 (uploads)",
)
class IngestServiceHandlers(UploadHandlers, ingest_service_pb2_grpc.IngestServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
