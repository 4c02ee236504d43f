"""gRPC handlers of the iam service: proto <-> domain, nothing else."""

from __future__ import annotations

import grpc
from strata.iam.v1 import iam_service_pb2, iam_service_pb2_grpc

from ..common.context import current_principal
from ..common.pending import fill_pending
from ..common.server import Deps


@fill_pending(iam_service_pb2.DESCRIPTOR.services_by_name["IamService"], "issue 8 (teams and trust)")
class IamServiceHandlers(iam_service_pb2_grpc.IamServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def GetPrincipal(
        self, request: iam_service_pb2.GetPrincipalRequest, context: grpc.aio.ServicerContext
    ) -> iam_service_pb2.GetPrincipalResponse:
        principal = current_principal()
        return iam_service_pb2.GetPrincipalResponse(
            actor=principal.actor(), server_admin=principal.server_admin
        )
