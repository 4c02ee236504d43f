"""Wiring of the ingest service."""

from __future__ import annotations

import grpc
from strata.ingest.v1 import ingest_service_pb2_grpc

from ..common.background import every
from ..common.deps import Deps
from ..common.server import ServiceSpec
from . import domain_runs
from .handlers import IngestServiceHandlers
from .handlers_upload import expire_uploads_task, register_bulk_codecs


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = IngestServiceHandlers(deps)
    ingest_service_pb2_grpc.add_IngestServiceServicer_to_server(servicer, server)
    register_bulk_codecs(server, servicer)
    return servicer


def _crash_check_interval(deps: Deps) -> float:
    """Check often enough that a run is marked crashed within ~1.25x the timeout."""
    return min(30.0, max(0.2, deps.settings.run_crash_timeout / 4))


async def _detect_crashed(deps: Deps) -> int:
    return await domain_runs.detect_crashed(deps.pool, deps.settings.run_crash_timeout)


SPEC = ServiceSpec(
    name="ingest",
    full_name="strata.ingest.v1.IngestService",
    register=register,
    background=(
        every(_crash_check_interval, "run-crash-detection", _detect_crashed),
        expire_uploads_task,
    ),
)
