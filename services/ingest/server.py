"""Wiring of the ingest service."""

from __future__ import annotations

import grpc
from strata.ingest.v1 import ingest_service_pb2_grpc

from ..common.server import Deps, ServiceSpec
from .handlers import IngestServiceHandlers
from .handlers_upload import expire_uploads_task, register_bulk_codecs


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = IngestServiceHandlers(deps)
    ingest_service_pb2_grpc.add_IngestServiceServicer_to_server(servicer, server)
    register_bulk_codecs(server, servicer)
    return servicer


SPEC = ServiceSpec(
    name="ingest",
    full_name="strata.ingest.v1.IngestService",
    register=register,
    background=(expire_uploads_task,),
)
