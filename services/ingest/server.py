"""Wiring of the ingest service: the servicer, the bulk codecs, and the background passes."""

from __future__ import annotations

import grpc
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import ingest_service_pb2_grpc
from strata.wire.transfer import decode_upload_chunks_request

from ..common.background import every
from ..common.deps import Deps
from ..common.server import ServiceSpec
from .handlers import IngestServiceHandlers
from .metrics.group import stop_committers
from .runs.domain import detect_crashed
from .uploads.domain import uploads_of

FULL_NAME = "strata.ingest.v1.IngestService"


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = IngestServiceHandlers(deps)
    ingest_service_pb2_grpc.add_IngestServiceServicer_to_server(servicer, server)
    register_bulk_codecs(server, servicer)
    return servicer


def register_bulk_codecs(server: grpc.aio.Server, servicer: IngestServiceHandlers) -> None:
    """Serve UploadChunks and ReadRunFile with the hand-rolled codecs of strata.wire.transfer (same
    wire format, fewer copies of the payload). Registered after the generated handlers, which they
    replace (registered method handlers take precedence, the last registration wins)."""
    server.add_registered_method_handlers(
        FULL_NAME,
        {
            "UploadChunks": grpc.stream_unary_rpc_method_handler(
                servicer.UploadChunks,
                request_deserializer=decode_upload_chunks_request,
                response_serializer=pb.UploadChunksResponse.SerializeToString,
            ),
            "ReadRunFile": grpc.unary_stream_rpc_method_handler(
                servicer.ReadRunFile,
                request_deserializer=pb.ReadRunFileRequest.FromString,
                response_serializer=None,
            ),
        },
    )


def _crash_check_interval(deps: Deps) -> float:
    """Check often enough that a run is marked crashed within ~1.25x the timeout."""
    return min(30.0, max(0.2, deps.settings.run_crash_timeout / 4))


def _upload_expiry_interval(deps: Deps) -> float:
    return min(60.0, max(0.5, deps.settings.upload_expiry / 4))


async def _expire_uploads(deps: Deps) -> dict[str, int]:
    """Expire idle sessions and delete their parts (STRATA_UPLOAD_EXPIRY)."""
    return await uploads_of(deps).expire_pass()


SPEC = ServiceSpec(
    name="ingest",
    full_name=FULL_NAME,
    register=register,
    background=(
        every(_crash_check_interval, "run-crash-detection", detect_crashed),
        every(_upload_expiry_interval, "upload_expiry", _expire_uploads),
        stop_committers,
    ),
)
