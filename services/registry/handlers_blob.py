"""gRPC handlers of ReadBlob and BatchReadBlobs (proto <-> domain): a mixin of RegistryServiceHandlers (handlers.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from strata.common.v1 import blob_pb2
from strata.registry.v1 import registry_service_pb2 as pb
from strata.wire.transfer import encode_read_response

from ..common.db import timeout_from
from .domain_blob import read_blob, read_blobs


class BlobReadHandlers:
    deps: object

    async def ReadBlob(
        self, request: pb.ReadBlobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        """Yields encoded ReadBlobResponse messages (see register_blob_codecs)."""
        async for offset, data in read_blob(
            self.deps, request.version, request.sha256, request.offset, request.length, timeout_from(context)
        ):
            yield encode_read_response(offset, data)

    async def BatchReadBlobs(
        self, request: pb.BatchReadBlobsRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchReadBlobsResponse:
        blobs = await read_blobs(self.deps, request.version, list(request.sha256s), timeout_from(context))
        return pb.BatchReadBlobsResponse(
            blobs=[
                pb.BlobContent(digest=blob_pb2.BlobDigest(sha256=sha, size=size), data=data)
                for sha, size, data in blobs
            ]
        )


def register_blob_codecs(server: grpc.aio.Server, servicer: BlobReadHandlers) -> None:
    """Serve ReadBlob with the hand-rolled encoder of strata._transfer_wire (same wire format, one
    copy less per message); replaces the generated handler (registered after it, which wins)."""
    server.add_registered_method_handlers(
        "strata.registry.v1.RegistryService",
        {
            "ReadBlob": grpc.unary_stream_rpc_method_handler(
                servicer.ReadBlob,
                request_deserializer=pb.ReadBlobRequest.FromString,
                response_serializer=None,
            )
        },
    )
