"""gRPC handlers of the ingest service: proto <-> domain, nothing else.

Runs and the metric stream live in handlers_runs.py (issue 3); RPCs not built yet answer UNIMPLEMENTED.
"""

from __future__ import annotations

from strata.ingest.v1 import ingest_service_pb2, ingest_service_pb2_grpc

from ..common.deps import Deps
from ..common.pending import fill_pending
from .handlers_runs import RunHandlers
from .handlers_upload import UploadHandlers


@fill_pending(
    ingest_service_pb2.DESCRIPTOR.services_by_name["IngestService"],
    "issue 4 (uploads)",
)
class _PendingIngest(ingest_service_pb2_grpc.IngestServiceServicer):
    """Every RPC answers UNIMPLEMENTED unless a mixin before it in the MRO defines it."""


class IngestServiceHandlers(RunHandlers, UploadHandlers, _PendingIngest):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
