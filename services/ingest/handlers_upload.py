"""gRPC handlers of uploads, blobs and run files (proto <-> domain, nothing else).

A mixin of IngestServiceHandlers (handlers.py), kept in its own module so the runs/metrics handlers
and these evolve independently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from strata.common.v1 import blob_pb2
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2
from strata.wire.transfer import decode_upload_chunks_request, encode_read_response

from ..common.background import every
from ..common.context import current_principal
from ..common.db import timeout_from
from ..common.errors import InvalidArgument, Reason
from ..common.names import parse_child, parse_project, parse_run
from ..common.runs import ts
from .domain_blobs import BlobAccess, Challenge, Proof
from .domain_run_files import RunFiles, RunFileView
from .domain_upload import Digest, SessionView, uploads_of
from .upload_stream import Chunk


def _digest(d: blob_pb2.BlobDigest) -> Digest:
    return Digest(d.sha256, d.size)


def _digest_pb(d: Digest) -> blob_pb2.BlobDigest:
    return blob_pb2.BlobDigest(sha256=d.sha256, size=d.size)


def _session_pb(v: SessionView) -> upload_pb2.UploadSession:
    msg = upload_pb2.UploadSession(
        name=v.name,
        expected_size=v.expected_size,
        expected_sha256=v.expected_sha256,
        committed_offset=v.committed_offset,
        max_chunk_size=v.max_chunk_size,
        state=v.state,  # type: ignore[arg-type]
        create_time=ts(v.create_time),
        expire_time=ts(v.expire_time),
    )
    if v.blob is not None:
        msg.blob.CopyFrom(_digest_pb(v.blob))
    return msg


def _challenge_pb(c: Challenge) -> upload_pb2.PossessionChallenge:
    return upload_pb2.PossessionChallenge(
        digest=_digest_pb(c.digest),
        nonce=c.nonce,
        ranges=[upload_pb2.ByteRange(offset=o, length=n) for o, n in c.ranges],
        expire_time=ts(c.expire_time),
    )


def _run_file_pb(f: RunFileView) -> upload_pb2.RunFile:
    return upload_pb2.RunFile(path=f.path, blob=_digest_pb(f.blob), create_time=ts(f.create_time))


async def _chunks(requests: AsyncIterator[pb.UploadChunksRequest]) -> AsyncIterator[Chunk]:
    async for req in requests:
        if req.WhichOneof("kind") != "chunk":
            raise InvalidArgument(
                "chunk", Reason.FIELD_REQUIRED, "only the first message may name the session"
            )
        yield Chunk(req.chunk.offset, req.chunk.data, req.chunk.crc32c)


class UploadHandlers:
    """FindMissingBlobs, ProveBlobPossession, BatchUploadBlobs, upload sessions and run files."""

    deps: object

    async def FindMissingBlobs(
        self, request: pb.FindMissingBlobsRequest, context: grpc.aio.ServicerContext
    ) -> pb.FindMissingBlobsResponse:
        parent = parse_project(request.parent, "parent")
        missing, challenges = await BlobAccess(self.deps, timeout_from(context)).find_missing(
            current_principal(), parent, [_digest(d) for d in request.digests]
        )
        return pb.FindMissingBlobsResponse(
            missing=[_digest_pb(d) for d in missing], challenges=[_challenge_pb(c) for c in challenges]
        )

    async def ProveBlobPossession(
        self, request: pb.ProveBlobPossessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ProveBlobPossessionResponse:
        parent = parse_project(request.parent, "parent")
        proofs = [Proof(_digest(p.digest), p.nonce, p.proof_sha256) for p in request.proofs]
        accepted, rejected = await BlobAccess(self.deps, timeout_from(context)).prove(
            current_principal(), parent, proofs
        )
        return pb.ProveBlobPossessionResponse(
            accepted=[_digest_pb(d) for d in accepted], rejected=[_digest_pb(d) for d in rejected]
        )

    async def BatchUploadBlobs(
        self, request: pb.BatchUploadBlobsRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchUploadBlobsResponse:
        parent = parse_project(request.parent, "parent")
        blobs = [(_digest(b.digest), b.data) for b in request.blobs]
        stored = await BlobAccess(self.deps, timeout_from(context)).batch_upload(
            current_principal(), parent, blobs, request.ByteSize()
        )
        return pb.BatchUploadBlobsResponse(stored=[_digest_pb(d) for d in stored])

    async def CreateUploadSession(
        self, request: pb.CreateUploadSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateUploadSessionResponse:
        parent = parse_project(request.parent, "parent")
        view = await uploads_of(self.deps).create(
            current_principal(), parent, request.expected_size, request.expected_sha256
        )
        return pb.CreateUploadSessionResponse(session=_session_pb(view))

    async def GetUploadSession(
        self, request: pb.GetUploadSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUploadSessionResponse:
        name = parse_child(request.name, "uploads", "name")
        return pb.GetUploadSessionResponse(
            session=_session_pb(await uploads_of(self.deps).get(current_principal(), name))
        )

    async def UploadChunks(
        self, request_iterator: AsyncIterator[pb.UploadChunksRequest], context: grpc.aio.ServicerContext
    ) -> pb.UploadChunksResponse:
        first = await anext(request_iterator.__aiter__(), None)
        if first is None or first.WhichOneof("kind") != "session":
            raise InvalidArgument("session", Reason.FIELD_REQUIRED, "the first message must name the session")
        name = parse_child(first.session, "uploads", "session")
        view = await uploads_of(self.deps).stream(current_principal(), name, _chunks(request_iterator))
        return pb.UploadChunksResponse(session=_session_pb(view))

    async def CommitUpload(
        self, request: pb.CommitUploadRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommitUploadResponse:
        name = parse_child(request.name, "uploads", "name")
        view, digest = await uploads_of(self.deps).commit(current_principal(), name, request.sha256)
        return pb.CommitUploadResponse(session=_session_pb(view), blob=_digest_pb(digest))

    async def AbortUpload(
        self, request: pb.AbortUploadRequest, context: grpc.aio.ServicerContext
    ) -> pb.AbortUploadResponse:
        name = parse_child(request.name, "uploads", "name")
        await uploads_of(self.deps).abort(current_principal(), name)
        return pb.AbortUploadResponse()

    async def AddRunFiles(
        self, request: pb.AddRunFilesRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddRunFilesResponse:
        run = parse_run(request.run, "run")
        files = [RunFileView(f.path, _digest(f.blob)) for f in request.files]
        added = await RunFiles(self.deps, timeout_from(context)).add(run, files)
        return pb.AddRunFilesResponse(files=[_run_file_pb(f) for f in added])

    async def ListRunFiles(
        self, request: pb.ListRunFilesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRunFilesResponse:
        run = parse_run(request.run, "run")
        files, token = await RunFiles(self.deps, timeout_from(context)).list(
            run, request.page_size, request.page_token
        )
        return pb.ListRunFilesResponse(files=[_run_file_pb(f) for f in files], next_page_token=token)

    async def ReadRunFile(
        self, request: pb.ReadRunFileRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        """Yields encoded ReadRunFileResponse messages (see register_bulk_codecs)."""
        run = parse_run(request.run, "run")
        async for offset, data in RunFiles(self.deps, timeout_from(context)).read(
            run, request.path, request.offset, request.length
        ):
            yield encode_read_response(offset, data)


def register_bulk_codecs(server: grpc.aio.Server, servicer: UploadHandlers) -> None:
    """Serve UploadChunks and ReadRunFile with the hand-rolled codecs of strata._transfer_wire (same
    wire format, fewer copies of the payload). Registered after the generated handlers, which they
    replace (registered method handlers take precedence, the last registration wins)."""
    server.add_registered_method_handlers(
        "strata.ingest.v1.IngestService",
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


async def _expire_uploads(deps) -> object:  # type: ignore[no-untyped-def]
    return await uploads_of(deps).expire_pass()


# Background task: expire idle sessions and delete their parts (STRATA_UPLOAD_EXPIRY).
expire_uploads_task = every(
    lambda deps: min(60.0, max(0.5, deps.settings.upload_expiry / 4)), "upload_expiry", _expire_uploads
)
