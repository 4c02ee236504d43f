"""Wiring of the iam service."""

from __future__ import annotations

import grpc
from strata.iam.v1 import iam_service_pb2_grpc

from ..common.deps import Deps
from ..common.server import ServiceSpec
from .handlers import IamServiceHandlers


def register(server: grpc.aio.Server, deps: Deps) -> object:
    servicer = IamServiceHandlers(deps)
    iam_service_pb2_grpc.add_IamServiceServicer_to_server(servicer, server)
    return servicer


SPEC = ServiceSpec(name="iam", full_name="strata.iam.v1.IamService", register=register)
