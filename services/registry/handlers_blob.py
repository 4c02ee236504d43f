"""gRPC handler of ReadBlob (proto <-> domain): a mixin of RegistryServiceHandlers (handlers.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from strata.registry.v1 import registry_service_pb2 as pb

from ..common.db import timeout_from
from .domain_blob import read_blob


class BlobReadHandlers:
    deps: object

    async def ReadBlob(
        self, request: pb.ReadBlobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ReadBlobResponse]:
        async for offset, data in read_blob(
            self.deps, request.version, request.sha256, request.offset, request.length, timeout_from(context)
        ):
            yield pb.ReadBlobResponse(offset=offset, data=data)
